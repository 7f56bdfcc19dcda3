"""Organisations: add, find, list; and the set-based find-or-create used by imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crm import fields
from crm.db import possible_id
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import Contact, Organisation, OrganisationKind

_CHUNK = 500  # keeps IN (...) lists under every engine's bound-parameter limit
NAME_LIMIT = 200
REF_HELP = "'#ID' (e.g. '#5') for the organisation with that id; anything else is its name"


def key(name: str) -> str:
    """What makes two names the same organisation (the unique index is on lower(name))."""
    return " ".join(name.split()).lower()


def clean_name(raw: str, field: str = "organisation") -> str:
    """A name as stored: NFC, one line without control characters, inner spaces collapsed."""
    return " ".join(fields.text(raw, field, limit=NAME_LIMIT).split())


def _id_ref(ref: str | int) -> int | None:
    """The id a reference names ('#5' or the int 5), or None for a name."""
    if isinstance(ref, int):
        return ref
    text = ref.strip()
    if text.startswith("#") and text[1:].strip().isdigit():
        return int(text[1:].strip())
    return None


def _by_id(session: Session, org_id: int) -> Organisation | None:
    """An id out of range names nothing (and would overflow the driver)."""
    return session.get(Organisation, org_id) if possible_id(org_id) else None


def _digits_hint(text: str) -> str:
    return f" (for the organisation with id {text.strip()}, write '#{text.strip()}')" if text.strip().isdigit() else ""


def _same_name(names: list[str]) -> Any:
    """SQL: lower(name) matches one of ``names`` lowered by the database itself.

    SQLite's lower() folds ASCII only; comparing with Python's lower() would miss
    "ÉCOLE" and then hit the unique index. The database lowers both sides alike.
    """
    return func.lower(Organisation.name).in_([func.lower(n) for n in names])


def add(
    session: Session,
    name: str,
    *,
    kind: str | OrganisationKind | None = None,
    sector: str | None = None,
    region: str | None = None,
    country: str | None = None,
    website: str | None = None,
    size: str | None = None,
) -> Organisation:
    clean = clean_name(name, "name")
    if not clean:
        raise ValidationError("an organisation needs a name", "name")
    if _id_ref(clean) is not None:
        raise ValidationError(f"{clean!r} reads as an organisation id ('#' + digits): drop the '#'", "name")
    if find(session, clean) is not None:
        raise Conflict(f"organisation {clean!r} already exists")
    org = Organisation(
        name=clean,
        kind=kind if isinstance(kind, OrganisationKind) else fields.organisation_kind(kind) if kind else OrganisationKind.COMPANY,
        **attributes(sector=sector, region=region, country=country, website=website, size=size),
    )
    session.add(org)
    session.flush()
    return org


ATTRIBUTE_LIMITS = {"sector": 120, "region": 120, "website": 300}


def attributes(**raw: str | None) -> dict[str, Any]:
    """An organisation's optional fields (sector, region, country, website, size) from a
    person's text, validated; blank ones are left out."""
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if text is None or not str(text).strip():
            continue
        if name == "country":
            values[name] = fields.country(fields.text(text, name))
        elif name == "size":
            values[name] = fields.organisation_size(fields.text(text, name))
        elif name == "kind":
            values[name] = fields.organisation_kind(fields.text(text, name))
        else:
            values[name] = fields.text(text, name, limit=ATTRIBUTE_LIMITS[name])
    return values


def find(session: Session, name: str) -> Organisation | None:
    clean = " ".join(fields.nfc(name).split())
    return session.scalar(select(Organisation).where(func.lower(Organisation.name) == func.lower(clean)))


def get(session: Session, ref: str | int) -> Organisation:
    """By reference: '#5' (or the int 5) is the id, anything else the name (case-insensitively).

    One rule for every `--org` option: a bare '5' is a name, never an id.
    """
    org_id = _id_ref(ref)
    org = _by_id(session, org_id) if org_id is not None else find(session, str(ref))
    if org is None:
        raise NotFound(
            f"no organisation #{org_id}: see `crm orgs list` for the ids" if org_id is not None
            else f"no organisation named {str(ref).strip()!r}{_digits_hint(str(ref))}: see `crm orgs list`"
        )
    return org


def resolve(session: Session, ref: str, *, option: str = "--org") -> int:
    """The id of the organisation a contact's ``--org`` names, creating it when it is a new
    name. '#5' must exist; a new name made of digits only is refused (the '#' was forgotten)."""
    org_id = _id_ref(ref)
    if org_id is not None:
        if _by_id(session, org_id) is None:
            raise NotFound(f"{option} {ref.strip()}: no organisation #{org_id}: see `crm orgs list` for the ids")
        return org_id
    name = clean_name(ref, option)
    if not name:
        raise ValidationError("an organisation needs a name", option)
    existing = find(session, name)
    if existing is not None:
        return existing.id
    if name.isdigit():
        raise ValidationError(
            f"no organisation named {name!r}; write '#{name}' for the organisation with id {name}, "
            f"or create one with that name first: crm orgs add {name}",
            option,
        )
    return ids_by_name(session, [name], create=True)[key(name)]


def list_all(session: Session, *, search: str | None = None, kind: OrganisationKind | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(func.lower(Organisation.name))
    if search:
        # literally: % and _ typed in a search are characters, not LIKE wildcards
        query = query.where(func.lower(Organisation.name).contains(search.lower(), autoescape=True))
    if kind:
        query = query.where(Organisation.kind == kind)
    return list(session.scalars(query))


def contact_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Contact.organisation_id, func.count()).where(Contact.organisation_id.is_not(None)).group_by(Contact.organisation_id)
    )
    return {org_id: count for org_id, count in rows}


def ids_by_name(session: Session, names: Iterable[str], *, create: bool) -> dict[str, int]:
    """key(name) -> id for every name, creating the missing ones in one executemany.

    Set-based for imports: one SELECT per chunk of names, one INSERT for the new ones.
    """
    wanted: dict[str, str] = {}
    for name in names:
        clean = " ".join(fields.nfc(name).split())
        if clean:
            wanted.setdefault(key(clean), clean)
    found: dict[str, int] = {}
    keys = list(wanted)

    def lookup(chunk: list[str]) -> None:
        rows = session.execute(select(Organisation.name, Organisation.id).where(_same_name([wanted[k] for k in chunk])))
        for name, org_id in rows:
            found.setdefault(key(name), org_id)

    for start in range(0, len(keys), _CHUNK):
        lookup(keys[start : start + _CHUNK])
    missing = [k for k in keys if k not in found]
    if missing and create:
        session.execute(insert(Organisation), [{"name": wanted[k], "kind": OrganisationKind.COMPANY} for k in missing])
        for start in range(0, len(missing), _CHUNK):
            lookup(missing[start : start + _CHUNK])
    return found


def _changes(org: Organisation, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(org, name) != value}


def count_changes(session: Session, wanted: dict[str, tuple[str, dict[str, Any]]]) -> int:
    """How many existing organisations the fields in ``wanted`` (key(name) -> (name, fields))
    would change (an import's summary; a dry run computes it too)."""
    names = [name for name, values in wanted.values() if values]
    ids = ids_by_name(session, names, create=False) if names else {}
    if not ids:
        return 0
    orgs = {org.id: org for org in _by_ids(session, list(ids.values()))}
    return sum(1 for k, org_id in ids.items() if _changes(orgs[org_id], wanted[k][1]))


def _by_ids(session: Session, ids: list[int]) -> list[Organisation]:
    found: list[Organisation] = []
    for start in range(0, len(ids), _CHUNK):
        found.extend(session.scalars(select(Organisation).where(Organisation.id.in_(ids[start : start + _CHUNK]))))
    return found


def set_attributes(session: Session, values_by_id: dict[int, dict[str, Any]]) -> None:
    """Give organisations the (validated) kind, country … in ``values_by_id``: one
    executemany for those that change."""
    if not values_by_id:
        return
    orgs = _by_ids(session, list(values_by_id))
    changes = [{"id": org.id, **_changes(org, values_by_id[org.id])} for org in orgs]
    changes = [c for c in changes if len(c) > 1]
    for group in {tuple(sorted(c)) for c in changes}:  # executemany wants the same columns
        session.execute(update(Organisation), [c for c in changes if tuple(sorted(c)) == group])
    session.expire_all()


def members(session: Session, org_id: int) -> list[Contact]:
    """The organisation's contacts, by name."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.organisation_id == org_id)
            .order_by(func.lower(func.coalesce(Contact.last_name, Contact.first_name, Contact.email, "")), Contact.id)
        )
    )


def summary(org: Organisation, contact_count: int | None = None) -> dict[str, Any]:
    """The organisation's own fields, JSON-ready."""
    data: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "kind": org.kind.value,
        "sector": org.sector,
        "region": org.region,
        "country": org.country,
        "website": org.website,
        "size": org.size.value if org.size else None,
    }
    if contact_count is not None:
        data["contact_count"] = contact_count
    return data


def overview(session: Session, *, search: str | None = None, kind: OrganisationKind | None = None) -> list[dict[str, Any]]:
    """Listing rows: every matching organisation with its number of contacts."""
    counts = contact_counts(session)
    return [summary(org, counts.get(org.id, 0)) for org in list_all(session, search=search, kind=kind)]


def describe(session: Session, org: Organisation) -> dict[str, Any]:
    """One organisation (show): its fields and its contacts."""
    people = members(session, org.id)
    data = summary(org, len(people))
    data["created_at"] = org.created_at.isoformat()
    data["contacts"] = [
        {"id": c.id, "name": c.full_name, "email": c.email, "position": c.position, "target": c.target.value if c.target else None}
        for c in people
    ]
    return data
