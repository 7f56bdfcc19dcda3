"""Printing for every command: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=Text(title) if title else None, show_lines=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(_cell(v) for v in row))
    console.print(grid)


def _cell(value: Any) -> Text:
    """A value shown as it is: rich would read "[b]" or "[/x]" in a name as markup (and fail
    on an unbalanced one)."""
    return Text("" if value is None else str(value))


def pairs(data: dict[str, Any]) -> None:
    grid = Table(show_header=False, box=None)
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        grid.add_row(_cell(key), _cell("-" if value is None else value))
    console.print(grid)


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, non-zero exit."""
    click.echo(f"crm: {message}", err=True)
    sys.exit(code)


json_option = click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")


@contextmanager
def progress_counter(label: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A live "label: N" on stderr while long work runs (only on a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _count: None
        return
    err = Console(stderr=True)
    with err.status(f"{label}…") as status:
        yield lambda count: status.update(f"{label}: {count:,}")
