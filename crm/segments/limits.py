"""How large a rule may be: checked while reading it, before any database sees it.

The limits are far above what a person writes by hand (a rule of a dozen conditions, lists
of a few dozen values, three levels of parentheses) and below what breaks a database:
SQLite's parser gives up at about 24 levels of parentheses and nots (its stack holds 100
entries, and each level of a rule takes several), refuses an expression more than 1,000
levels deep (the compiler keeps lists flat, as IN) and more than 32,766 parameters;
PostgreSQL takes at most 65,535 parameters. tests/test_segment_limits.py runs the largest
rule of every shape on both databases, through count, preview and INSERT … SELECT.
"""

from __future__ import annotations

from crm.segments.ast import SegmentError

MAX_CHARACTERS = 20_000  # of rule text
MAX_DEPTH = 12  # parentheses and nots inside one another (SQLite's parser gives up past about 24)
MAX_CONDITIONS = 100  # comparisons and functions in one rule
MAX_LIST_VALUES = 500  # values in one in (…) list
MAX_VALUES = 1_000  # values of every comparison together

ADVICE = "write it shorter: one in (…) list instead of many = joined by or, or tag the contacts and select the tag"


class Budget:
    """Counts conditions and values while a rule is read; `SegmentError` past a limit (the
    caller gives the place)."""

    def __init__(self) -> None:
        self.conditions = 0
        self.values = 0

    def condition(self) -> None:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise SegmentError(f"more than {MAX_CONDITIONS} conditions in one rule; {ADVICE}")

    def value(self, in_list: int = 0) -> None:
        """One more value; ``in_list`` is its number in its in (…) list (0: not in a list)."""
        self.values += 1
        if in_list > MAX_LIST_VALUES:
            raise SegmentError(f"more than {MAX_LIST_VALUES} values in one in (…) list; "
                               f"tag those contacts and select the tag instead")
        if self.values > MAX_VALUES:
            raise SegmentError(f"more than {MAX_VALUES} values in one rule; {ADVICE}")


def check_length(text: str) -> None:
    if len(text) > MAX_CHARACTERS:
        raise SegmentError(f"rule longer than {MAX_CHARACTERS:,} characters ({len(text):,}); {ADVICE}")


def check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SegmentError(f"rule nested more than {MAX_DEPTH} levels deep; remove parentheses or nots")
