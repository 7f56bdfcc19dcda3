"""What the database already knows about the contacts a file names (set-based loads)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import contacts, custom_fields, organisations
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


def occurrence(base: str, n: int) -> str:
    """The key of the n-th (from 1) contact without an address with the same name_key."""
    return f"{base}\x1e{n}"


def load(session: Session, keys: Iterable[str], fields_by_id: dict[int, CustomField]) -> dict[str, Known]:
    """key -> Known for the keys that exist: four queries per chunk, none per row.

    Keys are lower(email), or occurrence(rows.name_key(…), n) for contacts without an
    address: the n-th such contact by id with that name and organisation.
    """
    found: dict[str, Known] = {}
    wanted = set(keys)
    columns = [getattr(Contact, c) for c in COLUMNS]
    base = select(Contact.id, Contact.organisation_id, Organisation.name, *columns).outerjoin(
        Organisation, Contact.organisation_id == Organisation.id
    )
    for chunk in _chunks(sorted(k for k in wanted if not k.startswith("\0"))):
        rows = session.execute(base.where(func.lower(Contact.email).in_(chunk)))
        batch = {}
        for contact_id, org_id, org_name, *values in rows:
            known = Known(contact_id, dict(zip(COLUMNS, values)), _org_key(org_name), organisation_id=org_id)
            found[known.values["email"].lower()] = batch[contact_id] = known
        _load_extras(session, batch, fields_by_id)
    if any(k.startswith("\0") for k in wanted):
        from crm.csvfiles.rows import name_key

        seen: dict[str, int] = {}
        batch = {}
        for contact_id, org_id, org_name, *values in session.execute(base.where(Contact.email.is_(None)).order_by(Contact.id)):
            known = Known(contact_id, dict(zip(COLUMNS, values)), _org_key(org_name), organisation_id=org_id)
            name = name_key(known.values["first_name"], known.values["last_name"], org_name)
            seen[name] = seen.get(name, 0) + 1
            key = occurrence(name, seen[name])
            if key in wanted:
                found[key] = batch[contact_id] = known
        for chunk in _chunks(list(batch)):
            _load_extras(session, {i: batch[i] for i in chunk}, fields_by_id)
    return found


def _org_key(name: str | None) -> str | None:
    return organisations.key(name) if name is not None else None


def _load_extras(session: Session, by_id: dict[int, Known], fields_by_id: dict[int, CustomField]) -> None:
    """Tags and custom values of at most CHUNK contacts."""
    ids = list(by_id)
    if ids:
        for contact_id, tag in session.execute(
            select(contact_tags.c.contact_id, Tag.name).join(Tag).where(contact_tags.c.contact_id.in_(ids))
        ):
            by_id[contact_id].tags.add(tag)
        for value in session.scalars(select(ContactFieldValue).where(ContactFieldValue.contact_id.in_(ids))):
            definition = fields_by_id.get(value.field_id)
            if definition is not None:
                by_id[value.contact_id].custom[definition.key] = custom_fields.value_of(value, definition.type)


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


def ids_after(session: Session, after_id: int) -> tuple[dict[str, int], dict[tuple[str | None, str | None, int | None], list[int]]]:
    """The contacts created after ``after_id`` (one range scan on the primary key: cheaper
    than looking the new addresses up chunk by chunk): lower(email) -> id, and for those
    without an address (first name, last name, organisation id) -> their ids in id order."""
    by_email: dict[str, int] = {}
    by_name: dict[tuple[str | None, str | None, int | None], list[int]] = {}
    rows = session.execute(
        select(Contact.email, Contact.first_name, Contact.last_name, Contact.organisation_id, Contact.id)
        .where(Contact.id > after_id)
        .order_by(Contact.id)
    )
    for email, first, last, org_id, contact_id in rows:
        if email is None:
            by_name.setdefault((first, last, org_id), []).append(contact_id)
        else:
            by_email[email.lower()] = contact_id
    return by_email, by_name
