"""Create, upgrade and inspect the schema with Alembic, on any engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from crm.db import Base
from crm.errors import ConfigError
from crm.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions (tests/test_migrations.py checks it). Every
# command compares the database with it in one query, and imports Alembic only when the
# schema is behind: that keeps the CLI quick to start.
HEAD = "0004"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _literal(str(migrations_dir())))
    # Alembic keeps options in a ConfigParser, which reads "%" as interpolation: a URL with
    # a %-encoded password (p%40ss), a path with a %, would break `crm init`. Escaped, the
    # option reads back exactly (migrations get the connection itself through attributes).
    config.set_main_option("sqlalchemy.url", _literal(engine.url.render_as_string(hide_password=False)))
    return config


def _literal(value: str) -> str:
    """``value`` as a ConfigParser option that reads back unchanged."""
    return value.replace("%", "%%")


def _run(engine: Engine, fn, *args) -> None:  # noqa: ANN001
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        fn(config, *args)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    _run(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def ensure_schema(engine: Engine) -> bool:
    """Upgrade to head if needed; True when something was applied. A database that is not
    ours (tables but no Alembic version) or that a newer release made is refused, untouched."""
    current = current_revision(engine)
    if current == HEAD:
        return False
    _check_ours(engine, current)
    upgrade(engine)
    return True


def _check_ours(engine: Engine, current: str | None) -> None:
    if current is None:
        with engine.connect() as connection:
            tables = sorted(name for name in inspect(connection).get_table_names()
                            if name != "alembic_version" and not name.startswith("sqlite_"))
        if tables:
            shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
            raise ConfigError(f"the database already holds tables that are not Cluster CRM's ({shown}): "
                              "point it at an empty database or an existing CRM one", "CRM_DATABASE_URL")
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(alembic_config(engine)).get_revision(current)
    except (CommandError, KeyError):
        raise ConfigError(f"the database is at schema revision {current!r}, which this release of Cluster CRM "
                          "does not know (a newer release made it): upgrade crm", "CRM_DATABASE_URL") from None


def schema_diff(engine: Engine) -> list:
    """What autogenerate would change between the database and the models (empty = in sync)."""
    import crm.models  # noqa: F401
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata)]
