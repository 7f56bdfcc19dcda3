"""Static checks on animator content, before anything is compiled or rendered.

Content is a *document with holes*: it may print fields, choose with ``if``/``elif``/``else``,
join with ``~``, compare, do small arithmetic, and pass values through a few filters and
string methods. It may not assign, loop, define macros, include or extend templates, switch
autoescaping off, or name anything beyond the allow-listed groups and fields
(``variables.GROUPS``). Each refusal names the line: ``content[fr]:3: unknown variable
'contact.nom' (contact has: city, email, …)``.
"""

from __future__ import annotations

import re

from jinja2 import TemplateSyntaxError, nodes

from crm.rendering.environment import ALLOWED_FILTERS, DICT_METHODS, STR_METHODS, CRMSandbox
from crm.rendering.errors import TemplateError
from crm.rendering.variables import GROUPS

_ALLOWED_NODES = frozenset({
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Const, nodes.Name,
    nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.Call,
    nodes.Keyword, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg,
    nodes.Pos, nodes.CondExpr, nodes.Concat, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div,
    nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.List, nodes.Tuple,
})

_STATEMENT_NAMES = {
    nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}", nodes.For: "{% for %}",
    nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}", nodes.FilterBlock: "{% filter %}",
    nodes.Include: "{% include %}", nodes.Import: "{% import %}", nodes.FromImport: "{% from … import %}",
    nodes.Extends: "{% extends %}", nodes.Block: "{% block %}", nodes.With: "{% with %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}", nodes.EvalContextModifier: "{% autoescape %}",
    nodes.Dict: "a dict literal {…}", nodes.ExprStmt: "{% do %}", nodes.Break: "{% break %}",
    nodes.Continue: "{% continue %}", nodes.Scope: "{% autoescape %}",
}


def _known(group: str) -> str:
    return ", ".join(sorted(GROUPS[group]))


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, node: nodes.Node, message: str) -> None:
        line = getattr(node, "lineno", None)
        if line is None:  # scopes carry no line: take the first one inside
            line = next((n.lineno for n in node.find_all(nodes.Node) if getattr(n, "lineno", None)), 1)
        raise TemplateError(message, where=f"{self.where}:{line}")

    def visit(self, node: nodes.Node, in_call: bool = False) -> None:
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            what = _STATEMENT_NAMES.get(kind, kind.__name__)
            self.fail(node, f"{what} is not allowed in content")
        if kind is nodes.Name:
            if node.name in GROUPS:
                self.fail(node, f"'{node.name}' is a group of fields; use one of them, "
                                f"e.g. {node.name}.{GROUPS[node.name][0]} ({node.name} has: {_known(node.name)})")
            self.fail(node, f"unknown variable '{node.name}' (known: {', '.join(GROUPS)})")
        if kind is nodes.Getattr or (
            kind is nodes.Getitem and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str)
        ):
            self._field(node, node.attr if kind is nodes.Getattr else node.arg.value, in_call)
            return
        if kind is nodes.Call:
            if not isinstance(node.node, (nodes.Getattr, nodes.Getitem)):
                self.fail(node, "only methods of text can be called (e.g. contact.city.upper())")
            if node.dyn_args is not None or node.dyn_kwargs is not None:
                self.fail(node, "'*args' and '**kwargs' are not allowed in content")
            self.visit(node.node, in_call=True)
            for child in (*node.args, *node.kwargs):
                self.visit(child)
            return
        if kind is nodes.Filter:
            if node.name not in ALLOWED_FILTERS:
                self.fail(node, f"filter '{node.name}' is not allowed "
                                f"(allowed: {', '.join(sorted(ALLOWED_FILTERS))})")
            if node.dyn_args is not None or node.dyn_kwargs is not None:
                self.fail(node, "'*args' and '**kwargs' are not allowed in content")
        for child in node.iter_child_nodes():
            self.visit(child)

    def _field(self, node: nodes.Getattr | nodes.Getitem, key: str, in_call: bool) -> None:
        base = node.node
        if isinstance(base, nodes.Name) and base.name not in GROUPS:
            self.fail(node, f"unknown variable '{base.name}' (known: {', '.join(GROUPS)})")
        if not isinstance(base, nodes.Name):
            self.visit(base)
        if key.startswith("_"):
            self.fail(node, f"'{key}': names starting with '_' are not allowed")
        if isinstance(base, nodes.Name):
            if key not in GROUPS[base.name]:
                self.fail(node, f"unknown variable '{base.name}.{key}' ({base.name} has: {_known(base.name)})")
            return
        if not in_call or key not in (STR_METHODS | DICT_METHODS):
            self.fail(node, f"attribute '{key}' is not allowed here "
                            f"(text methods: {', '.join(sorted(STR_METHODS))}, called with ())")


_RAW = re.compile(r"\{%[-+]?\s*raw\b")


def check_content(env: CRMSandbox, source: str, where: str) -> nodes.Template:
    """Parse and check one piece of content; raise TemplateError naming ``where:line``."""
    raw = _RAW.search(source)
    if raw:  # nothing to gain, and its text would skip the HTML cleaning
        line = source.count("\n", 0, raw.start()) + 1
        raise TemplateError("{% raw %} is not allowed in content", where=f"{where}:{line}")
    try:
        tree = env.parse(source, name=where, filename=where)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", where=f"{where}:{exc.lineno}") from None
    _Checker(where).visit(tree)
    return tree
