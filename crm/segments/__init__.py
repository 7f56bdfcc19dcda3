"""Segments: a small rule language over contacts, compiled to SQL with bound parameters only.

A rule has a text form for people and a JSON form for the API::

    target in (member_company, partner) and perception = skeptic and language = fr
      and not interaction(kind=visit, within=180d) and tag = agrifood and consent(newsletter)

Grammar (keywords and names are case-insensitive)::

    rule     := or
    or       := and ("or" and)*
    and      := unary ("and" unary)*
    unary    := "not" unary | "(" or ")" | atom
    atom     := FIELD ("=" | "!=") value
              | FIELD ("in" | "not" "in") "(" value ("," value)* ")"
              | FUNCTION [ "(" [arg ("," arg)*] ")" ]
    arg      := NAME "=" value | value          (a value alone: the function's first argument)
    value    := word | 'quoted' | "quoted"      (backslash escapes a quote inside quotes)

``not`` binds tighter than ``and``, which binds tighter than ``or``. A word is any run of
characters other than spaces, parentheses, commas, ``=``, ``!`` and quotes: ``fr``,
``member_company``, ``example.org``, ``180d``, ``2026-01-01``, ``12``.

Fields (crm.segments.allowlist.FIELDS): ``language`` (fr also matches fr-CA), ``target``,
``membership``, ``perception`` (opponent, indifferent, skeptic, acquired, no_opinion; the
latest assessment's, never assessed = no_opinion), ``tag``, ``city`` (any case),
``email_domain``, ``country``, ``organisation.kind`` and ``organisation.size`` (the
contact's organisation). Enumerated values accept their French and English names
(``target = "entreprise membre"`` is ``member_company``) and are kept canonical.

Functions: ``all``, ``member`` (membership = member), ``internal`` / ``external`` (target
group), ``consent(topic)`` (latest consent event on the topic is an opt-in),
``interaction(kind=…, within=180d, since=2026-01-01, event=12)`` (took part in such an
interaction at or before now; every argument optional), ``created(within=30d | since=…)``.
Durations: d, w (7 days), m (30 days), y (365 days); dates are UTC days.

An empty field matches no value, so ``language != fr``, ``not in`` and ``not`` include
contacts whose language is unknown. A bad rule raises `SegmentError` (a ValidationError)
placed at ``rule:COLUMN`` (1-based) or a JSON path, listing the allowed alternatives.

Size: at most 20,000 characters, 100 conditions, 500 values in one list, 1,000 values in
all, 12 levels of parentheses and nots (crm.segments.limits), checked while reading.

Modules: ast (the tree), allowlist (names and values), limits (size), parser, printer (`to_text`),
jsonform (`to_json` / `from_json`), compiler (`compile_rule`), reference (the same meaning
in plain Python, for tests), builtins (named segments), service (queries and saved segments).
"""

from crm.segments.ast import And, Call, Compare, Not, Or, Rule, SegmentError, all_of, any_of
from crm.segments.builtins import BUILTINS
from crm.segments.compiler import compile_rule
from crm.segments.jsonform import from_json, to_json
from crm.segments.parser import parse
from crm.segments.printer import to_text
from crm.segments.service import (
    contact_ids_query,
    count,
    create,
    create_saved,
    delete_saved,
    get,
    list_all,
    preview,
    resolve,
    save,
)

__all__ = [
    "BUILTINS",
    "And",
    "Call",
    "Compare",
    "Not",
    "Or",
    "Rule",
    "SegmentError",
    "all_of",
    "any_of",
    "compile_rule",
    "contact_ids_query",
    "count",
    "create",
    "create_saved",
    "delete_saved",
    "from_json",
    "get",
    "list_all",
    "parse",
    "preview",
    "resolve",
    "save",
    "to_json",
    "to_text",
]
