"""Rule text -> rule tree: a tokenizer and a recursive-descent parser (grammar in __init__).

Every error is a `SegmentError` placed at ``rule:COLUMN`` (1-based; ``rule:LINE:COLUMN`` for
a rule written on several lines) and, for an unknown word, lists the allowed ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm.segments import allowlist, limits
from crm.segments.ast import (
    EQ,
    IN,
    KEYWORDS,
    NE,
    NOT_IN,
    Compare,
    Not,
    Rule,
    SegmentError,
    Value,
    all_of,
    any_of,
)

WORD = r"[^\s(),=!'\"]+"
MAX_DEPTH = limits.MAX_DEPTH
_TOKEN = re.compile(
    rf"""(?P<space>\s+)
      | (?P<punct>!=|[(),=])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<word>{WORD})""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "(", ")", ",", "=", "!=", "end"
    text: str  # the word, or the string's content without quotes
    pos: int  # offset in the rule text

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words

    def shown(self) -> str:
        if self.kind == "end":
            return "the end of the rule"
        return repr(self.text) if self.kind in ("word", "string") else f"'{self.kind}'"


def place(text: str, pos: int) -> str:
    """``rule:COLUMN`` (1-based), or ``rule:LINE:COLUMN`` when the rule has several lines."""
    if "\n" not in text:
        return f"rule:{pos + 1}"
    line = text.count("\n", 0, pos) + 1
    return f"rule:{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            reason = "unterminated quoted value" if char in "'\"" else f"unexpected character {char!r}"
            raise SegmentError(reason, place(text, pos))
        kind = match.lastgroup
        if kind == "string":
            tokens.append(Token("string", _ESCAPE.sub(r"\1", match.group()[1:-1]), pos))
        elif kind == "punct":
            tokens.append(Token(match.group(), match.group(), pos))
        elif kind == "word":
            tokens.append(Token("word", match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.budget = limits.Budget()

    # -- cursor --
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def error(self, token: Token, message: str, allowed: list[str] | tuple[str, ...] = ()) -> SegmentError:
        return SegmentError(message, place(self.text, token.pos), allowed=allowed)

    def expect(self, kind: str, context: str) -> Token:
        token = self.take()
        if token.kind != kind:
            raise self.error(token, f"expected '{kind}' {context}, found {token.shown()}")
        return token

    def within(self, token: Token, check, *args) -> None:  # noqa: ANN001
        """A size limit of `limits`, placed at ``token``."""
        try:
            check(*args)
        except SegmentError as exc:
            raise exc.at(place(self.text, token.pos)) from None

    def normalised(self, token: Token, normalise, value: str) -> Value:  # noqa: ANN001
        try:
            return normalise(value)
        except SegmentError as exc:
            raise exc.at(place(self.text, token.pos)) from None

    # -- grammar --
    def rule(self) -> Rule:
        if self.peek().kind == "end":
            raise self.error(self.peek(), "empty rule; write all for every contact", allowlist.words())
        rule = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            raise self.error(token, f"expected and, or or the end of the rule, found {token.shown()}")
        return rule

    def disjunction(self) -> Rule:
        items = [self.conjunction()]
        while self.peek().is_word("or"):
            self.take()
            items.append(self.conjunction())
        return any_of(items)

    def conjunction(self) -> Rule:
        items = [self.unary()]
        while self.peek().is_word("and"):
            self.take()
            items.append(self.unary())
        return all_of(items)

    def unary(self) -> Rule:
        token = self.peek()
        if not (token.is_word("not") or token.kind == "("):
            return self.atom()
        self.depth += 1
        self.within(token, limits.check_depth, self.depth)
        self.take()
        if token.kind == "(":
            inner = self.disjunction()
            self.expect(")", "to close the parenthesis")
        else:
            inner = Not(self.unary())
        self.depth -= 1
        return inner

    def atom(self) -> Rule:
        token = self.take()
        if token.kind != "word" or token.text.lower() in KEYWORDS:
            raise self.error(token, f"expected a field, a function or '(', found {token.shown()}; "
                                    f"allowed: {', '.join(allowlist.words())}", allowlist.words())
        name = token.text.lower()
        if name in allowlist.FUNCTIONS or name in allowlist.FIELDS:
            self.within(token, self.budget.condition)
        if name in allowlist.FUNCTIONS:
            return self.call(token, allowlist.FUNCTIONS[name])
        if name in allowlist.FIELDS:
            return self.compare(token, allowlist.FIELDS[name])
        raise allowlist.unknown("field or function", token.text, allowlist.words()).at(place(self.text, token.pos))

    def call(self, name: Token, fn: allowlist.Function) -> Rule:
        args: dict[str, Value] = {}
        if self.peek().kind == "(":
            self.take()
            if self.peek().kind != ")":
                self.argument(fn, args)
                while self.peek().kind == ",":
                    self.take()
                    self.argument(fn, args)
            self.expect(")", f"to close {fn.name}(…): {fn.signature}")
        elif fn.required or fn.one_of:
            raise self.error(self.peek(), f"{fn.name} needs arguments: {fn.signature}")
        try:
            return fn.call(args)
        except SegmentError as exc:
            raise exc.at(place(self.text, name.pos)) from None

    def argument(self, fn: allowlist.Function, args: dict[str, Value]) -> None:
        start = self.peek()
        if start.kind == "word" and self.peek(1).kind == "=":
            self.index += 2
            key = start.text.lower()
        elif not fn.params:
            raise self.error(start, f"{fn.name} takes no arguments")
        elif not args and fn.positional:
            key = fn.positional
        else:
            raise self.error(start, f"write name=value: {fn.signature}", fn.names)
        try:
            param = fn.param(key)
        except SegmentError as exc:
            raise exc.at(place(self.text, start.pos)) from None
        if key in args:
            raise self.error(start, f"{key} given twice")
        token = self.peek()
        args[key] = self.normalised(token, param.normalise, self.value(f"for {key}"))

    def compare(self, name: Token, field: allowlist.Field) -> Rule:
        token = self.take()
        if token.kind in (EQ, NE):
            op = token.kind
        elif token.is_word("in"):
            op = IN
        elif token.is_word("not") and self.peek().is_word("in"):
            self.take()
            op = NOT_IN
        else:
            raise self.error(token, f"expected =, !=, in or not in after {field.name}, found {token.shown()}")
        if op in (EQ, NE):
            return Compare(field.name, op, (self.field_value(field, op),))
        self.expect("(", f"after {op}: {field.name} {op} (a, b)")
        values = [self.field_value(field, op, 1)]
        while self.peek().kind == ",":
            self.take()
            values.append(self.field_value(field, op, len(values) + 1))
        self.expect(")", f"to close the list of {field.name} values")
        return Compare(field.name, op, tuple(dict.fromkeys(values)))

    def field_value(self, field: allowlist.Field, op: str, in_list: int = 0) -> str:
        token = self.peek()
        self.within(token, self.budget.value, in_list)
        raw = self.value(f"after {field.name} {op}", field.choices)
        return str(self.normalised(token, field.normalise, raw))

    def value(self, context: str, choices: tuple[str, ...] = ()) -> str:
        token = self.take()
        if token.kind not in ("word", "string"):
            allowed = f"; allowed: {', '.join(choices)}" if choices else ""
            raise self.error(token, f"expected a value {context}, found {token.shown()}{allowed}", choices)
        return token.text


def parse(text: str) -> Rule:
    """Rule text -> rule tree, validated against the allow-list and the size `limits`;
    raises `SegmentError`."""
    try:
        limits.check_length(text)
    except SegmentError as exc:
        raise exc.at(place(text, limits.MAX_CHARACTERS)) from None
    return _Parser(text).rule()
