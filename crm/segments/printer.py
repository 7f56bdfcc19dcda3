"""Rule tree -> rule text, in the one canonical spelling the parser reads back to the same tree.

Values are written bare when they can be (``fr``, ``member_company``, ``example.org``) and
double-quoted otherwise (``"Saint Malo"``, ``"and"``); ``and`` inside ``or`` and any group
under ``not`` get parentheses.
"""

from __future__ import annotations

import re

from crm.segments import allowlist
from crm.segments.ast import KEYWORDS, LIST_OPERATORS, And, Call, Compare, Not, Or, Rule, Value
from crm.segments.parser import WORD

_BARE = re.compile(WORD)


def quote(value: Value) -> str:
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in KEYWORDS:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _call(rule: Call) -> str:
    if not rule.args:
        return rule.fn
    fn = allowlist.FUNCTIONS[rule.fn]
    if len(rule.args) == 1 and rule.args[0][0] == fn.positional:
        return f"{rule.fn}({quote(rule.args[0][1])})"
    return f"{rule.fn}({', '.join(f'{k}={quote(v)}' for k, v in rule.args)})"


def _compare(rule: Compare) -> str:
    if rule.op in LIST_OPERATORS:
        return f"{rule.field} {rule.op} ({', '.join(quote(v) for v in rule.values)})"
    return f"{rule.field} {rule.op} {quote(rule.values[0])}"


def _group(rule: Rule) -> str:
    text = to_text(rule)
    return f"({text})" if isinstance(rule, (And, Or)) else text


def to_text(rule: Rule) -> str:
    """The canonical text of a rule: parse(to_text(r)) == r for every rule the parser made."""
    if isinstance(rule, Compare):
        return _compare(rule)
    if isinstance(rule, Call):
        return _call(rule)
    if isinstance(rule, Not):
        return f"not {_group(rule.item)}"
    if isinstance(rule, And):
        return " and ".join(f"({to_text(i)})" if isinstance(i, Or) else to_text(i) for i in rule.items)
    if isinstance(rule, Or):
        return " or ".join(_group(i) if isinstance(i, And) else to_text(i) for i in rule.items)
    raise TypeError(f"not a rule: {rule!r}")
