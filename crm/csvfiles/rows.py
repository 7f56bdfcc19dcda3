"""One CSV record -> a validated contact, or the reason it is rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm import contacts, fields, organisations
from crm.csvfiles.safety import restore
from crm.errors import ValidationError
from crm.csvfiles.headers import ORGANISATION_FIELDS, ColumnMap
from crm.models import CustomField

Value = str | float | date | bool


@dataclass
class ParsedRow:
    line: int
    key: str  # the dedupe key: lower-cased email, or name_key() for a row without one
    values: dict[str, Any]  # contact columns, blanks left out
    organisation: str | None = None
    organisation_values: dict[str, Any] = field(default_factory=dict)  # kind, country … (blanks left out)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Value] = field(default_factory=dict)  # field key -> typed value


def name_key(first_name: str | None, last_name: str | None, organisation: str | None) -> str:
    """How a contact without an email address is recognised: its name and organisation.

    Starts with a NUL, which no address (and no stored value) holds. The service adds which
    occurrence it is (see service.import_contacts).
    """
    parts = (" ".join((p or "").split()).lower() for p in (first_name, last_name))
    return "\0" + "\x1f".join((*parts, organisations.key(organisation or "")))


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
    A row without an email address is a contact known by its name (it needs one).
    """
    overflow = [c for c in cells[width:] if c.strip()]
    if overflow:
        raise ValidationError(
            f"{len(cells)} cells for {width} columns (a delimiter inside an unquoted value?): "
            "quote the value that holds the delimiter",
            "row",
        )
    raw = {name: _cell(cells, index) for name, index in columns.fields.items()}
    full_name = raw.pop("full_name", "")
    if full_name and not (raw.get("first_name") or raw.get("last_name")):
        raw.update(_split_full_name(fields.text(full_name, "full_name")))
    organisation = raw.pop("organisation", "")
    organisation = organisations.clean_name(organisation) if organisation else None
    org_raw = {name: raw.pop(f"organisation_{name}", "") for name in ORGANISATION_FIELDS}
    tag_text = raw.pop("tags", "")
    values = contacts.clean(raw)
    if not values.get("email") and not (values.get("first_name") or values.get("last_name")):
        raise ValidationError("no email address and no name: give at least one of them", "email")
    key = values["email"].lower() if values.get("email") else name_key(values.get("first_name"), values.get("last_name"), organisation)
    row = ParsedRow(line=line, key=key, values=values, organisation=organisation)
    org_values = {k: v for k, v in org_raw.items() if v}
    if org_values:
        try:
            row.organisation_values = organisations.attributes(**org_values)
        except ValidationError as exc:
            raise ValidationError(exc.message, f"organisation_{exc.where}") from None
        if not organisation:
            first = next(iter(row.organisation_values))
            raise ValidationError("an organisation field without an organisation: give its name", f"organisation_{first}")
    if tag_text:
        row.tags = contacts.clean_tags(p for p in tag_text.replace(",", ";").replace("|", ";").split(";") if p.strip())
    for index, definition in (custom or {}).items():
        text = _cell(cells, index)
        if text:
            row.custom[definition.key] = fields.custom_value(text, definition.type, definition.label)
    return row


def reason(exc: ValidationError, columns: ColumnMap, header: list[str]) -> str:
    """'Courriel: invalid email address …' — the column as the file names it."""
    where = exc.where or "row"
    if where in columns.fields:
        where = restore(header[columns.fields[where]].strip().lstrip("\ufeff"))
    return f"{where}: {exc.message}"


def column_name(index: int | None, header: list[str]) -> str:
    """A column as the file names it, or 'column N' (1-based) when its header is blank."""
    if index is None:
        return "row"
    label = restore(header[index].strip().lstrip("\ufeff")) if index < len(header) else ""
    return label or f"column {index + 1}"
