"""The README's settings table and the settings class agree, row by row (as Datasette tests its
documentation against the code): the variable, its default and its meaning, which is the
setting's own `Field(description=...)`. A setting added, renamed, given another default or
another meaning fails here, naming the README line and the row as it should read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from crm.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| variable | default | meaning |"


def _default(value: Any) -> str:
    """A default as the table shows it: what one would write in the variable, or "unset"."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        shown = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    else:
        shown = str(value)
    return f"`{shown}`"


def _row(name: str, field: FieldInfo) -> str:
    return f"| `CRM_{name.upper()}` | {_default(field.default)} | {field.description} |"


def _table() -> list[tuple[int, str]]:
    """(line number, row) of every row of the table under "## Configuration"."""
    lines = README.read_text(encoding="utf-8").splitlines()
    section = lines.index("## Configuration")
    header = lines.index(HEADER, section)
    rows = []
    for number, line in enumerate(lines[header + 2:], start=header + 3):
        if not line.startswith("|"):
            break
        rows.append((number, line))
    return rows


def test_every_setting_has_its_row_in_the_readme_with_its_default_and_description() -> None:
    expected = [_row(name, field) for name, field in Settings.model_fields.items()]
    rows = _table()
    documented = [re.match(r"\| `(CRM_\w+)` \|", line) for _, line in rows]
    names = [f"CRM_{name.upper()}" for name in Settings.model_fields]
    for (number, line), found in zip(rows, documented, strict=True):
        assert found and found[1] in names, f"README.md:{number}: not a setting of crm.settings.Settings: {line}"
    missing = [row for name, row in zip(names, expected, strict=True)
               if name not in {found[1] for found in documented if found}]
    assert not missing, "README.md: the settings table has no row for\n" + "\n".join(missing)
    for (number, line), row in zip(rows, expected, strict=True):
        assert line == row, (f"README.md:{number} and crm/settings.py disagree (name, default or description, "
                             f"in the class's order); the row should read:\n{row}")


def test_descriptions_fit_in_a_table_row() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"CRM_{name.upper()} has no description"
        assert "|" not in field.description and "\n" not in field.description, f"CRM_{name.upper()}: no | or line break"
