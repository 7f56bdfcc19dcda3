"""The running store: engine, session factory, and the schema brought up to date."""

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
    def open(cls, settings: Settings | None = None, *, upgrade: bool = True) -> Store:
        """Connect; on a new or older database, create or upgrade the schema first."""
        settings = settings or get_settings()
        engine = make_engine(settings.database_url, echo=settings.sql_echo,
                             busy_timeout=settings.sqlite_busy_timeout)
        if upgrade:
            migrate.ensure_schema(engine)
        return cls(engine, make_session_factory(engine))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back everything on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
