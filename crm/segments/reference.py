"""The meaning of a rule in plain Python, over contacts held in memory.

This is the specification the SQL compiler is tested against (tests/test_segments_property.py):
the same rule must select the same contacts from the same data. It reads nothing from the
database and shares no code with the compiler beyond the allow-list's value helpers.

- consent(topic): the contact's latest event on the topic (by time, then id) is an opt-in;
- perception: the latest assessment's segment (by time, then id); never assessed = no_opinion;
- interaction(…) / created(…): at or before ``now``, and within / since when given;
- an empty field matches no value, so ``!=``, ``not in`` and ``not`` select it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from crm.models import (
    INTERNAL_TARGETS,
    ConsentAction,
    Level,
    Membership,
    PerceptionSegment,
    TargetGroup,
)
from crm.segments.allowlist import day_start, duration
from crm.segments.ast import And, Call, Compare, Not, Or, Rule


@dataclass(frozen=True)
class Organisation:
    kind: str = "company"
    size: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class ConsentFact:
    id: int
    topic: str
    action: str
    at: datetime


@dataclass(frozen=True)
class AssessmentFact:
    id: int
    credibility: str
    interest: str
    at: datetime


@dataclass(frozen=True)
class InteractionFact:
    kind: str
    at: datetime
    event_id: int | None = None


@dataclass
class Person:
    """What a rule can look at for one contact."""

    id: int
    created_at: datetime
    email: str | None = None
    language: str | None = None
    target: str | None = None
    membership: str | None = None
    city: str | None = None
    organisation: Organisation | None = None
    tags: frozenset[str] = frozenset()
    consents: list[ConsentFact] = field(default_factory=list)
    assessments: list[AssessmentFact] = field(default_factory=list)
    interactions: list[InteractionFact] = field(default_factory=list)


def _latest(facts: Iterable[ConsentFact] | Iterable[AssessmentFact]):  # noqa: ANN202
    return max(facts, key=lambda f: (f.at, f.id), default=None)


def consented(person: Person, topic: str) -> bool:
    latest = _latest(f for f in person.consents if f.topic == topic)
    return latest is not None and latest.action == ConsentAction.OPT_IN


def perception(person: Person) -> str:
    latest = _latest(person.assessments)
    if latest is None:
        return PerceptionSegment.NO_OPINION.value
    return PerceptionSegment.of(Level(latest.credibility), Level(latest.interest)).value


def _language(person: Person, value: str) -> bool:
    spoken = person.language
    return spoken is not None and (spoken == value or ("-" not in value and spoken.startswith(value + "-")))


def _field_matches(person: Person, name: str, value: str) -> bool:
    org = person.organisation
    if name == "language":
        return _language(person, value)
    if name == "target":
        return person.target == value
    if name == "membership":
        return person.membership == value
    if name == "perception":
        return perception(person) == value
    if name == "tag":
        return value in person.tags
    if name == "city":
        return person.city is not None and person.city.lower() == value.lower()
    if name == "country":
        return org is not None and org.country == value
    if name == "email_domain":
        return person.email is not None and person.email.lower().endswith("@" + value)
    if name == "organisation.kind":
        return org is not None and org.kind == value
    if name == "organisation.size":
        return org is not None and org.size == value
    raise ValueError(f"no meaning for field {name!r}")


def _in_window(at: datetime, rule: Call, now: datetime) -> bool:
    within, since = rule.arg("within"), rule.arg("since")
    return (
        at <= now
        and (within is None or at >= now - duration(str(within)))
        and (since is None or at >= day_start(str(since)))
    )


def _call(person: Person, rule: Call, now: datetime) -> bool:
    if rule.fn == "all":
        return True
    if rule.fn == "member":
        return person.membership == Membership.MEMBER
    if rule.fn in ("internal", "external"):
        if person.target is None:
            return False
        return (TargetGroup(person.target) in INTERNAL_TARGETS) == (rule.fn == "internal")
    if rule.fn == "consent":
        return consented(person, str(rule.arg("topic")))
    if rule.fn == "interaction":
        kind, event = rule.arg("kind"), rule.arg("event")
        return any(
            _in_window(i.at, rule, now)
            and (kind is None or i.kind == kind)
            and (event is None or i.event_id == event)
            for i in person.interactions
        )
    if rule.fn == "created":
        return _in_window(person.created_at, rule, now)
    raise ValueError(f"no meaning for function {rule.fn!r}")


def matches(rule: Rule, person: Person, now: datetime) -> bool:
    """Does ``person`` belong to the segment ``rule`` at ``now``?"""
    if isinstance(rule, Compare):
        found = any(_field_matches(person, rule.field, v) for v in rule.values)
        return not found if rule.negative else found
    if isinstance(rule, Call):
        return _call(person, rule, now)
    if isinstance(rule, Not):
        return not matches(rule.item, person, now)
    if isinstance(rule, And):
        return all(matches(i, person, now) for i in rule.items)
    if isinstance(rule, Or):
        return any(matches(i, person, now) for i in rule.items)
    raise TypeError(f"not a rule: {rule!r}")


def select_ids(rule: Rule, people: Iterable[Person], now: datetime) -> set[int]:
    return {p.id for p in people if matches(rule, p, now)}
