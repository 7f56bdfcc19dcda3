"""The Jinja2 sandbox every per-recipient template runs in.

``ImmutableSandboxedEnvironment`` with autoescaping (HTML) and ``StrictUndefined``, and
tightened for content written by people outside the code:

- no globals at all (no ``range``, ``cycler``, ``joiner``, ``namespace``, ``lipsum``, ``dict``);
- an allow-list of filters, none of which can pad, repeat or reach attributes by name
  (``attr``, ``format``, ``center``, ``indent``, ``map``, ``safe`` … are gone);
- calls only to a few methods of strings and dicts;
- every arithmetic operator intercepted and refused when its result would be too big;
- no attribute that starts with an underscore.

Content is also checked statically (``validation``) before it is compiled; the sandbox is
the second wall, and the one the shipped templates run behind too.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from crm.rendering import limits
from crm.rendering.errors import RenderLimitExceeded
from crm.rendering.schemes import url_filter

ALLOWED_FILTERS = frozenset({
    "upper", "lower", "title", "capitalize", "trim", "default", "d", "escape", "e",
    "truncate", "length", "count", "striptags", "urlencode", "first", "last", "int", "float",
    "round", "abs", "string", "wordcount", "replace",
})
STR_METHODS = frozenset({
    "upper", "lower", "title", "capitalize", "casefold", "strip", "lstrip", "rstrip",
    "startswith", "endswith", "isdigit", "isalpha", "isspace", "isupper", "islower",
})
DICT_METHODS = frozenset({"get"})


class CRMSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with size-checked operators and an allow-list of callables."""

    intercepted_binops = frozenset(limits.BINOPS)
    intercepted_unops = frozenset({"-", "+"})

    def __init__(self, *, autoescape: bool, max_output: int) -> None:
        super().__init__(
            autoescape=autoescape,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
            cache_size=0,
        )
        self.max_output = max_output
        self.globals.clear()
        self.filters = {name: FILTERS[name] for name in ALLOWED_FILTERS if name in FILTERS}
        self.filters["replace"] = self._bounded_replace
        self.filters["crm_url"] = url_filter  # used by prepared templates, not by content

    def _bounded_replace(self, eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
        s, old, new = str(s), str(old), str(new)
        hits = (len(s) + 1) if old == "" else s.count(old)
        if count is not None:
            hits = min(hits, max(int(count), 0))
        if len(s) + hits * (len(new) - len(old)) > self.max_output:
            raise RenderLimitExceeded(f"'replace' would build more than {self.max_output:,} characters")
        result = FILTERS["replace"](eval_ctx, s, old, new, count)
        return result

    _bounded_replace.jinja_pass_arg = FILTERS["replace"].jinja_pass_arg  # type: ignore[attr-defined]

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        limits.check_binop(operator, left, right, self.max_output)
        return limits.BINOPS[operator](left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        limits.check_time()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", None)
        if isinstance(owner, str) and name in STR_METHODS:
            pass
        elif isinstance(owner, dict) and name in DICT_METHODS:
            pass
        else:
            raise SecurityError(f"calling {name or type(__obj).__name__!s} is not allowed")
        return __context.call(__obj, *args, **kwargs)


def compile_template(env: CRMSandbox, source: str, name: str) -> Template:
    """Compile ``source`` under ``name`` (used as file name too, so errors carry it and a line)."""
    code = env.compile(source, name=name, filename=name)
    return env.template_class.from_code(env, code, env.make_globals(None), None)
