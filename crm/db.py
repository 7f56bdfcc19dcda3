"""Declarative base, column aliases, the UTC datetime type, engine and session factory."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest id any table can hold (a BIGINT). A larger number names nothing, and would make
# the database (or the SQLite driver) refuse the query instead of finding nothing.
MAX_ID = 2**63 - 1


def possible_id(value: int) -> bool:
    """Whether a row could have this id: 1 to `MAX_ID`."""
    return 0 < value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on every engine.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are converted
    to UTC before they are written and tagged UTC when they are read. A naive datetime is
    refused: its meaning would depend on the machine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def str_enum(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """A portable enum column: VARCHAR holding the member's value (no native PG type)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


# Column aliases (warehouse style): one place says what an id, a name or a timestamp is.
intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
bigintpk = Annotated[int, mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)]
name_str = Annotated[str, mapped_column(String(200))]
short_str = Annotated[str, mapped_column(String(80))]
text = Annotated[str, mapped_column(Text)]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
updated_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)]
day = Annotated[date, mapped_column(Date)]
json_dict = Annotated[dict[str, Any], mapped_column(JSON)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only; PostgreSQL's (UTF-8 ctype) folds every letter.
    # The case-insensitive unique indexes (lower(email), lower(name)) must mean the same on
    # both, so every connection we open replaces lower() by Python's: "ÉCOLE" = "école".
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, echo: bool = False, busy_timeout: float = 30.0) -> Engine:
    """An engine with the per-dialect settings the CRM relies on. ``busy_timeout``: how long
    a SQLite statement waits for another process's write lock before "database is locked"."""
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": busy_timeout}  # sqlite3's busy handler
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT for many rows (no RETURNING, no ORM bookkeeping)."""
    from sqlalchemy import insert

    if rows:
        session.execute(insert(getattr(table, "__table__", table)), rows)
