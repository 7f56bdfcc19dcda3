"""Real databases for tests: the PostgreSQL server of CRM_TEST_POSTGRES_URL (default: the local
server's `test` database, trust auth) and empty SQLite files or PostgreSQL databases made on
demand. Outside CI a missing PostgreSQL server skips its half; in CI (CI=true) it fails, so a
green CI always means both databases ran."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

PG_URL = os.environ.get("CRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def pg_admin() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def pg_available() -> str | None:
    try:
        engine = pg_admin()
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


class FreshDatabases:
    """Makes empty databases (a SQLite file or a PostgreSQL database) and drops them after."""

    def __init__(self, tmp: Path, pg_reason: str | None) -> None:
        self.tmp = tmp
        self.pg_reason = pg_reason
        self.created: list[str] = []

    def url(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / f'crm-{uuid.uuid4().hex[:8]}.db'}"
        need_pg(self.pg_reason)
        name = f"crm_t_{uuid.uuid4().hex[:12]}"
        admin = pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = pg_admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def need_pg(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")
