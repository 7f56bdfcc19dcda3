"""Contacts: add, edit, find, list, describe. Validation goes through crm.fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from crm import consent, custom_fields, fields, organisations, perception, tags
from crm.db import MAX_ID, possible_id
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import (
    AssessmentSource, ConsentAction, ConsentSource, ConsentTopic, Contact, Level, Tag, TargetGroup, contact_tags,
)

# Column name -> parser of a person's text. The order is the export's column order.
# Text goes through fields.text: NFC, stripped, one line without control characters (notes
# may hold line breaks and tabs), NUL refused everywhere.
PARSERS: dict[str, Callable[[str], Any]] = {
    "first_name": lambda s: fields.text(s, "first_name"),
    "last_name": lambda s: fields.text(s, "last_name"),
    "email": fields.email,
    "phone": lambda s: fields.phone(fields.text(s, "phone")),
    "language": lambda s: fields.language(fields.text(s, "language")),
    "position": lambda s: fields.text(s, "position"),
    "city": lambda s: fields.text(s, "city"),
    "target": lambda s: fields.target(fields.text(s, "target")),
    "membership": lambda s: fields.membership(fields.text(s, "membership")),
    "member_since": lambda s: fields.day(fields.text(s, "member_since"), "member_since"),
    "member_until": lambda s: fields.day(fields.text(s, "member_until"), "member_until"),
    "notes": lambda s: fields.text(s, "notes", multiline=True),
}
MAX_PAGE = 100_000  # contacts in one listing page (`list_page`)
MAX_LENGTH = {"first_name": 120, "last_name": 120, "position": 200, "city": 120, "email": 320}


def clean(values: Mapping[str, str | None]) -> dict[str, Any]:
    """Person's text -> typed column values; blank values are left out."""
    result: dict[str, Any] = {}
    for name, raw in values.items():
        if raw is None or not str(raw).strip():
            continue
        parser = PARSERS.get(name)
        if parser is None:
            raise ValidationError(f"unknown contact field {name!r}", name)
        try:
            value = parser(str(raw))
        except ValidationError as exc:
            raise ValidationError(exc.message, name) from None
        limit = MAX_LENGTH.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise ValidationError(f"longer than {limit} characters", name)
        result[name] = value
    since, until = result.get("member_since"), result.get("member_until")
    if isinstance(since, date) and isinstance(until, date) and until < since:
        raise ValidationError("member_until is before member_since", "member_until")
    return result


def clean_tags(names: Iterable[str], field: str = "tags") -> list[str]:
    """Tag names as stored: NFC, one line; ';', ',' and '|' separate tags, so none holds one."""
    result = []
    for name in names:
        value = fields.text(name, field)
        if any(sep in value for sep in ";,|"):
            raise ValidationError(f"tag {value!r} holds a separator (; , |): give each tag on its own", field)
        result.append(tags.clean(value))
    return result


def find_by_email(session: Session, address: str) -> Contact | None:
    # Both sides lowered by the database, as the unique index is (SQLite folds ASCII only).
    return session.scalar(select(Contact).where(func.lower(Contact.email) == func.lower(address.strip())))


def get(session: Session, ref: str | int) -> Contact:
    """By id or by email address."""
    text = str(ref).strip()
    if text.isascii() and text.isdigit():  # an id; one out of range names nobody (and would overflow the driver)
        contact = session.get(Contact, int(text)) if possible_id(int(text)) else None
    else:
        contact = find_by_email(session, text)
    if contact is None:
        raise NotFound(f"no contact {text!r}")
    return contact


def _check_email_free(session: Session, address: str | None, contact_id: int | None) -> None:
    if address is None:
        return
    other = find_by_email(session, address)
    if other is not None and other.id != contact_id:
        raise Conflict(f"{address} is already contact #{other.id}")


def _apply_extras(
    session: Session,
    contact: Contact,
    organisation: str | None,
    add_tags: Iterable[str],
    custom: Mapping[str, str],
) -> None:
    if organisation:
        contact.organisation_id = organisations.resolve(session, organisation)
    tag_ids = tags.ids(session, clean_tags(add_tags))
    tags.link(session, [(contact.id, tag_id) for tag_id in tag_ids.values()])
    if custom:
        known = custom_fields.ensure(session, custom)
        typed = custom_fields.coerce(known, custom)
        custom_fields.put(session, [custom_fields.row_for(contact.id, known[k], v) for k, v in typed.items()])


def add(
    session: Session,
    values: Mapping[str, str | None],
    *,
    organisation: str | None = None,
    add_tags: Iterable[str] = (),
    custom: Mapping[str, str] | None = None,
) -> Contact:
    data = clean(values)
    if not (data.get("email") or data.get("last_name") or data.get("first_name")):
        raise ValidationError("a contact needs at least an email address or a name", "email")
    _check_email_free(session, data.get("email"), None)
    contact = Contact(**data)
    session.add(contact)
    session.flush()
    _apply_extras(session, contact, organisation, add_tags, custom or {})
    session.flush()
    session.refresh(contact)
    return contact


def edit(
    session: Session,
    ref: str | int,
    values: Mapping[str, str | None],
    *,
    organisation: str | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    custom: Mapping[str, str] | None = None,
    clear: Iterable[str] = (),
) -> Contact:
    """Change the given fields; ``clear`` names fields to empty (blank values are ignored)."""
    contact = get(session, ref)
    data = clean(values)
    _check_email_free(session, data.get("email"), contact.id)
    for name in clear:
        if name not in PARSERS:
            raise ValidationError(f"unknown contact field {name!r}", "clear")
        setattr(contact, name, None)
    for name, value in data.items():
        setattr(contact, name, value)
    if not (contact.email or contact.first_name or contact.last_name):
        raise ValidationError("a contact needs at least an email address or a name: keep one of them", "clear")
    session.flush()
    _apply_extras(session, contact, organisation, add_tags, custom or {})
    remove = list(remove_tags)
    if remove:
        tags.unlink(session, contact.id, clean_tags(remove))
    session.flush()
    session.refresh(contact)
    return contact


def list_page(
    session: Session,
    *,
    search: str | None = None,
    target: TargetGroup | None = None,
    tag: str | None = None,
    organisation_id: int | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[Contact]:
    """Contacts by id; ``search`` is plain text (``%``, ``_`` match themselves), a page is
    1 to MAX_PAGE contacts from an offset 0 to MAX_ID."""
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"{limit} is not between 1 and {MAX_PAGE:,}", "limit")
    if not 0 <= offset <= MAX_ID:
        raise ValidationError(f"{offset} is not between 0 and {MAX_ID}", "offset")
    query = select(Contact).options(selectinload(Contact.tags)).order_by(Contact.id)
    if search:
        needle = search.lower()
        query = query.where(
            or_(
                func.lower(Contact.email).contains(needle, autoescape=True),
                func.lower(Contact.last_name).contains(needle, autoescape=True),
                func.lower(Contact.first_name).contains(needle, autoescape=True),
            )
        )
    if target:
        query = query.where(Contact.target == target)
    if tag:
        query = query.where(
            Contact.id.in_(select(contact_tags.c.contact_id).join(Tag).where(Tag.name == tags.clean(tag)))
        )
    if organisation_id:
        query = query.where(Contact.organisation_id == organisation_id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query))


def summary(contact: Contact) -> dict[str, Any]:
    """The contact's own fields, JSON-ready (listings)."""
    data: dict[str, Any] = {"id": contact.id}
    for name in PARSERS:
        value = getattr(contact, name)
        data[name] = value.isoformat() if isinstance(value, date) else (str(value) if value is not None else None)
    data["organisation"] = contact.organisation.name if contact.organisation else None
    data["tags"] = [t.name for t in contact.tags]
    return data


def describe(session: Session, contact: Contact) -> dict[str, Any]:
    """Everything about one contact (show): fields, custom values, consent, perception."""
    data = summary(contact)
    data["custom"] = {k: fields.format_custom(v) for k, v in custom_fields.values(session, contact.id).items()}
    data["consent"] = {t.value: given for t, given in consent.current(session, contact.id).items()}
    data["perception"] = perception.current_segment(session, contact.id).value
    data["created_at"] = contact.created_at.isoformat()
    data["updated_at"] = contact.updated_at.isoformat()
    return data


def overview(session: Session, *, search: str | None = None, target: TargetGroup | None = None,
             tag: str | None = None, organisation: str | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
    """`contacts list`: a page of contacts as listings show them; ``organisation`` is a
    reference as a person gives it ('#5' or a name)."""
    org_id = organisations.get(session, organisation).id if organisation else None
    return [summary(c) for c in list_page(session, search=search, target=target, tag=tag, organisation_id=org_id,
                                          limit=limit, offset=offset)]


# ---- a contact's consent and perception, by its email or id (the ways in) --------------------
# Here rather than in `consent` and `perception`, which this module reads to describe a contact:
# finding the contact from there would make the two modules import each other.

def change_consent(session: Session, ref: str | int, topics: Iterable[ConsentTopic], action: ConsentAction,
                   source: ConsentSource, *, proof: str | None = None, recorded_by: str | None = None) -> dict[str, Any]:
    """`consent give|withdraw`: one event per topic for the contact, and where it now stands
    on every topic."""
    person = get(session, ref)
    events = consent.change(session, person.id, topics, action, source, proof=proof, recorded_by=recorded_by)
    return {
        "contact_id": person.id,
        "email": person.email,
        "action": action.value,
        "events": [consent.describe_event(e) for e in events],
        "current": {t.value: given for t, given in consent.current(session, person.id).items()},
    }


def consent_of(session: Session, ref: str | int) -> dict[str, Any]:
    """`consent show`: the contact's address, its consent per topic now, and the log."""
    person = get(session, ref)
    return {"email": person.email, **consent.describe(session, person.id)}


def reassess(session: Session, ref: str | int, credibility: Level, interest: Level, source: AssessmentSource, *,
             author: str | None = None, note: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """`perception set`: record an assessment of the contact, and its segment before and after."""
    person = get(session, ref)
    change = perception.reassess(session, person.id, credibility, interest, source, author=author, note=note, at=at)
    return {
        "contact_id": person.id,
        "email": person.email,
        "previous": change.previous.value,
        "segment": change.current.value,
        "assessment": perception.describe_assessment(change.assessment),
    }


def perception_history(session: Session, ref: str | int) -> dict[str, Any]:
    """`perception history`: every assessment of the contact with its segment, oldest first."""
    person = get(session, ref)
    return {
        "contact_id": person.id,
        "email": person.email,
        "assessments": [perception.describe_assessment(a) for a in perception.history(session, person.id)],
    }
