"""The Jinja2 sandbox every per-recipient template runs in.

``ImmutableSandboxedEnvironment`` with autoescaping (HTML) and ``StrictUndefined``, and
tightened for content written by people outside the code:

- no globals at all (no ``range``, ``cycler``, ``joiner``, ``namespace``, ``lipsum``, ``dict``);
- an allow-list of filters, none of which can pad, repeat or reach attributes by name
  (``attr``, ``format``, ``center``, ``indent``, ``map``, ``safe`` … are gone);
- calls only to a few methods of strings and dicts;
- every arithmetic operator intercepted and refused when its result would be too big, and
  so are ``~`` joins (before joining), list literals and each filter's or method's result
  (sizes counted as printed: a list of a million references to one long text is a bomb);
- no attribute that starts with an underscore.

Content is also checked statically (``validation``) before it is compiled; the sandbox is
the second wall, and the one the shipped templates run behind too.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
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


class _SizedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a join checked before it runs, and list and tuple literals to
    values checked once built (building them only copies references)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"environment.checked_join({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.checked_value(")
        super().visit_List(node, frame)
        self.write(", 'a list')")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # an assignment target ({% for a, b in … %} in shipped templates)
            super().visit_Tuple(node, frame)
            return
        self.write("environment.checked_value(")
        super().visit_Tuple(node, frame)
        self.write(", 'a tuple')")


def _sized_filter(env: CRMSandbox, name: str, function: Any) -> Any:
    def sized(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        env.checked_value(result, f"filter '{name}'")
        return result

    if hasattr(function, "jinja_pass_arg"):
        sized.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return sized


class CRMSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with size-checked operators and an allow-list of callables."""

    intercepted_binops = frozenset(limits.BINOPS)
    intercepted_unops = frozenset({"-", "+"})
    code_generator_class = _SizedCodeGenerator

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
        filters = {name: FILTERS[name] for name in ALLOWED_FILTERS if name in FILTERS}
        filters["replace"] = self._bounded_replace
        self.filters = {name: _sized_filter(self, name, function) for name, function in filters.items()}
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

    def checked_value(self, value: Any, what: str) -> Any:
        limits.check_size(value, self.max_output, what)
        return value

    def checked_join(self, join: Any, values: tuple[Any, ...]) -> Any:
        limits.check_join(values, self.max_output)
        return join(values)

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
        return __self.checked_value(__context.call(__obj, *args, **kwargs), f"'{name}()'")


def compile_template(env: CRMSandbox, source: str, name: str) -> Template:
    """Compile ``source`` under ``name`` (used as file name too, so errors carry it and a line)."""
    code = env.compile(source, name=name, filename=name)
    return env.template_class.from_code(env, code, env.make_globals(None), None)
