"""Create, upgrade and check the schema with Alembic, on any engine.

Only `crm init` upgrades (and every other short-lived command creates a schema on an empty
database), always under one lock, because processes start at once; long-running processes
only check that the schema is at head (`require_head`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from crm.db import Base
from crm.errors import ConfigError
from crm.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions (tests/store/test_migrations.py checks it). Every
# command compares the database with it in one query, and imports Alembic only when the
# schema is behind: that keeps the CLI quick to start.
HEAD = "0004"

# The key of the PostgreSQL advisory lock every schema change takes (`_schema_lock`): a fixed
# number, the same in every release, that no other lock of ours uses ("crm_sch" in ASCII).
SCHEMA_LOCK_KEY = 0x63726D5F736368


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


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the database's schema lock, for Alembic to run in.

    Several processes may start at once (two `crm init`, a deployment's first commands): each
    must find the schema either untouched or at head, never half made. The lock is taken in
    the very connection Alembic then uses, and lasts until the new schema is committed, so
    whoever waits for it reads the revision the other one left. PostgreSQL: a transaction-level
    advisory lock (released by the commit or rollback, even if the process dies). SQLite: the
    file's write lock (BEGIN IMMEDIATE, waiting up to CRM_SQLITE_BUSY_TIMEOUT); the upgrade
    runs inside that transaction, so it is also all or nothing.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection


def _alembic(connection: Connection, fn, *args) -> None:  # noqa: ANN001
    config = alembic_config(connection.engine)
    config.attributes["connection"] = connection  # migrations/env.py runs in this transaction
    fn(config, *args)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with _schema_lock(engine) as connection:
        _alembic(connection, command.upgrade, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    with _schema_lock(engine) as connection:
        _alembic(connection, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


@dataclass(frozen=True)
class Upgrade:
    """What `ensure_schema` found and left: revisions, None for an empty database."""

    before: str | None
    after: str | None

    @property
    def applied(self) -> bool:
        return self.before != self.after


def ensure_schema(engine: Engine) -> Upgrade:
    """Create or upgrade the schema to head (`crm init`), under the schema lock: of two
    processes doing it at once, the second waits, then finds it at head and changes nothing.
    A database that is not ours (tables but no Alembic version) or that a newer release made
    is refused, untouched."""
    from alembic import command

    with _schema_lock(engine) as connection:
        before = _revision(connection)
        if before == HEAD:
            return Upgrade(before, before)
        _check_ours(connection, before)
        _alembic(connection, command.upgrade, "head")
        return Upgrade(before, _revision(connection))


def require_head(engine: Engine, *, create_if_empty: bool = False) -> None:
    """Refuse (`ConfigError`, exit 78) a database whose schema is not at head, naming the fix.

    Only `crm init` upgrades a schema that holds data: an upgrade is a step someone takes on
    purpose, with the older release's long-running processes stopped, not a side effect of
    whichever command runs first. ``create_if_empty`` (the short-lived commands): a database
    with no schema at all gets one here, under the schema lock, so that `crm demo` and the
    first commands on a new database are one step. Long-running processes (`crm worker`, later
    `crm serve` and `crm scheduler`) pass False: several of them start at once on many hosts,
    and none of them ever changes the schema.
    """
    if not create_if_empty and engine.dialect.name == "sqlite" and not _sqlite_file_exists(engine):
        raise ConfigError(f"there is no database at {engine.url.database}: run `crm init` to create it "
                          "(a long-running process never creates or upgrades the schema)", "CRM_DATABASE_URL")
    current = current_revision(engine)
    if current == HEAD:
        return
    with engine.connect() as connection:
        _check_ours(connection, current)
    if current is None and create_if_empty:
        ensure_schema(engine)
    elif current is None:
        raise ConfigError("the database has no Cluster CRM schema yet: run `crm init` to create it "
                          "(a long-running process never creates or upgrades the schema)", "CRM_DATABASE_URL")
    else:
        raise ConfigError(f"the database schema is at revision {current}, this release needs {HEAD}: "
                          "run `crm init` to upgrade it", "CRM_DATABASE_URL")


def _sqlite_file_exists(engine: Engine) -> bool:
    return Path(engine.url.database or "").is_file()


def _check_ours(connection: Connection, current: str | None) -> None:
    if current is None:
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
        ScriptDirectory.from_config(alembic_config(connection.engine)).get_revision(current)
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
