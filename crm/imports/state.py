"""What the database already knows about the contacts a file names (set-based loads)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import contacts, custom_fields
from crm.models import (
    ConsentAction,
    ConsentEvent,
    ConsentTopic,
    Contact,
    ContactFieldValue,
    CustomField,
    Organisation,
    Tag,
    contact_tags,
)

CHUNK = 500  # under every engine's bound-parameter limit
COLUMNS = list(contacts.PARSERS)


@dataclass
class Known:
    """One contact as the import sees it: its columns, organisation, tags, custom values."""

    id: int | None
    values: dict[str, Any]
    organisation: str | None = None  # organisations.key() of its name
    organisation_name: str | None = None  # set when a row names a (new) organisation
    organisation_id: int | None = None  # as loaded
    tags: set[str] = field(default_factory=set)
    custom: dict[str, Any] = field(default_factory=dict)  # field key -> value


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def load(session: Session, keys: Iterable[str], fields_by_id: dict[int, CustomField]) -> dict[str, Known]:
    """lower(email) -> Known for the keys that exist: four queries per chunk, none per row."""
    found: dict[str, Known] = {}
    by_id: dict[int, Known] = {}
    columns = [getattr(Contact, c) for c in COLUMNS]
    for chunk in _chunks(sorted(set(keys))):
        rows = session.execute(
            select(Contact.id, Contact.organisation_id, func.lower(Organisation.name), *columns)
            .outerjoin(Organisation, Contact.organisation_id == Organisation.id)
            .where(func.lower(Contact.email).in_(chunk))
        )
        ids = []
        for contact_id, org_id, org_key, *values in rows:
            known = Known(contact_id, dict(zip(COLUMNS, values)), org_key, organisation_id=org_id)
            found[known.values["email"].lower()] = known
            by_id[contact_id] = known
            ids.append(contact_id)
        if not ids:
            continue
        for contact_id, tag in session.execute(
            select(contact_tags.c.contact_id, Tag.name).join(Tag).where(contact_tags.c.contact_id.in_(ids))
        ):
            by_id[contact_id].tags.add(tag)
        for value in session.scalars(select(ContactFieldValue).where(ContactFieldValue.contact_id.in_(ids))):
            definition = fields_by_id.get(value.field_id)
            if definition is not None:
                by_id[value.contact_id].custom[definition.key] = custom_fields.value_of(value, definition.type)
    return found


def latest_consent(session: Session, contact_ids: Iterable[int], topics: Iterable[ConsentTopic]) -> dict[tuple[int, ConsentTopic], ConsentAction]:
    """(contact, topic) -> its latest action, for the given contacts and topics."""
    wanted = list(topics)
    latest: dict[tuple[int, ConsentTopic], ConsentAction] = {}
    if not wanted:
        return latest
    for chunk in _chunks(sorted(set(contact_ids))):
        rows = session.execute(
            select(ConsentEvent.contact_id, ConsentEvent.topic, ConsentEvent.action)
            .where(ConsentEvent.contact_id.in_(chunk), ConsentEvent.topic.in_(wanted))
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
        for contact_id, topic, action in rows:
            latest[(contact_id, topic)] = action
    return latest


def max_contact_id(session: Session) -> int:
    return session.scalar(select(func.max(Contact.id))) or 0


def ids_after(session: Session, after_id: int) -> dict[str, int]:
    """lower(email) -> id of the contacts created after ``after_id`` (one range scan on the
    primary key: cheaper than looking the new addresses up chunk by chunk)."""
    rows = session.execute(select(func.lower(Contact.email), Contact.id).where(Contact.id > after_id))
    return dict(rows.all())
