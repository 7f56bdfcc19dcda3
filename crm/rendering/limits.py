"""Render budgets: a time limit, an output-size limit, and the arithmetic that could blow them.

Content cannot loop or assign (see ``validation``), so a render is a walk over a tree of
the content's own size; what remains to bound is arithmetic on big operands
(``'a' * 10**9``, ``10 ** 10 ** 10``) and on joins (``a ~ b ~ …``) -- refused *before*
Python allocates the result -- and the values that are built before they can be measured
(list literals, each filter's and method's result: each grows its input a few times at most);
sizes are counted as printed (``weight``), so a list of a million references to one long
text counts as what printing it would build. As a second line, the time and the size of
what a render yields, checked per chunk.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from time import perf_counter

from crm.rendering.errors import RenderLimitExceeded

#: Integers in templates stay below this many bits (a 2**4096 number prints 1,234 digits).
MAX_INT_BITS = 4096

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("crm_render_deadline", default=None)


@dataclass(frozen=True)
class Limits:
    max_seconds: float = 2.0
    max_output_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if self.max_seconds <= 0 or self.max_output_bytes <= 0:
            raise ValueError("render limits must be positive")


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Renders inside this block must finish within ``seconds`` (checked cooperatively)."""
    token = _deadline.set((perf_counter() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    budget = _deadline.get()
    if budget is not None and perf_counter() > budget[0]:
        raise RenderLimitExceeded(f"rendering took longer than {budget[1]:g} s")


def collect(chunks: Iterable[str], max_chars: int) -> str:
    """Join a template's output, stopping as soon as it is too long or too late."""
    budget = _deadline.get()
    deadline = budget[0] if budget is not None else None
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_chars:
            raise RenderLimitExceeded(f"output is larger than {max_chars:,} bytes")
        if deadline is not None and perf_counter() > deadline:
            check_time()
        out.append(chunk)
    return "".join(out)


def weight(value: object, cap: int) -> int:
    """About how many characters ``value`` is once printed, counted without printing it: a
    list of a million references to one long text is cheap to hold and a bomb to print or
    join. Counting stops past ``cap`` (anything above it is refused anyway)."""
    total, stack = 0, [value]
    while stack and total <= cap:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (list, tuple)):
            total += 2 + 2 * len(item)  # brackets, quotes and separators
            stack.extend(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        else:
            total += 24
    return total


def check_size(value: object, max_size: int, what: str) -> None:
    """Refuse a value that is already built (a filter's or a method's result, a list) when
    it is too big: each step may grow its input only a few times, so this bounds them all."""
    check_time()
    if isinstance(value, (str, list, tuple)) and weight(value, max_size) > max_size:
        raise RenderLimitExceeded(f"{what} would build a value longer than {max_size:,}")


def check_join(values: Iterable[object], max_size: int) -> None:
    """Refuse ``a ~ b ~ …`` before it is joined, when the text would be too long."""
    check_time()
    total = 0
    for value in values:
        total += weight(value, max_size)
        if total > max_size:
            raise RenderLimitExceeded(f"'~' would build a value longer than {max_size:,}")


def _sized(value: object, cap: int) -> int | None:
    return weight(value, cap) if isinstance(value, (str, list, tuple)) else None


def _bits(value: object) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def check_binop(op: str, left: object, right: object, max_size: int) -> None:
    """Refuse an operation whose result would be too big, before computing it."""
    check_time()
    if op == "*":
        for seq, times in ((left, right), (right, left)):
            n = _sized(seq, max_size)
            if n is not None and isinstance(times, int) and n * max(times, 0) > max_size:
                raise RenderLimitExceeded(
                    f"'*' would build a value of {n * times:,} items (limit {max_size:,})"
                )
        if _bits(left) + _bits(right) > MAX_INT_BITS:
            raise RenderLimitExceeded("'*' on numbers this large is not allowed")
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            if _bits(left) > 1 and right * _bits(left) > MAX_INT_BITS:
                raise RenderLimitExceeded("'**' would build a number that is too large")
        if _bits(left) > MAX_INT_BITS or _bits(right) > MAX_INT_BITS:
            raise RenderLimitExceeded("'**' on numbers this large is not allowed")
    elif op == "+":
        a, b = _sized(left, max_size), _sized(right, max_size)
        if a is not None and b is not None and a + b > max_size:
            raise RenderLimitExceeded(f"'+' would build a value longer than {max_size:,}")
    elif op == "%" and isinstance(left, str):
        # printf-style formatting can pad to any width ('%999999999d'): not for content.
        raise RenderLimitExceeded("'%' string formatting is not allowed; use '~' to join text")


BINOPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
