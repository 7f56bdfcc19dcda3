"""Organisations: add, find, list; and the set-based find-or-create used by imports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crm import fields
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import Contact, Organisation, OrganisationKind

_CHUNK = 500  # keeps IN (...) lists under every engine's bound-parameter limit


def key(name: str) -> str:
    """What makes two names the same organisation (the unique index is on lower(name))."""
    return " ".join(name.split()).lower()


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
    clean = " ".join(name.split())
    if not clean:
        raise ValidationError("an organisation needs a name", "name")
    if find(session, clean) is not None:
        raise Conflict(f"organisation {clean!r} already exists")
    org = Organisation(
        name=clean,
        kind=kind if isinstance(kind, OrganisationKind) else fields.organisation_kind(kind) if kind else OrganisationKind.COMPANY,
        sector=sector,
        region=region,
        country=fields.country(country) if country else None,
        website=website,
        size=fields.organisation_size(size) if size else None,
    )
    session.add(org)
    session.flush()
    return org


def find(session: Session, name: str) -> Organisation | None:
    clean = " ".join(name.split())
    return session.scalar(select(Organisation).where(func.lower(Organisation.name) == func.lower(clean)))


def get(session: Session, ref: str | int) -> Organisation:
    """By id, or by name (case-insensitively)."""
    org = session.get(Organisation, int(ref)) if str(ref).isdigit() else find(session, str(ref))
    if org is None:
        raise NotFound(f"no organisation {ref!r}")
    return org


def list_all(session: Session, *, search: str | None = None, kind: OrganisationKind | None = None) -> list[Organisation]:
    query = select(Organisation).order_by(func.lower(Organisation.name))
    if search:
        query = query.where(func.lower(Organisation.name).contains(search.lower()))
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
        clean = " ".join(name.split())
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
