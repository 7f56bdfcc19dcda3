"""Rule tree <-> JSON, for the API. The reader checks the same allow-list as the parser.

    {"and": [{"field": "language", "op": "=", "value": "fr"},
             {"field": "target", "op": "in", "value": ["member_company", "partner"]},
             {"not": {"fn": "interaction", "args": {"kind": "visit", "within": "180d"}}},
             {"fn": "consent", "args": {"topic": "newsletter"}},
             {"fn": "all"}]}

Errors name the place as a JSON path: ``$.and[2].not.args.within: duration '180x': …``.
"""

from __future__ import annotations

from typing import Any

from crm.segments import allowlist, limits
from crm.segments.ast import (
    EQ,
    LIST_OPERATORS,
    OPERATORS,
    And,
    Call,
    Compare,
    Not,
    Or,
    Rule,
    SegmentError,
    Value,
    all_of,
    any_of,
)

_SHAPES = ("and", "or", "not", "field", "fn")
_KEYS = {"and": {"and"}, "or": {"or"}, "not": {"not"}, "field": {"field", "op", "value"}, "fn": {"fn", "args"}}


def to_json(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, Compare):
        value: Any = list(rule.values) if rule.op in LIST_OPERATORS else rule.values[0]
        return {"field": rule.field, "op": rule.op, "value": value}
    if isinstance(rule, Call):
        return {"fn": rule.fn, "args": dict(rule.args)} if rule.args else {"fn": rule.fn}
    if isinstance(rule, Not):
        return {"not": to_json(rule.item)}
    if isinstance(rule, And):
        return {"and": [to_json(i) for i in rule.items]}
    if isinstance(rule, Or):
        return {"or": [to_json(i) for i in rule.items]}
    raise TypeError(f"not a rule: {rule!r}")


def from_json(obj: Any) -> Rule:
    """JSON (already decoded) -> rule tree, validated; raises `SegmentError` with a JSON path."""
    return _rule(obj, "$", limits.Budget())


def _fail(path: str, message: str, allowed: list[str] | tuple[str, ...] = ()) -> SegmentError:
    return SegmentError(message, path, allowed=allowed)


def _normalised(path: str, normalise, raw: Any) -> Value:  # noqa: ANN001
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _fail(path, f"expected a text or a number, found {type(raw).__name__}")
    try:
        return normalise(str(raw))
    except SegmentError as exc:
        raise exc.at(path) from None


def _within(path: str, check, *args) -> None:  # noqa: ANN001
    """A size limit of `limits`, placed at ``path``."""
    try:
        check(*args)
    except SegmentError as exc:
        raise exc.at(path) from None


def _rule(obj: Any, path: str, budget: limits.Budget, depth: int = 0) -> Rule:
    _within(path, limits.check_depth, depth)
    if not isinstance(obj, dict):
        raise _fail(path, f"expected an object with one of {', '.join(_SHAPES)}", _SHAPES)
    shapes = [s for s in _SHAPES if s in obj]
    if len(shapes) != 1:
        raise _fail(path, f"expected exactly one of {', '.join(_SHAPES)}, found {sorted(obj) or 'none'}", _SHAPES)
    shape = shapes[0]
    extra = sorted(set(obj) - _KEYS[shape])
    if extra:
        raise _fail(f"{path}.{extra[0]}", f"unexpected key {extra[0]!r}; allowed: {', '.join(sorted(_KEYS[shape]))}")
    if shape in ("and", "or"):
        items = obj[shape]
        if not isinstance(items, list) or not items:
            raise _fail(f"{path}.{shape}", f"'{shape}' needs a list of at least one rule")
        rules = [_rule(item, f"{path}.{shape}[{n}]", budget, depth + 1) for n, item in enumerate(items)]
        return all_of(rules) if shape == "and" else any_of(rules)
    if shape == "not":
        return Not(_rule(obj["not"], f"{path}.not", budget, depth + 1))
    _within(path, budget.condition)
    if shape == "field":
        return _compare(obj, path, budget)
    return _call(obj, path)


def _compare(obj: dict[str, Any], path: str, budget: limits.Budget) -> Compare:
    name = obj["field"]
    if not isinstance(name, str) or name.lower() not in allowlist.FIELDS:
        raise allowlist.unknown("field", str(name), sorted(allowlist.FIELDS)).at(f"{path}.field")
    field = allowlist.FIELDS[name.lower()]
    op = obj.get("op", EQ)
    if op not in OPERATORS:
        raise _fail(f"{path}.op", f"unknown operator {op!r}; allowed: {', '.join(OPERATORS)}", OPERATORS)
    if "value" not in obj:
        raise _fail(path, f"{field.name} {op} needs a value")
    raw = obj["value"]
    if op in LIST_OPERATORS:
        if not isinstance(raw, list) or not raw:
            raise _fail(f"{path}.value", f"{field.name} {op} needs a list of at least one value")
        values = []
        for n, v in enumerate(raw):
            _within(f"{path}.value[{n}]", budget.value, n + 1)
            values.append(str(_normalised(f"{path}.value[{n}]", field.normalise, v)))
        return Compare(field.name, op, tuple(dict.fromkeys(values)))
    _within(f"{path}.value", budget.value)
    return Compare(field.name, op, (str(_normalised(f"{path}.value", field.normalise, raw)),))


def _call(obj: dict[str, Any], path: str) -> Call:
    name = obj["fn"]
    functions = sorted(allowlist.FUNCTIONS)
    if not isinstance(name, str) or name.lower() not in allowlist.FUNCTIONS:
        raise allowlist.unknown("function", str(name), functions).at(f"{path}.fn")
    fn = allowlist.FUNCTIONS[name.lower()]
    raw_args = obj.get("args", {})
    if not isinstance(raw_args, dict):
        raise _fail(f"{path}.args", f"expected an object of arguments: {fn.signature}")
    args: dict[str, Value] = {}
    for key, raw in raw_args.items():
        where = f"{path}.args.{key}"
        try:
            param = fn.param(str(key).lower())
        except SegmentError as exc:
            raise exc.at(where) from None
        if param.name in args:
            raise _fail(where, f"{param.name} given twice")
        args[param.name] = _normalised(where, param.normalise, raw)
    try:
        return fn.call(args)
    except SegmentError as exc:
        raise exc.at(path) from None
