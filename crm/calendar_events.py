"""The cluster's calendar: debates, meetings, visits, ceremonies …"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import fields, times, vocabulary
from crm.errors import ValidationError
from crm.models import Event, EventKind


MAX_CAPACITY = 2**31 - 1  # an INTEGER column


def _length(column: object) -> int:
    """The most characters a column holds (PostgreSQL refuses more; SQLite would keep them)."""
    return column.property.columns[0].type.length  # type: ignore[attr-defined]


# A person's word for a kind ('Thematic debate'), as crm.vocabulary reads it.
kind = vocabulary.words(EventKind).parse


def add(
    session: Session,
    kind: EventKind,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    *,
    place: str | None = None,
    online_url: str | None = None,
    capacity: int | None = None,
    organiser: str | None = None,
    description: str | None = None,
) -> Event:
    if not title.strip():
        raise ValidationError("an event needs a title", "title")
    title = fields.text(title, "title", limit=_length(Event.title))
    place, online_url, organiser = (
        fields.text(value, name, limit=_length(column)) if value else None
        for value, name, column in ((place, "place", Event.place), (online_url, "online_url", Event.online_url),
                                    (organiser, "organiser", Event.organiser))
    )
    description = fields.text(description, "description", multiline=True) if description else None
    times.zone(timezone)
    if ends_at < starts_at:
        raise ValidationError("the event ends before it starts", "end")
    if capacity is not None and not 0 < capacity <= MAX_CAPACITY:
        raise ValidationError(f"capacity must be a number of seats from 1 to {MAX_CAPACITY:,}", "capacity")
    if online_url and not online_url.startswith(("https://", "http://")):
        raise ValidationError("the online link must start with https:// or http://", "online_url")
    event = Event(
        kind=kind, title=title.strip(), starts_at=starts_at, ends_at=ends_at, timezone=timezone,
        place=place, online_url=online_url, capacity=capacity, organiser=organiser,
        description=description,
    )
    session.add(event)
    session.flush()
    return event


def list_between(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[Event]:
    query = select(Event).order_by(Event.starts_at, Event.id)
    if since:
        query = query.where(Event.starts_at >= since)
    if until:
        query = query.where(Event.starts_at < until)
    return list(session.scalars(query))


def summary(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "local_start": times.local(event.starts_at, event.timezone),
        "timezone": event.timezone,
        "place": event.place,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "organiser": event.organiser,
        "description": event.description,
    }


def template_variables(event: Event) -> dict[str, str]:
    """What messages show as ``event.*``: every field templates may name
    (``crm.rendering.variables.EVENT_FIELDS``, documented in templates/email/README.md)."""
    return {
        "title": event.title,
        "starts_local": times.local(event.starts_at, event.timezone),
        "ends_local": times.local(event.ends_at, event.timezone),
        "place": event.place or "",
        "online_url": event.online_url or "",
        "description": event.description or "",
    }


def overview(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """`events list`: the events starting in [since, until), by start time, as listings show them."""
    return [summary(e) for e in list_between(session, since, until)]
