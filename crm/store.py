"""The running store: engine and session factory, on a database whose schema is at head."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm import migrate
from crm.db import make_engine, make_session_factory
from crm.settings import Settings, get_settings


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, settings: Settings | None = None, *, create_if_empty: bool = True) -> Store:
        """Connect, and refuse (exit 78, "run `crm init`") a schema that is not at head.

        ``create_if_empty``: an empty database gets its schema here (the short-lived
        commands, so that `crm demo` is one command); long-running processes pass False and
        never change the schema (`crm.migrate.require_head` says why)."""
        settings = settings or get_settings()
        engine = make_engine(settings.database_url, echo=settings.sql_echo,
                             busy_timeout=settings.sqlite_busy_timeout)
        try:
            migrate.require_head(engine, create_if_empty=create_if_empty)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, make_session_factory(engine))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
