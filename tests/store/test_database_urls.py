"""Database URLs as people write them: a % in a path, a %-encoded user and password."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm import migrate
from crm.db import make_engine
from tests.support.cli import CrmRunner
from tests.support.databases import PG_URL, need_pg, pg_admin


def test_alembic_reads_back_a_url_with_percent_signs(tmp_path: Path) -> None:
    url = "postgresql+psycopg://us%40er:p%40ss%25w%3Ad@db.example:5432/crm%25db"
    engine = make_engine(url)
    try:
        config = migrate.alembic_config(engine)
        assert config.get_main_option("sqlalchemy.url") == url
        assert make_url(config.get_main_option("sqlalchemy.url")).password == "p@ss%w:d"
    finally:
        engine.dispose()


@pytest.mark.cli
def test_init_on_a_sqlite_path_with_a_percent_sign(tmp_path: Path) -> None:
    folder = tmp_path / "50% off"
    folder.mkdir()
    crm = CrmRunner(tmp_path, f"sqlite:///{folder.as_posix().replace('%', '%25')}/100%25.db")
    done = crm("init")
    assert done.out.startswith("database upgraded from empty to "), done.out
    assert "Traceback" not in done.err
    crm("contacts", "add", "--email", "ann@example.org")
    assert (folder / "100%.db").is_file()
    assert [c["email"] for c in crm("contacts", "list", "--json").json()] == ["ann@example.org"]
    assert crm("init").out.startswith("database already at ")


@pytest.mark.cli
def test_init_on_postgresql_with_a_percent_encoded_user_and_password(tmp_path: Path, pg_reason: str | None) -> None:
    need_pg(pg_reason)
    tag = uuid.uuid4().hex[:8]
    role, password, database = f"crm@{tag}", "p@ss%w:rd", f"crm_t_{tag}"
    admin = pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
            conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{role}"'))
        url = make_url(PG_URL).set(username=role, password=password, database=database)
        written = url.render_as_string(hide_password=False)
        assert "crm%40" in written and "p%40ss%25w%3Ard" in written  # as a person writes it
        crm = CrmRunner(tmp_path, written)
        done = crm("init")
        assert done.out.startswith("database upgraded from empty to "), done.out
        crm("contacts", "add", "--email", "ann@example.org")
        engine = make_engine(written)
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT current_user")).scalar() == role
                assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == 1
                assert conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'contacts'")).scalar() == role
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.mark.cli
def test_an_in_memory_database_is_refused_for_a_command(tmp_path: Path) -> None:
    result = CrmRunner(tmp_path, "sqlite:///:memory:")("init", ok=False)
    assert result.code == 78, result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert "CRM_DATABASE_URL" in result.err and "sqlite:///path/to/crm.db" in result.err
