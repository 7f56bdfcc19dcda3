"""Entry point: the `crm` group, the store it opens, and error handling for every command."""

from __future__ import annotations

import importlib
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from crm import __version__
from crm.cli.output import fail
from crm.errors import CRMError
from crm.store import Store


class Context:
    """Opens the store on first use, so `crm --help` touches no database."""

    def __init__(self) -> None:
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)

# Command name -> the crm.cli module that registers it.
_LAZY = {name: name for name in ("campaigns", "consent", "contacts", "demo", "events", "interactions", "orgs",
                                 "perception", "segments", "worker")}


class LazyGroup(click.Group):
    """Imports a command's module only when that command is run (or listed by --help): each
    module pulls in its own services, and one command should not pay for all of them
    (a quarter of a second at every start)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _LAZY and cmd_name not in self.commands:
            importlib.import_module(f"crm.cli.{_LAZY[cmd_name]}").register(self)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crm")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Cluster CRM: contacts, interactions, campaigns and indicators of an innovation cluster.

    Configuration comes from CRM_* environment variables or ./.env (see README).
    """
    context = Context()
    ctx.obj = context
    ctx.call_on_close(context.close)


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create or upgrade the database."""
    from crm import migrate
    from crm.db import make_engine
    from crm.settings import get_settings

    engine = make_engine(get_settings().database_url)
    try:
        before = migrate.current_revision(engine)
        applied = migrate.ensure_schema(engine)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    if applied:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")
    else:
        click.echo(f"database already at {after}")


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except click.UsageError as exc:
        path = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
        where = f"{path}: " if path else ""
        fail(f"{where}{exc.format_message()} (see --help)", exc.exit_code)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except CRMError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"database error: {reason}")
    except FileNotFoundError as exc:
        fail(f"{exc.filename}: no such file")
    except KeyboardInterrupt:
        fail("interrupted", 130)


if __name__ == "__main__":
    main()
