"""`crm demo`: a realistic demo cluster built in an empty database, and what it holds.

The demo is recognised by a marker: the tag ``demo`` on every demo contact. A database
that already holds the demo is left as it is; one that holds anything else is refused,
so demo data is never mixed into real data.
"""

from __future__ import annotations

import enum
import random
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from time import perf_counter
from typing import Any

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from crm import consent, perception
from crm.demo import data
from crm.db import utcnow
from crm.demo.activity import add_calendar, add_interactions, add_perception
from crm.demo.people import Demo, add_consents, add_contacts, add_organisations
from crm.errors import ConfigError, ValidationError
from crm.models import (
    ConsentEvent,
    ConsentTopic,
    Contact,
    Event,
    EventKind,
    Interaction,
    InteractionKind,
    Membership,
    Organisation,
    OrganisationKind,
    PerceptionSegment,
    Tag,
    TargetGroup,
    contact_tags,
    interaction_contacts,
)

MIN_CONTACTS = 40  # enough for every target group and every perception segment
MAX_CONTACTS = 5000
REFUSAL = ("this database already holds data that is not the demo ({what}): run `crm demo` in an "
           "empty folder, or point CRM_DATABASE_URL at an empty database")


def _census(session: Session) -> tuple[int, int]:
    """(contacts, contacts carrying the demo marker)."""
    contacts = session.scalar(select(func.count()).select_from(Contact)) or 0
    marked = session.scalar(
        select(func.count(distinct(contact_tags.c.contact_id)))
        .join(Tag, Tag.id == contact_tags.c.tag_id)
        .where(Tag.name == data.MARKER_TAG)
    ) or 0
    return contacts, marked


def status(session: Session) -> str:
    """'empty', 'demo' (every contact carries the marker tag) or 'other'."""
    contacts, marked = _census(session)
    if contacts:
        return "demo" if marked == contacts else "other"
    for table in (Organisation, Event, Interaction):
        if session.scalar(select(exists().select_from(table))):
            return "other"
    return "empty"


def build(session: Session, *, seed: int = 2026, contacts: int = 300, today: date | None = None) -> dict[str, Any]:
    """Build the demo cluster (or find it already there) and return the summary of it.

    Deterministic for a seed and a day. Raises ConfigError (CRM_DATABASE_URL) on a database holding other data.
    """
    started = perf_counter()
    today = today or utcnow().date()
    if not MIN_CONTACTS <= contacts <= MAX_CONTACTS:
        raise ValidationError(f"between {MIN_CONTACTS} and {MAX_CONTACTS} contacts, not {contacts}", "contacts")
    state = status(session)
    if state == "other":
        contacts_, marked = _census(session)
        count = contacts_ - marked
        what = f"{count} contact{'s' if count > 1 else ''}" if count else "organisations, events or interactions"
        raise ConfigError(REFUSAL.format(what=what), "CRM_DATABASE_URL")
    if state == "empty":
        demo = Demo(random.Random(seed), today, contacts)
        add_organisations(session, demo)
        add_contacts(session, demo)
        add_consents(session, demo)
        calendar = add_calendar(session, demo)
        add_interactions(session, demo, calendar)
        add_perception(session, demo)
        session.flush()
    return summary(session, today=today, existed=state == "demo", started=started)


def _grouped(session: Session, column: Any, order: Iterable[enum.Enum] | None = None) -> dict[str, int]:
    """value -> count; enumerations keep their order and show their zeros, others go by count."""
    rows = session.execute(select(column, func.count()).group_by(column)).all()
    counts = {(v.value if isinstance(v, enum.Enum) else v) or "none": n for v, n in rows}
    if order is None:
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    result = {m.value: counts.pop(m.value, 0) for m in order}  # type: ignore[union-attr]
    result.update(counts)
    return result


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(Contact).where(*where)) or 0


def summary(session: Session, *, today: date | None = None, existed: bool = False,
            started: float | None = None) -> dict[str, Any]:
    """What the database holds, JSON-ready: counts by kind, consent, perception movement."""
    started = perf_counter() if started is None else started
    now = datetime.combine(today or utcnow().date(), time(0), timezone.utc)
    since, until = now - timedelta(days=365), now + timedelta(days=1)
    moves = perception.movements(session, since, until)
    distribution = perception.distribution(session)
    first, last = session.execute(select(func.min(Interaction.occurred_at), func.max(Interaction.occurred_at))).one()
    tag_counts = dict(session.execute(
        select(Tag.name, func.count()).join(contact_tags, contact_tags.c.tag_id == Tag.id)
        .where(Tag.name != data.MARKER_TAG).group_by(Tag.name).order_by(func.count().desc(), Tag.name)
    ).all())
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    return {
        "cluster": data.CLUSTER,
        "already_existed": existed,
        "database": engine.url.render_as_string(hide_password=True),
        "organisations": {
            "total": session.scalar(select(func.count()).select_from(Organisation)) or 0,
            "by_kind": _grouped(session, Organisation.kind, OrganisationKind),
            "by_country": _grouped(session, Organisation.country),
        },
        "contacts": {
            "total": _count(session),
            "with_email": _count(session, Contact.email.is_not(None)),
            "by_target": _grouped(session, Contact.target, TargetGroup),
            "by_language": _grouped(session, Contact.language),
            "by_membership": _grouped(session, Contact.membership, Membership),
            "by_perception": {s.value: distribution[s] for s in PerceptionSegment},
            "by_tag": tag_counts,
        },
        "consent": {
            "events": session.scalar(select(func.count()).select_from(ConsentEvent)) or 0,
            "opted_in": {t.value: _count(session, consent.consented(t)) for t in ConsentTopic},
            "opted_out": {
                t.value: _count(session, ~consent.consented(t), exists().where(
                    ConsentEvent.contact_id == Contact.id, ConsentEvent.topic == t))
                for t in ConsentTopic
            },
        },
        "events": {
            "total": session.scalar(select(func.count()).select_from(Event)) or 0,
            "upcoming": session.scalar(select(func.count()).select_from(Event).where(Event.starts_at >= now)) or 0,
            "by_kind": _grouped(session, Event.kind, EventKind),
        },
        "interactions": {
            "total": session.scalar(select(func.count()).select_from(Interaction)) or 0,
            "participations": session.scalar(select(func.count()).select_from(interaction_contacts)) or 0,
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "led_by": sorted(session.scalars(
                select(Interaction.led_by).distinct().where(Interaction.led_by.is_not(None)))),
            "by_kind": _grouped(session, Interaction.kind, InteractionKind),
        },
        "perception_movements": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "count": len(moves),
            "contacts": len({m.contact_id for m in moves}),
            "by_change": dict(sorted(Counter(f"{m.before.value}->{m.after.value}" for m in moves).items(),
                                     key=lambda item: (-item[1], item[0]))),
        },
        "seconds": round(perf_counter() - started, 2),
    }
