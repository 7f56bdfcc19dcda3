"""Entry point: the `crm` group, the store it opens, and error handling for every command."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

import click

from crm import __version__
from crm.cli import exits
from crm.cli.output import fail
from crm.failures import first_line, translate
from crm.store import Store

_DEBUG = [False]  # set by `crm --debug`, read when a command fails


class Context:
    """Opens the store on first use, so `crm --help` touches no database."""

    def __init__(self) -> None:
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open()
        return self._store

    def long_running(self) -> Store:
        """The start-up check of a long-running process (`crm worker`, later `crm serve` and
        `crm scheduler`): its store, on a schema already at head, or `ConfigError` (exit 78,
        "run `crm init`"). Many of them start at once, on many hosts: none may create or
        upgrade the schema, or they would race on it (Alembic takes no lock of its own). Call
        it first: `store` would create the schema of an empty database."""
        if self._store is None:
            self._store = Store.open(create_if_empty=False)
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
@click.option("--debug", is_flag=True, help="show the traceback when a command fails (or CRM_DEBUG=1)")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Cluster CRM: the contacts, organisations, interactions, events, segments and campaigns
    of an innovation cluster.

    Configuration comes from CRM_* environment variables or ./.env (see README). A failure
    prints one line on stderr and exits with 64 usage, 65 bad data, 66 no such input, 69
    service unavailable, 75 temporary failure, 78 configuration, 1 a bug, 130 interrupted,
    141 the reader of the output went away; --debug adds the traceback.
    """
    _DEBUG[0] = debug
    context = Context()
    ctx.obj = context
    ctx.call_on_close(context.close)


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create or upgrade the database.

    The only command that upgrades a database holding data (long-running processes refuse
    to start until it is done). Safe to run from several places at once: the others wait,
    then find it done."""
    from crm import migrate
    from crm.db import make_engine
    from crm.settings import get_settings

    settings = get_settings()
    engine = make_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        done = migrate.ensure_schema(engine)
    finally:
        engine.dispose()
    if done.applied:
        click.echo(f"database upgraded from {done.before or 'empty'} to {done.after}")
    else:
        click.echo(f"database already at {done.after}")


def _debugging() -> bool:
    from crm.settings import debug_requested

    return _DEBUG[0] or debug_requested()


def _exit(message: str, code: int, exc: BaseException | None = None) -> None:
    if exc is not None and _debugging():
        traceback.print_exception(exc)
    fail(message, code)


def _usage_line(exc: click.UsageError) -> str:
    path = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
    where = f"{path}: " if path else ""
    return f"{where}{exc.format_message()} (see --help)"


def _missing_file(exc: click.BadParameter) -> bool:
    """A file argument that does not exist or cannot be read is "no such input" (66)."""
    return isinstance(exc.param.type if exc.param else None, (click.Path, click.File)) and any(
        word in exc.format_message() for word in ("does not exist", "is a directory", "not readable", "No such"))


def main() -> None:
    """Run a command; every failure ends as one line on stderr and a sysexits code
    (`crm.cli.exits`, the README's table). `--debug` / CRM_DEBUG=1 adds the traceback."""
    if hasattr(signal, "SIGPIPE"):
        # The reader went away (`crm … | head`): stop at once, quietly, as other command-line
        # tools do (the shell then reports 141); click would otherwise exit 1, a "bug".
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _exit("interrupted", exits.INTERRUPTED)
    except click.BadParameter as exc:
        _exit(_usage_line(exc), exits.NO_INPUT if _missing_file(exc) else exits.USAGE)
    except click.UsageError as exc:
        _exit(_usage_line(exc), exits.USAGE)
    except click.ClickException as exc:
        _exit(exc.format_message(), exits.SOFTWARE if exc.exit_code == 1 else exc.exit_code)
    except BrokenPipeError:
        # The reader went away (`crm … | head`): nothing more to say, and the shell's code
        # for a writer stopped by SIGPIPE. Python's own flush at exit would fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(exits.BROKEN_PIPE)
    except Exception as exc:  # noqa: BLE001 - the one place every failure is told
        known = translate(exc)
        if known is not None:
            _exit(str(known), exits.BY_KIND[known.kind], exc)
        _exit(f"unexpected error: {type(exc).__name__}: {first_line(exc)} "
              "(run again with --debug for the details, and report it)", exits.SOFTWARE, exc)


if __name__ == "__main__":
    main()
