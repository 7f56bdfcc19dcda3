"""Organisations: add, find, list; and the set-based find-or-create used by imports."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crm import fields
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import Contact, Organisation, OrganisationKind

_CHUNK = 500  # keeps IN (...) lists under every engine's bound-parameter limit


def key(name: str) -> str:
    """What makes two names the same organisation (the unique index is on lower(name))."""
    return " ".join(name.split()).lower()


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
    if country and (len(country.strip()) != 2 or not country.strip().isalpha()):
        raise ValidationError(f"country {country!r}: use a two-letter ISO code (FR, MA, TN)", "country")
    org = Organisation(
        name=clean,
        kind=kind if isinstance(kind, OrganisationKind) else fields.organisation_kind(kind) if kind else OrganisationKind.COMPANY,
        sector=sector,
        region=region,
        country=country.strip().upper() if country else None,
        website=website,
        size=fields.organisation_size(size) if size else None,
    )
    session.add(org)
    session.flush()
    return org


def find(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(func.lower(Organisation.name) == key(name)))


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
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        rows = session.execute(
            select(func.lower(Organisation.name), Organisation.id).where(func.lower(Organisation.name).in_(chunk))
        )
        found.update({k: i for k, i in rows})
    missing = [k for k in keys if k not in found]
    if missing and create:
        session.execute(insert(Organisation), [{"name": wanted[k], "kind": OrganisationKind.COMPANY} for k in missing])
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            rows = session.execute(
                select(func.lower(Organisation.name), Organisation.id).where(func.lower(Organisation.name).in_(chunk))
            )
            found.update({k: i for k, i in rows})
    return found
