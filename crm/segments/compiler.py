"""Rule tree -> SQLAlchemy boolean over `Contact`, with bound parameters only.

Every clause is two-valued (true or false, never NULL), so ``not`` and ``!=`` mean "every
contact the positive clause leaves out", contacts with an empty field included, exactly as
the reference evaluator says. Column clauses test ``IS NOT NULL`` first; everything held in
another table is a correlated ``EXISTS`` (tags, organisation, interactions), and consent and
perception come from `crm.consent.consented` and `crm.perception.in_segments`, so a segment
counts exactly whom a campaign will reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.sql import ColumnElement

from crm.consent import consented
from crm.db import utcnow
from crm.models import (
    INTERNAL_TARGETS,
    ConsentTopic,
    Contact,
    Interaction,
    InteractionKind,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationSize,
    PerceptionSegment,
    Tag,
    TargetGroup,
    contact_tags,
    interaction_contacts,
)
from crm.perception import in_segments
from crm.segments.allowlist import day_start, duration
from crm.segments.ast import And, Call, Compare, Not, Or, Rule

Clause = ColumnElement[bool]
EXTERNAL_TARGETS = tuple(t for t in TargetGroup if t not in INTERNAL_TARGETS)


def _known(column: ColumnElement, clause: Clause) -> Clause:
    """``clause`` made two-valued: an empty column is false, not NULL."""
    return and_(column.is_not(None), clause)


def _language(values: Sequence[str]) -> Clause:
    # "fr" also means the regional variants "fr-CA", "fr-BE"; "pt-BR" means only itself.
    # Lists are compared with IN, prefixes grouped by length: a list of hundreds of values
    # stays one flat expression (SQLite refuses OR chains past 1,000 levels).
    column = Contact.language
    tests: list[Clause] = [column.in_(list(values))]
    prefixes: dict[int, list[str]] = {}
    for value in values:
        if "-" not in value:
            prefixes.setdefault(len(value) + 1, []).append(value + "-")
    for length, group in sorted(prefixes.items()):
        tests.append(func.substr(column, 1, length).in_(group))
    return _known(column, or_(*tests))


def _organisation(condition: Clause) -> Clause:
    return exists().where(Organisation.id == Contact.organisation_id, condition)


def _tag(values: Sequence[str]) -> Clause:
    tag_ids = select(Tag.id).where(Tag.name.in_(values))
    return exists().where(contact_tags.c.contact_id == Contact.id, contact_tags.c.tag_id.in_(tag_ids))


def _city(values: Sequence[str]) -> Clause:
    lowered = func.lower(Contact.city)
    return _known(Contact.city, lowered.in_([func.lower(v) for v in values]))


def _email_domain(values: Sequence[str]) -> Clause:
    # "ends with @domain": the last characters of the address, one IN per length of
    # "@domain" (flat for long lists, where LIKE … OR LIKE … would nest too deep).
    lowered = func.lower(Contact.email)
    by_length: dict[int, list[str]] = {}
    for value in values:
        by_length.setdefault(len(value) + 1, []).append("@" + value)
    tests = [func.substr(lowered, func.length(lowered) - (length - 1)).in_(group)
             for length, group in sorted(by_length.items())]
    return _known(Contact.email, or_(false(), *tests))  # no value: false, not "any address"


FIELD_CLAUSES: dict[str, Callable[[Sequence[str]], Clause]] = {
    "language": _language,
    "target": lambda vs: _known(Contact.target, Contact.target.in_([TargetGroup(v) for v in vs])),
    "membership": lambda vs: _known(Contact.membership, Contact.membership.in_([Membership(v) for v in vs])),
    "perception": lambda vs: in_segments([PerceptionSegment(v) for v in vs]),
    "tag": _tag,
    "city": _city,
    "country": lambda vs: _organisation(Organisation.country.in_(list(vs))),
    "email_domain": _email_domain,
    "organisation.kind": lambda vs: _organisation(Organisation.kind.in_([OrganisationKind(v) for v in vs])),
    "organisation.size": lambda vs: _organisation(Organisation.size.in_([OrganisationSize(v) for v in vs])),
}


def _window(column: ColumnElement, rule: Call, now: datetime) -> list[Clause]:
    """``column`` up to now, and within / since when given."""
    tests: list[Clause] = [column <= now]
    within, since = rule.arg("within"), rule.arg("since")
    if within is not None:
        tests.append(column >= now - duration(str(within)))
    if since is not None:
        tests.append(column >= day_start(str(since)))
    return tests


def _interaction(rule: Call, now: datetime) -> Clause:
    tests = [
        interaction_contacts.c.contact_id == Contact.id,
        interaction_contacts.c.interaction_id == Interaction.id,
        *_window(Interaction.occurred_at, rule, now),
    ]
    if (kind := rule.arg("kind")) is not None:
        tests.append(Interaction.kind == InteractionKind(kind))
    if (event := rule.arg("event")) is not None:
        tests.append(Interaction.event_id == int(event))
    return exists().where(*tests)


def _call(rule: Call, now: datetime) -> Clause:
    if rule.fn == "all":
        return true()
    if rule.fn == "member":
        return _known(Contact.membership, Contact.membership == Membership.MEMBER)
    if rule.fn == "internal":
        return _known(Contact.target, Contact.target.in_(sorted(INTERNAL_TARGETS)))
    if rule.fn == "external":
        return _known(Contact.target, Contact.target.in_(EXTERNAL_TARGETS))
    if rule.fn == "consent":
        return consented(ConsentTopic(rule.arg("topic")))
    if rule.fn == "interaction":
        return _interaction(rule, now)
    if rule.fn == "created":
        return and_(*_window(Contact.created_at, rule, now))
    raise ValueError(f"no SQL for function {rule.fn!r}")


def _compile(rule: Rule, now: datetime) -> Clause:
    if isinstance(rule, Compare):
        clause = FIELD_CLAUSES[rule.field](rule.values)
        return ~clause if rule.negative else clause
    if isinstance(rule, Call):
        return _call(rule, now)
    if isinstance(rule, Not):
        return ~_compile(rule.item, now)
    if isinstance(rule, And):
        return and_(*(_compile(i, now) for i in rule.items))
    if isinstance(rule, Or):
        return or_(*(_compile(i, now) for i in rule.items))
    raise TypeError(f"not a rule: {rule!r}")


def compile_rule(rule: Rule, *, now: datetime | None = None) -> Clause:
    """The rule as a WHERE clause over `Contact`; ``now`` anchors within= and "up to now"."""
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _compile(rule, moment)
