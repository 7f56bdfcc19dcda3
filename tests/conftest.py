"""Real databases for every test: SQLite and PostgreSQL, one schema each per pytest worker.

Service tests get a session inside a transaction that is rolled back after the test
(savepoints for the code's own commits/rollbacks). Tests that need committed data or an
empty database (migrations, CLI, import benchmarks) ask for `fresh_url` instead.

PostgreSQL comes from CRM_TEST_POSTGRES_URL (default: the local server's `test` database,
trust auth). Outside CI, a missing server skips the PostgreSQL half; in CI (CI=true) it
fails, so a green CI always means both databases ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm import migrate
from crm.db import make_engine
from tests.support.cli import CrmRunner
from tests.support.databases import BACKENDS, FreshDatabases, pg_available


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return pg_available()


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
    from tests.support import delivery as h

    s = h.open_store(fresh_url)
    yield s
    s.close()





@pytest.fixture
def crm_cli(tmp_path: Path) -> CrmRunner:
    """`crm` in an empty folder on the embedded default (./crm.db)."""
    return CrmRunner(tmp_path)


@pytest.fixture
def crm_cli_db(tmp_path: Path, fresh_url: str) -> CrmRunner:
    """`crm` against an empty database of the current backend (SQLite and PostgreSQL)."""
    return CrmRunner(tmp_path, fresh_url)
