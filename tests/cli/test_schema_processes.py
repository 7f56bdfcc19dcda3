"""Processes that start at once never race on the schema (issue 10, part 6), with real `crm`
processes: long-running ones refuse a schema that is not at head (exit 78, "run `crm init`")
and change nothing; `crm init` takes the schema lock, so two of them at once make the schema
once; a database behind head is upgraded by `crm init` only."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from crm import migrate
from crm.db import make_engine
from tests.support.cli import CrmRunner
from tests.support.processes import RedisServer
from tests.support.snapshots import snapshot

pytestmark = pytest.mark.cli


class _Gate:
    """Holds a database so that `crm` processes started meanwhile wait at their first query,
    then lets them all go at once: started a Python start-up apart (a second or so on a busy
    machine), their upgrades would rarely overlap, and a race between them rarely show.

    PostgreSQL: an ACCESS EXCLUSIVE lock on the database's pg_namespace catalog, which every
    new connection's first query reads; committing it wakes every waiter at the same moment.
    SQLite: an exclusive transaction on the file, ended once each process has the file open;
    the waiters retry under their busy timeout (CRM_SQLITE_BUSY_TIMEOUT), at most 0.1 s apart.
    Only the timing changes: the processes run their ordinary code. With the schema lock
    removed, the init test failed 10 runs in 10 on each backend with the gate, and about 3 in
    10 without it.
    """

    def __init__(self, url: str) -> None:
        address = make_url(url)
        self.sqlite = address.get_backend_name() == "sqlite"
        if self.sqlite:
            self.path = Path(address.database or "").resolve()
            self.held = sqlite3.connect(self.path, isolation_level=None)
            self.held.execute("BEGIN EXCLUSIVE")
            return
        import psycopg

        def connect(database: str, **options: object) -> psycopg.Connection:
            return psycopg.connect(host=address.host, port=address.port or 5432, user=address.username,
                                   password=address.password, dbname=database, **options)

        self.database = address.database
        self.held = connect(self.database)
        self.held.execute("LOCK TABLE pg_catalog.pg_namespace IN ACCESS EXCLUSIVE MODE")
        # From another database: a new connection to this one would wait at the gate too.
        self.watcher = connect("postgres", autocommit=True)

    def waiting(self, procs: list[subprocess.Popen[str]]) -> int:
        """How many of ``procs`` wait for the database."""
        if self.sqlite:
            return sum(1 for proc in procs if self._has_open(proc.pid))
        return self.watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                                    "AND wait_event_type = 'Lock'", (self.database,)).fetchone()[0]

    def _has_open(self, pid: int) -> bool:
        try:
            return any(fd.resolve() == self.path for fd in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # not Linux, or the process already ended
            return False

    def open(self) -> None:
        if self.sqlite:
            self.held.execute("COMMIT")
        else:
            self.held.commit()
            self.watcher.close()
        self.held.close()


def _at_once(crm: CrmRunner, *args: str, copies: int = 2, timeout: float = 90) -> list[subprocess.CompletedProcess[str]]:
    """``copies`` `crm ARGS` processes let go together (`_Gate`); what each said and its exit code."""
    gate = _Gate(crm.env["CRM_DATABASE_URL"])
    procs: list[subprocess.Popen[str]] = []
    try:
        procs = [subprocess.Popen([crm.exe, *args], cwd=crm.cwd, env=crm.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(copies)]
        deadline = time.monotonic() + 20  # under the SQLite busy timeout; past it, let them go anyway
        while gate.waiting(procs) < copies and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        gate.open()
    done = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_workers_on_an_empty_postgresql_database_refuse_and_leave_it_empty(tmp_path: Path, databases) -> None:  # noqa: ANN001
    url = databases.url("postgresql")
    crm = CrmRunner(tmp_path, url)
    with RedisServer() as redis:  # as in production: workers on a broker, several at once
        crm.env["CRM_BROKER_URL"] = redis.url
        results = _at_once(crm, "worker", "--watch-interval", "0.5", timeout=60)
    for result in results:
        assert result.returncode == 78, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "CRM_DATABASE_URL" in lines[0] and "run `crm init`" in lines[0], result.stderr
    assert _tables(url) == []  # not even alembic_version


def test_two_inits_at_once_make_the_schema_once(crm_cli_db: CrmRunner) -> None:
    url = crm_cli_db.env["CRM_DATABASE_URL"]
    results = _at_once(crm_cli_db, "init")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    said = sorted(r.stdout.strip() for r in results)
    assert said == [f"database already at {migrate.HEAD}", f"database upgraded from empty to {migrate.HEAD}"], said
    assert _versions(url) == [migrate.HEAD]
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.HEAD
    finally:
        engine.dispose()


def test_a_worker_never_creates_a_sqlite_file(tmp_path: Path) -> None:
    result = CrmRunner(tmp_path)("worker", ok=False, timeout=60)
    assert result.code == 78 and "run `crm init`" in result.err and len(result.err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no crm.db, no outbox


def test_a_database_behind_head_is_upgraded_by_init_only(crm_cli_db: CrmRunner) -> None:
    """A database holding data is never upgraded as a side effect: a command or a worker of a
    newer release refuses it (78, run `crm init`), and `crm init` upgrades it."""
    url = crm_cli_db.env["CRM_DATABASE_URL"]
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0003")
    finally:
        engine.dispose()
    before = snapshot(url)
    for command in (("contacts", "list"), ("worker", "--watch-interval", "0.5")):
        result = crm_cli_db(*command, ok=False, timeout=60)
        assert result.code == 78, (command, result.err)
        assert f"at revision 0003, this release needs {migrate.HEAD}: run `crm init`" in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1
    assert snapshot(url) == before and _versions(url) == ["0003"]
    assert crm_cli_db("init").out.strip() == f"database upgraded from 0003 to {migrate.HEAD}"
    assert crm_cli_db("contacts", "list", "--json").json() == []
