"""Consent: recorded as a log, read as "the latest event per topic wins"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from crm import fields, vocabulary
from crm.db import insert_rows, utcnow
from crm.errors import ValidationError
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact

# A person's word for a topic ('Événements') or a source, as crm.vocabulary reads it.
topic = vocabulary.words(ConsentTopic).parse
source = vocabulary.words(ConsentSource).parse


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
        proof=fields.text(proof, "proof", multiline=True) or None if proof is not None else None,
        recorded_by=fields.text(recorded_by, "by", limit=120) or None if recorded_by is not None else None,
        at=at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event


def record_many(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Set-based: one executemany for a whole import's opt-ins."""
    batch = [dict(row) for row in rows]
    insert_rows(session, ConsentEvent, batch)
    return len(batch)


def _newer(event: Any) -> ColumnElement[bool]:
    """A later event than ``event`` for the same contact and topic exists."""
    later = aliased(ConsentEvent)
    return exists().where(
        later.contact_id == event.contact_id,
        later.topic == event.topic,
        or_(later.at > event.at, and_(later.at == event.at, later.id > event.id)),
    )


def latest_is(topic: ConsentTopic, action: ConsentAction, contact_id: Any = Contact.id) -> ColumnElement[bool]:
    """SQL: the contact's latest event on ``topic`` is ``action``."""
    event = aliased(ConsentEvent)
    return exists().where(
        event.contact_id == contact_id,
        event.topic == topic,
        event.action == action,
        ~_newer(event),
    )


def consented(topic: ConsentTopic, contact_id: Any = Contact.id) -> ColumnElement[bool]:
    """SQL: the contact's latest event on ``topic`` is an opt-in (segments, suppression)."""
    return latest_is(topic, ConsentAction.OPT_IN, contact_id)


def withdrawn(topic: ConsentTopic, contact_id: Any = Contact.id) -> ColumnElement[bool]:
    """SQL: the contact's latest event on ``topic`` is an opt-out."""
    return latest_is(topic, ConsentAction.OPT_OUT, contact_id)


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


def change(
    session: Session,
    contact_id: int,
    topics: Iterable[ConsentTopic],
    action: ConsentAction,
    source: ConsentSource,
    *,
    proof: str | None = None,
    recorded_by: str | None = None,
    at: datetime | None = None,
) -> list[ConsentEvent]:
    """One event per topic, all at the same moment (give or withdraw from the CLI, a form …)."""
    wanted = list(dict.fromkeys(topics))
    if not wanted:
        raise ValidationError("give at least one topic", "topic")
    moment = at or utcnow()
    return [
        record(session, contact_id, t, action, source, proof=proof, recorded_by=recorded_by, at=moment)
        for t in wanted
    ]


def describe_event(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "topic": event.topic.value,
        "action": event.action.value,
        "source": event.source.value,
        "proof": event.proof,
        "recorded_by": event.recorded_by,
    }


def describe(session: Session, contact_id: int) -> dict[str, Any]:
    """The current consent per topic and the whole log, oldest first."""
    return {
        "contact_id": contact_id,
        "current": {t.value: given for t, given in current(session, contact_id).items()},
        "log": [describe_event(e) for e in history(session, contact_id)],
    }
