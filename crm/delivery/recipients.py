"""What a batch needs to know about its recipients: one query for the whole batch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Contact, Organisation


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    email: str | None
    language: str | None
    fields: dict[str, str | None]  # the allow-listed plain fields templates may use


def load(session: Session, contact_ids: list[int]) -> dict[int, Recipient]:
    rows = session.execute(
        select(
            Contact.id, Contact.email, Contact.first_name, Contact.last_name, Contact.language,
            Contact.position, Contact.city, Organisation.name,
        )
        .outerjoin(Organisation, Contact.organisation_id == Organisation.id)
        .where(Contact.id.in_(contact_ids))
    )
    result: dict[int, Recipient] = {}
    for cid, email, first, last, language, position, city, org in rows:
        full = " ".join(p for p in (first, last) if p) or None
        result[cid] = Recipient(cid, email, language, {
            "first_name": first, "last_name": last, "full_name": full, "email": email,
            "organisation": org, "language": language, "position": position, "city": city,
        })
    return result
