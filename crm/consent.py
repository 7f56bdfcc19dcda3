"""Consent: recorded as a log, read as "the latest event per topic wins"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from crm.db import utcnow
from crm.errors import ValidationError
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact
from crm.vocabulary import choices, fold

_TOPIC_WORDS = {
    "newsletter": ConsentTopic.NEWSLETTER, "lettre d information": ConsentTopic.NEWSLETTER,
    "events": ConsentTopic.EVENTS, "event": ConsentTopic.EVENTS, "evenements": ConsentTopic.EVENTS,
    "press": ConsentTopic.PRESS, "presse": ConsentTopic.PRESS,
    "calls": ConsentTopic.CALLS, "calls for projects": ConsentTopic.CALLS,
    "appels a projets": ConsentTopic.CALLS, "surveys": ConsentTopic.SURVEYS,
    "survey": ConsentTopic.SURVEYS, "enquetes": ConsentTopic.SURVEYS,
}


def topic(raw: str) -> ConsentTopic:
    found = _TOPIC_WORDS.get(fold(raw))
    if found is None:
        raise ValidationError(
            f"unknown consent topic {raw.strip()!r}; allowed: {choices(ConsentTopic)}", "topic"
        )
    return found


def topics(raw: str) -> list[ConsentTopic]:
    """'newsletter,events' -> [newsletter, events] (for --consent options)."""
    return list(dict.fromkeys(topic(part) for part in raw.split(",") if part.strip()))


def record(
    session: Session,
    contact_id: int,
    topic: ConsentTopic,
    action: ConsentAction,
    source: ConsentSource,
    *,
    proof: str | None = None,
    recorded_by: str | None = None,
    at: datetime | None = None,
) -> ConsentEvent:
    event = ConsentEvent(
        contact_id=contact_id,
        topic=topic,
        action=action,
        source=source,
        proof=proof,
        recorded_by=recorded_by,
        at=at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def record_many(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Set-based: one executemany for a whole import's opt-ins."""
    batch = [dict(row) for row in rows]
    if batch:
        session.execute(insert(ConsentEvent), batch)
    return len(batch)


def _newer(event: Any) -> ColumnElement[bool]:
    """A later event than ``event`` for the same contact and topic exists."""
    later = aliased(ConsentEvent)
    return exists().where(
        later.contact_id == event.contact_id,
        later.topic == event.topic,
        or_(later.at > event.at, and_(later.at == event.at, later.id > event.id)),
    )


def consented(topic: ConsentTopic, contact_id: Any = Contact.id) -> ColumnElement[bool]:
    """SQL: the contact's latest event on ``topic`` is an opt-in (segments, suppression)."""
    event = aliased(ConsentEvent)
    return exists().where(
        event.contact_id == contact_id,
        event.topic == topic,
        event.action == ConsentAction.OPT_IN,
        ~_newer(event),
    )


def current(session: Session, contact_id: int) -> dict[ConsentTopic, bool]:
    """Every topic -> True when the latest event is an opt-in (no event: False)."""
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.contact_id == contact_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    state = {t: False for t in ConsentTopic}
    for event in events:
        state[event.topic] = event.action is ConsentAction.OPT_IN
    return state


def history(session: Session, contact_id: int) -> list[ConsentEvent]:
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact_id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )
