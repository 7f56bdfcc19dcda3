"""The rule's abstract syntax: five node types, compared by value, and the rule error.

A rule is a tree of `Compare` (``field op value``), `Call` (``fn(args)``, or a bare word
such as ``all``), `And`, `Or` and `Not`. Nodes are frozen dataclasses: two rules are equal
when they mean the same text, so text -> rule -> text -> rule can be checked with ``==``.
Values are already normalised (``target = "entreprise membre"`` holds ``member_company``).

`all_of` and `any_of` build ``and`` / ``or`` nodes the way the parser does: nested nodes of
the same kind are flattened and a single item stands alone. Every way of building a rule
(text, JSON, tests) goes through them, so equal meaning gives equal trees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from crm.errors import ValidationError

EQ, NE, IN, NOT_IN = "=", "!=", "in", "not in"
OPERATORS = (EQ, NE, IN, NOT_IN)
LIST_OPERATORS = (IN, NOT_IN)
NEGATIVE_OPERATORS = (NE, NOT_IN)
KEYWORDS = frozenset({"and", "or", "not", "in"})

Value: TypeAlias = str | int


class SegmentError(ValidationError):
    """A bad rule: ``where`` is ``rule:COLUMN`` (1-based) or a JSON path such as ``$.and[1]``.

    ``allowed`` lists the alternatives (field names, functions, enum values) when the
    mistake was an unknown word.
    """

    def __init__(self, message: str, where: str | None = None, *, allowed: Sequence[str] = ()) -> None:
        super().__init__(message, where)
        self.allowed = list(allowed)

    def at(self, where: str) -> SegmentError:
        """The same error, placed (the innermost place wins)."""
        if self.where is not None:
            return self
        return SegmentError(self.message, where, allowed=self.allowed)


@dataclass(frozen=True)
class Compare:
    """``field = value``, ``field != value``, ``field in (v, …)``, ``field not in (v, …)``."""

    field: str
    op: str
    values: tuple[str, ...]

    @property
    def negative(self) -> bool:
        return self.op in NEGATIVE_OPERATORS


@dataclass(frozen=True)
class Call:
    """A function of the allow-list; ``args`` in the function's declared parameter order."""

    fn: str
    args: tuple[tuple[str, Value], ...] = ()

    def arg(self, name: str) -> Value | None:
        return dict(self.args).get(name)


@dataclass(frozen=True)
class And:
    items: tuple[Rule, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    item: Rule


Rule: TypeAlias = Compare | Call | And | Or | Not
NODE_TYPES = (Compare, Call, And, Or, Not)


def _flat(kind: type[And] | type[Or], items: Iterable[Rule]) -> Rule:
    flat: list[Rule] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    if not flat:
        raise SegmentError(f"'{kind.__name__.lower()}' needs at least one rule")
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def all_of(items: Iterable[Rule]) -> Rule:
    """``a and b and …`` (flattened; one item stands alone)."""
    return _flat(And, items)


def any_of(items: Iterable[Rule]) -> Rule:
    """``a or b or …`` (flattened; one item stands alone)."""
    return _flat(Or, items)
