"""Interactions: log a visit, a meeting, a call … and list them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import contacts as contact_service
from crm import fields, organisations, vocabulary
from crm.db import possible_id
from crm.errors import NotFound
from crm.models import Event, Interaction, InteractionKind, interaction_contacts

# A person's word for a kind ('Visite entreprise', 'AG'), as crm.vocabulary reads it.
kind = vocabulary.words(InteractionKind).parse


def log(
    session: Session,
    kind: InteractionKind,
    occurred_at: datetime,
    *,
    contacts: Iterable[str | int] = (),
    organisation: str | int | None = None,
    led_by: str | None = None,
    event_id: int | None = None,
    subject: str | None = None,
    notes: str | None = None,
    outcome: str | None = None,
) -> Interaction:
    # The same person named twice (id and email) is one participant, not a duplicate row.
    people = list({c.id: c for c in (contact_service.get(session, ref) for ref in contacts)}.values())
    org = organisations.get(session, organisation) if organisation is not None else None
    if org is None and people and people[0].organisation_id:
        org_id: int | None = people[0].organisation_id
    else:
        org_id = org.id if org else None
    if event_id is not None and (not possible_id(event_id) or session.get(Event, event_id) is None):
        raise NotFound(f"no event {event_id} (see `crm events list`)")
    interaction = Interaction(
        kind=kind, occurred_at=occurred_at, led_by=_text(led_by, "by", 120), organisation_id=org_id,
        event_id=event_id, subject=_text(subject, "subject", 300), notes=_text(notes, "notes", None, multiline=True),
        outcome=_text(outcome, "outcome", None, multiline=True), contacts=people,
    )
    session.add(interaction)
    session.flush()
    return interaction


def _text(raw: str | None, field: str, limit: int | None, *, multiline: bool = False) -> str | None:
    """Free text at the door (NFC, no NUL or control characters), empty = none."""
    if raw is None:
        return None
    return fields.text(raw, field, multiline=multiline, limit=limit) or None


def list_recent(
    session: Session,
    *,
    contact: str | int | None = None,
    kind: InteractionKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
) -> list[Interaction]:
    query = (
        select(Interaction)
        .options(selectinload(Interaction.contacts), selectinload(Interaction.organisation))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
    )
    if contact is not None:
        person = contact_service.get(session, contact)
        query = query.where(
            Interaction.id.in_(select(interaction_contacts.c.interaction_id).where(interaction_contacts.c.contact_id == person.id))
        )
    if kind:
        query = query.where(Interaction.kind == kind)
    if since:
        query = query.where(Interaction.occurred_at >= since)
    if until:
        query = query.where(Interaction.occurred_at < until)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def overview(session: Session, *, contact: str | int | None = None, kind: InteractionKind | None = None,
             since: datetime | None = None, until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """`interactions list`: the most recent first, as listings show them (``contact``: an
    email or id, the contact must exist)."""
    return [summary(i) for i in list_recent(session, contact=contact, kind=kind, since=since, until=until, limit=limit)]


def summary(interaction: Interaction) -> dict[str, Any]:
    return {
        "id": interaction.id,
        "kind": interaction.kind.value,
        "occurred_at": interaction.occurred_at.isoformat(),
        "led_by": interaction.led_by,
        "organisation": interaction.organisation.name if interaction.organisation else None,
        "contacts": [c.email or c.full_name for c in interaction.contacts],
        "event_id": interaction.event_id,
        "subject": interaction.subject,
        "notes": interaction.notes,
        "outcome": interaction.outcome,
    }
