"""Spreadsheet formula injection: neutralise on export, restore on import.

A cell that a spreadsheet would evaluate (starting with = + - @, tab or CR) is written
with a leading apostrophe, the OWASP-recommended guard; a cell that already starts with
an apostrophe gets one more, so that `restore` (strip one apostrophe before any of those
characters) gives back exactly the stored value: export then import is lossless.
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    if value.startswith(_TRIGGERS) or value.startswith("'"):
        return "'" + value
    return value


def restore(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r'":
        return value[1:]
    return value
