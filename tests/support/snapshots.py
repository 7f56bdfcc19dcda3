"""What a database holds, to compare before and after a command that must change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, as plain tuples."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            return {
                name: sorted((tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in tables
            }
    finally:
        engine.dispose()


def copy_sqlite(source_dir: Path, target_dir: Path, name: str = "crm.db") -> None:
    """Copy a SQLite database with its WAL files (a copy of the main file alone may miss
    the last transactions)."""
    for suffix in ("", "-wal", "-shm"):
        source = source_dir / f"{name}{suffix}"
        if source.exists():
            shutil.copyfile(source, target_dir / f"{name}{suffix}")
