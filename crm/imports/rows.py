"""One CSV record -> a validated contact, or the reason it is rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm import contacts, fields, tags
from crm.csv_safety import restore
from crm.errors import ValidationError
from crm.imports.headers import ColumnMap
from crm.models import CustomField

Value = str | float | date | bool


@dataclass
class ParsedRow:
    line: int
    key: str  # lower-cased email: the dedupe key
    values: dict[str, Any]  # contact columns, blanks left out
    organisation: str | None = None
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Value] = field(default_factory=dict)  # field key -> typed value


def _cell(cells: list[str], index: int) -> str:
    return restore(cells[index].strip()) if index < len(cells) else ""


def _split_full_name(text: str) -> dict[str, str]:
    parts = text.split(None, 1)
    return {"first_name": parts[0], "last_name": parts[1]} if len(parts) == 2 else {"last_name": text}


def parse(
    line: int,
    cells: list[str],
    columns: ColumnMap,
    width: int,
    custom: dict[int, CustomField] | None,
) -> ParsedRow:
    """Raise ValidationError (``where`` = the column) for the first problem found.

    ``custom`` maps extra column indexes to their field (None: extra columns ignored).
    """
    overflow = [c for c in cells[width:] if c.strip()]
    if overflow:
        raise ValidationError(
            f"{len(cells)} cells for {width} columns (a delimiter inside an unquoted value?)", "row"
        )
    raw = {name: _cell(cells, index) for name, index in columns.fields.items()}
    if not raw.get("email"):
        raise ValidationError("no email address", "email")
    full_name = raw.pop("full_name", "")
    if full_name and not (raw.get("first_name") or raw.get("last_name")):
        raw.update(_split_full_name(full_name))
    organisation = raw.pop("organisation", "") or None
    tag_text = raw.pop("tags", "")
    values = contacts.clean(raw)
    row = ParsedRow(line=line, key=values["email"].lower(), values=values, organisation=organisation)
    if organisation and len(organisation) > 200:
        raise ValidationError("longer than 200 characters", "organisation")
    if tag_text:
        row.tags = tags.split(tag_text)
    for index, definition in (custom or {}).items():
        text = _cell(cells, index)
        if text:
            row.custom[definition.key] = fields.custom_value(text, definition.type, definition.label)
    return row


def reason(exc: ValidationError, columns: ColumnMap, header: list[str]) -> str:
    """'Courriel: invalid email address …' — the column as the file names it."""
    where = exc.where or "row"
    if where in columns.fields:
        where = header[columns.fields[where]].strip().lstrip("\ufeff")
    return f"{where}: {exc.message}"
