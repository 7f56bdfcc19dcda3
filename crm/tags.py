"""Tags: free labels on contacts ("agrifood", "ag-2026"), stored lower-case."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from crm import fields
from crm.db import insert_rows
from crm.errors import ValidationError
from crm.models import Tag, contact_tags

_CHUNK = 500


def clean(name: str) -> str:
    tag = fields.text(" ".join(name.split()), "tags").lower()  # NFC, no control characters
    if not tag or len(tag) > 80:
        raise ValidationError(f"invalid tag {name!r}: 1 to 80 characters", "tags")
    return tag


def split(text: str) -> list[str]:
    """A cell or an option: 'agrifood; export, AG 2026' -> ['agrifood', 'export', 'ag 2026']."""
    parts = text.replace(",", ";").replace("|", ";").split(";")
    return list(dict.fromkeys(clean(p) for p in parts if p.strip()))


def ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """name -> id, creating missing tags set-based."""
    wanted = list(dict.fromkeys(clean(n) for n in names))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(chunk))).all()))
    missing = [n for n in wanted if n not in found]
    if missing:
        session.execute(insert(Tag), [{"name": n} for n in missing])
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            found.update(dict(session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(chunk))).all()))
    return found


def link(session: Session, pairs: Iterable[tuple[int, int]], *, new_contacts: bool = False) -> None:
    """Attach (contact_id, tag_id) pairs that are not attached yet.

    ``new_contacts``: the contacts were just created, so nothing is attached yet.
    """
    pairs = set(pairs)
    if not pairs:
        return
    if new_contacts:
        insert_rows(session, contact_tags, [{"contact_id": c, "tag_id": t} for c, t in sorted(pairs)])
        return
    contact_ids = list({c for c, _ in pairs})
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(contact_ids), _CHUNK):
        chunk = contact_ids[start : start + _CHUNK]
        existing.update(
            (c, t) for c, t in session.execute(
                select(contact_tags.c.contact_id, contact_tags.c.tag_id).where(contact_tags.c.contact_id.in_(chunk))
            )
        )
    new = sorted(pairs - existing)
    if new:
        session.execute(insert(contact_tags), [{"contact_id": c, "tag_id": t} for c, t in new])


def unlink(session: Session, contact_id: int, names: Iterable[str]) -> None:
    tag_ids = select(Tag.id).where(Tag.name.in_([clean(n) for n in names]))
    session.execute(
        delete(contact_tags).where(contact_tags.c.contact_id == contact_id, contact_tags.c.tag_id.in_(tag_ids))
    )
