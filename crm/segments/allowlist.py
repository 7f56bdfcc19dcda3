"""The allow-list: every field, function and value a rule may name, and how each is read.

The parser and the JSON reader look names up here and pass each raw value through the
entry's ``normalise``, which returns the canonical value or raises `SegmentError` with the
allowed alternatives; the caller adds the place (column or JSON path). The compiler and the
reference evaluator give each entry its meaning.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from crm import fields, tags, vocabulary
from crm.errors import ValidationError
from crm.models import (
    ConsentTopic,
    InteractionKind,
    Membership,
    OrganisationKind,
    OrganisationSize,
    PerceptionSegment,
    TargetGroup,
)
from crm.segments.ast import KEYWORDS, Call, SegmentError, Value

# ---- values --------------------------------------------------------------------------------


def _enum(label: str, enum_cls: type[Enum]) -> Callable[[str], str]:
    """A field's values, read by crm.vocabulary; a refusal suggests the closest value."""
    allowed = [m.value for m in enum_cls]

    def normalise(raw: str) -> str:
        found = vocabulary.read(enum_cls, raw)
        if found is None:
            raise SegmentError(f"unknown {label} {raw!r}{hint(raw, allowed)}; allowed: {', '.join(allowed)}",
                               allowed=allowed)
        return found.value

    return normalise


def _parsed(enum_cls: type[Enum]) -> Callable[[str], str]:
    """A function's argument, read and refused as the services read and refuse it."""
    allowed = [m.value for m in enum_cls]

    def normalise(raw: str) -> str:
        try:
            return vocabulary.parse(enum_cls, raw).value
        except ValidationError as exc:
            raise SegmentError(exc.message, allowed=allowed) from None

    return normalise


def _text(label: str, limit: int) -> Callable[[str], str]:
    def normalise(raw: str) -> str:
        try:  # as the value is stored: NFC, no control characters
            value = fields.text(" ".join(raw.split()), label)
        except ValidationError as exc:
            raise SegmentError(f"{label} {raw!r}: {exc.message}") from None
        if not value or len(value) > limit:
            raise SegmentError(f"{label} {raw!r}: 1 to {limit} characters")
        return value

    return normalise


def _language(raw: str) -> str:
    try:
        return fields.language(raw)
    except ValidationError as exc:
        raise SegmentError(exc.message) from None


def _tag(raw: str) -> str:
    try:
        return tags.clean(raw)
    except ValidationError as exc:
        raise SegmentError(exc.message) from None


def _country(raw: str) -> str:
    try:
        return fields.country(raw)
    except ValidationError as exc:
        raise SegmentError(exc.message) from None


_DOMAIN = re.compile(r"[^\s@]+\.[^\s@.]+")


def _email_domain(raw: str) -> str:
    value = raw.strip().lower().removeprefix("@")
    if not _DOMAIN.fullmatch(value):
        raise SegmentError(f"email domain {raw!r}: write it as example.org")
    return value


_DURATION = re.compile(r"(\d{1,5})\s*([dwmy])")
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def _duration(raw: str) -> str:
    match = _DURATION.fullmatch(str(raw).strip().lower())
    if not match or int(match[1]) == 0 or int(match[1]) * _UNIT_DAYS[match[2]] > 36500:
        raise SegmentError(f"duration {raw!r}: write a count and a unit: 30d, 2w, 6m (30 days), 1y (365 days)")
    return f"{int(match[1])}{match[2]}"


def duration(value: str) -> timedelta:
    """'180d' -> 180 days; a month is 30 days and a year 365."""
    match = _DURATION.fullmatch(value)
    assert match, value
    return timedelta(days=int(match[1]) * _UNIT_DAYS[match[2]])


def _date(raw: str) -> str:
    try:
        return fields.day(str(raw)).isoformat()
    except ValidationError as exc:
        raise SegmentError(exc.message) from None


def day_start(value: str) -> datetime:
    """'2026-01-01' -> that day at 00:00 UTC (rule dates are UTC days)."""
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _event_id(raw: str) -> int:
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise SegmentError(f"event {raw!r}: give the event's number (see `crm events list`)")
    return int(text)


_MAX_ID = 2**31 - 1  # events.id is an INTEGER


# ---- fields --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    help: str
    normalise: Callable[[str], str]
    choices: tuple[str, ...] = ()


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("language", "the contact's language (BCP 47); fr also matches fr-CA", _language),
        Field("target", "target group", _enum("target group", TargetGroup), tuple(t.value for t in TargetGroup)),
        Field("membership", "membership status", _enum("membership", Membership), tuple(m.value for m in Membership)),
        Field("perception", "perception segment of the latest assessment (never assessed: no_opinion)",
              _enum("perception segment", PerceptionSegment), tuple(p.value for p in PerceptionSegment)),
        Field("tag", "has the tag", _tag),
        Field("city", "the contact's city (any case)", _text("city", 120)),
        Field("country", "the organisation's country (ISO code)", _country),
        Field("email_domain", "the email address's domain (a sub-domain is another domain)", _email_domain),
        Field("organisation.kind", "the organisation's kind", _enum("organisation kind", OrganisationKind),
              tuple(k.value for k in OrganisationKind)),
        Field("organisation.size", "the organisation's size", _enum("organisation size", OrganisationSize),
              tuple(s.value for s in OrganisationSize)),
    )
}

# ---- functions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    help: str
    normalise: Callable[[str], Value]


@dataclass(frozen=True)
class Function:
    name: str
    help: str
    params: tuple[Param, ...] = ()
    positional: str | None = None  # the parameter that may be written without its name
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()  # at least one of these

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def display(self) -> str:
        return f"{self.name}()" if self.params else self.name

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise unknown(f"{self.name}() argument", name, self.names)

    def call(self, args: dict[str, Value]) -> Call:
        """The call with its arguments in declared order, once the required ones are there."""
        missing = [n for n in self.required if n not in args]
        if missing:
            raise SegmentError(f"{self.name}() needs {', '.join(missing)}: {self.signature}")
        if self.one_of and not any(n in args for n in self.one_of):
            raise SegmentError(f"{self.name}() needs one of {', '.join(self.one_of)}: {self.signature}")
        return Call(self.name, tuple((n, args[n]) for n in self.names if n in args))

    @property
    def signature(self) -> str:
        if not self.params:
            return self.name
        shown = [p.name if p.name == self.positional else f"{p.name}=…" for p in self.params]
        return f"{self.name}({', '.join(shown)})"


_WITHIN = Param("within", "in the last 30d, 2w, 6m, 1y", _duration)
_SINCE = Param("since", "on or after a date (YYYY-MM-DD, UTC)", _date)

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("all", "every contact"),
        Function("member", "membership = member"),
        Function("internal", "target group is internal (staff, governance, member_company, partner, commission)"),
        Function("external", "target group is set and external"),
        Function("consent", "the latest consent event on the topic is an opt-in",
                 (Param("topic", "newsletter, events, press, calls, surveys", _parsed(ConsentTopic)),),
                 positional="topic", required=("topic",)),
        Function("interaction", "took part in an interaction up to now",
                 (Param("kind", "visit, monthly_meeting, call …", _parsed(InteractionKind)), _WITHIN, _SINCE,
                  Param("event", "linked to this event (id)", _event_id)),
                 positional="kind"),
        Function("created", "the contact was created up to now", (_WITHIN, _SINCE), one_of=("within", "since")),
    )
}

# ---- look-ups with alternatives ------------------------------------------------------------


def words() -> list[str]:
    """Every field and function, as error messages list them: all, consent(), email_domain …"""
    return sorted([*FIELDS, *(f.display for f in FUNCTIONS.values())])


def hint(raw: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(raw).lower(), [a.rstrip("()") for a in allowed], n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown(what: str, raw: str, allowed: Sequence[str]) -> SegmentError:
    return SegmentError(f"unknown {what} {raw!r}{hint(raw, allowed)}; allowed: {', '.join(allowed)}",
                        allowed=allowed)


def is_reserved(word: str) -> bool:
    """A word that means something in a rule (a saved segment cannot be named so)."""
    key = word.lower()
    return key in FIELDS or key in FUNCTIONS or key in KEYWORDS


def summary() -> list[str]:
    """The allow-list as lines for people (command help): fields, then functions and their arguments."""
    lines = ["fields:"]
    for f in FIELDS.values():
        choices = f": {', '.join(f.choices)}" if f.choices else ""
        lines.append(f"  {f.name:<18} {f.help}{choices}")
    lines.append("functions:")
    for fn in FUNCTIONS.values():
        lines += [f"  {fn.signature:<18} {fn.help}"] if len(fn.signature) <= 18 else [f"  {fn.signature}", f"  {'':<18} {fn.help}"]
        lines += [f"  {'':<18}   {p.name}: {p.help}" for p in fn.params]
    return lines
