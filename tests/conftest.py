"""Real databases for every test: SQLite and PostgreSQL, one schema each per pytest worker.

Service tests get a session inside a transaction that is rolled back after the test
(savepoints for the code's own commits/rollbacks). Tests that need committed data or an
empty database (migrations, CLI, import benchmarks) ask for `fresh_url` instead.

PostgreSQL comes from CRM_TEST_POSTGRES_URL (default: the local server's `test` database,
trust auth). Outside CI, a missing server skips the PostgreSQL half; in CI (CI=true) it
fails, so a green CI always means both databases ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from crm import migrate
from crm.db import make_engine

PG_URL = os.environ.get("CRM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _pg_available() -> str | None:
    try:
        engine = _pg_admin()
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return _pg_available()


def _need_pg(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


class FreshDatabases:
    """Makes empty databases (a SQLite file or a PostgreSQL database) and drops them after."""

    def __init__(self, tmp: Path, pg_reason: str | None) -> None:
        self.tmp = tmp
        self.pg_reason = pg_reason
        self.created: list[str] = []

    def url(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp / f'crm-{uuid.uuid4().hex[:8]}.db'}"
        _need_pg(self.pg_reason)
        name = f"crm_t_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = _pg_admin()
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory, pg_reason: str | None) -> Iterator[FreshDatabases]:
    made = FreshDatabases(tmp_path_factory.mktemp("db"), pg_reason)
    yield made
    made.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def engine(backend: str, databases: FreshDatabases) -> Iterator[Engine]:
    """One migrated database per backend per worker, shared by the rolled-back tests."""
    eng = make_engine(databases.url(backend))
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def fresh_url(backend: str, databases: FreshDatabases) -> str:
    """An empty database of the current backend, for tests that commit."""
    return databases.url(backend)


@pytest.fixture
def store(fresh_url: str):  # noqa: ANN201
    """The delivery tests' store (tests/delivery_helpers.py) on a migrated, empty database."""
    from tests import delivery_helpers as h

    s = h.open_store(fresh_url)
    yield s
    s.close()


# ---- the real `crm` entry point, in a subprocess ------------------------------------------

import json as _json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402


@dataclass
class CrmResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return _json.loads(self.out)


class CrmRunner:
    """Runs the installed `crm` console script in a folder, with a clean CRM_* environment."""

    def __init__(self, cwd: Path, database_url: str | None = None) -> None:
        exe = shutil.which("crm")
        if exe is None:
            pytest.fail("the `crm` console script is not installed: pip install .[test]")
        self.exe = exe
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        self.env["COLUMNS"] = "200"
        if database_url:
            self.env["CRM_DATABASE_URL"] = database_url

    def __call__(self, *args: str, ok: bool = True, stdin: str | None = None, timeout: float = 120) -> CrmResult:
        proc = subprocess.run(
            [self.exe, *args], cwd=self.cwd, env=self.env, input=stdin,
            capture_output=True, text=True, timeout=timeout,
        )
        result = CrmResult(proc.returncode, proc.stdout, proc.stderr)
        if ok and result.code != 0:
            raise AssertionError(f"crm {' '.join(args)} exited {result.code}: {result.err or result.out}")
        return result


@pytest.fixture
def crm_cli(tmp_path: Path) -> CrmRunner:
    """`crm` in an empty folder on the embedded default (./crm.db)."""
    return CrmRunner(tmp_path)


@pytest.fixture
def crm_cli_db(tmp_path: Path, fresh_url: str) -> CrmRunner:
    """`crm` against an empty database of the current backend (SQLite and PostgreSQL)."""
    return CrmRunner(tmp_path, fresh_url)
