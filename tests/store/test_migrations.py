"""One migration history, the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

from sqlalchemy import inspect, text

from crm import migrate
from crm.db import Base, make_engine


def test_upgrade_downgrade_and_models_in_sync(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision(engine) == migrate.HEAD
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)

        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes; test_contacts checks them by behaviour.
            warnings.simplefilter("ignore")
            assert migrate.schema_diff(engine) == []

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(engine)  # and back up again: downgrade left nothing behind
        assert migrate.ensure_schema(engine) == migrate.Upgrade(migrate.HEAD, migrate.HEAD)  # nothing applied
    finally:
        engine.dispose()


def test_expression_indexes_exist(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'index'"
            if engine.dialect.name == "sqlite"
            else "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
        )
        with engine.connect() as conn:
            names = set(conn.execute(text(query)).scalars())
        assert {"uq_contacts_email_lower", "uq_organisations_name_lower"} <= names
    finally:
        engine.dispose()
