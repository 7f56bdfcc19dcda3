"""A file's header line -> the contact field each column feeds, and the extra columns.

The words (French or English headers) are in crm.vocabulary (``COLUMNS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crm.csvfiles.safety import restore
from crm.errors import ImportFileError
from crm.models import FieldType
from crm.vocabulary import COLUMNS

ORGANISATION_FIELDS = ("kind", "sector", "region", "country", "website", "size")


@dataclass
class ColumnMap:
    """Which cell index feeds which field, and which columns are extra."""

    fields: dict[str, int] = field(default_factory=dict)
    extra: dict[int, str] = field(default_factory=dict)  # index -> header as written
    unnamed: list[int] = field(default_factory=list)  # indexes of columns with a blank header


# A custom field's type, as the export writes it after the label: "Effectif [number]".
_TYPED = re.compile(r"^(.*\S)\s+\[(text|number|date|boolean)\]$")


def custom_label(header: str) -> tuple[str, FieldType | None]:
    """'Effectif [number]' -> ('Effectif', NUMBER); a header without a type -> (header, None)."""
    found = _TYPED.match(header)
    return (found.group(1), FieldType(found.group(2))) if found else (header, None)


def typed_label(label: str, kind: FieldType) -> str:
    """The export's header for a custom field (read back by `custom_label`)."""
    return f"{label} [{kind.value}]"


def map_header(header: list[str], name: str, header_line: int) -> ColumnMap:
    result = ColumnMap()
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        label = restore(raw.strip().lstrip("\ufeff").strip())
        if not label:
            result.unnamed.append(index)
            continue
        target = COLUMNS.read(label)
        if target is None:
            result.extra[index] = label
            continue
        if target in result.fields:
            raise ImportFileError(
                f"{name}:{header_line}: columns {seen[target]!r} and {label!r} both give the {target.replace('_', ' ')}"
            )
        result.fields[target] = index
        seen[target] = label
    if "email" not in result.fields:
        raise ImportFileError(
            f"{name}:{header_line}: no email column (looked for Email, E-mail, Courriel, Mail …) in {header!r}"
        )
    return result
