"""The CSV delimiter a person types (`--delimiter`), for the import and the export alike.

People type a tab as ``\\t`` or ``tab`` (a shell passes both through as text), and sometimes
a word. One character that cannot be part of a value's quoting or a line end is accepted;
anything else is refused with the choices, instead of reaching the csv module's TypeError.
"""

from __future__ import annotations

from crm.errors import UsageError

_NAMED = {"\\t": "\t", "tab": "\t", "tabulation": "\t", "comma": ",", "virgule": ",", "semicolon": ";",
          "point-virgule": ";", "pipe": "|", "space": " "}
_REFUSED = {'"', "'", "\r", "\n", "\x00"}


def delimiter(text: str, option: str = "--delimiter") -> str:
    """The one character ``text`` stands for, or `UsageError` naming ``option``."""
    value = _NAMED.get(text.strip().lower(), text) if len(text) != 1 else text
    if len(value) != 1 or value in _REFUSED or value.isalnum():
        raise UsageError(f"{option}: {text!r} is not a delimiter; use one character such as ',' ';' '|' "
                         "or '\\t' (tab)")
    return value
