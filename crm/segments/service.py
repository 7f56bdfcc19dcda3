"""Segments at use time: the one compiled query, counts, previews, and saved segments.

`contact_ids_query` is the single query behind counting (`count`: previews, `segments list
--count`, saving a segment, checking a campaign's segment), `preview` and sending; it selects
``contacts.id`` only, so a campaign's send (`crm.campaigns.materialise`) can
``INSERT INTO deliveries … SELECT`` from it.
Nothing about membership is stored: a saved segment is a name for a rule.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crm import fields
from crm.db import utcnow
from crm.errors import Conflict, NotFound, ValidationError
from crm.failures import first_line
from crm.models import Campaign, CampaignStatus, Contact, Segment
from crm.segments import allowlist
from crm.segments.ast import NODE_TYPES, Rule, SegmentError
from crm.segments.builtins import BUILTINS
from crm.segments.compiler import compile_rule
from crm.segments.parser import WORD, parse
from crm.segments.printer import to_text
from crm.vocabulary import fold

_ONE_WORD = re.compile(WORD)
MAX_NAME = 80  # fields.slug keeps 80 characters: a longer name would be cut, and then mean another


def contact_ids_query(rule: Rule | str, now: datetime | None = None) -> Select[tuple[int]]:
    """SELECT contacts.id WHERE <rule>: the one query behind `count`, `preview` and a send.

    ``rule`` is a rule tree or rule text (names of segments need `resolve`, which needs a
    session). Usable as a subquery: ``Contact.id.in_(contact_ids_query(rule))``.
    """
    tree = parse(rule) if isinstance(rule, str) else rule
    return select(Contact.id).where(compile_rule(tree, now=now))


def slug(name: str) -> str:
    """A segment's name as stored and looked up: 'Agrifood Skeptics' -> 'agrifood_skeptics'."""
    try:
        key = fields.slug(name)
    except ValidationError:
        raise ValidationError(f"invalid segment name {name!r}: use letters, digits and _", "name") from None
    if len(fold(name).replace(" ", "_")) > MAX_NAME:
        raise ValidationError(f"segment name longer than {MAX_NAME} characters: shorten it", "name")
    return key


def _saved_rule(segment: Segment) -> Rule:
    try:
        return parse(segment.rule)
    except SegmentError as exc:  # the allow-list changed since it was saved
        raise SegmentError(exc.message, f"segment {segment.name}: {exc.where}", allowed=exc.allowed) from None


def _names(session: Session) -> list[str]:
    return sorted([*BUILTINS, *session.scalars(select(Segment.name))])


def resolve(session: Session, rule_or_name: Rule | str) -> Rule:
    """A saved segment's name, a built-in segment's name, or rule text -> rule tree."""
    if isinstance(rule_or_name, NODE_TYPES):
        return rule_or_name
    text = rule_or_name.strip()
    if not _ONE_WORD.fullmatch(text):
        return parse(rule_or_name)  # columns count in the text as given
    key = fields.slug(text) if any(c.isalnum() for c in text) else text
    if key in BUILTINS:
        return BUILTINS[key].rule
    saved = session.scalar(select(Segment).where(Segment.name == key))
    if saved is not None:
        return _saved_rule(saved)
    if allowlist.is_reserved(text):
        return parse(text)
    names = _names(session)
    raise SegmentError(
        f"{text!r} is neither a segment nor a rule{allowlist.hint(text, names)}; "
        f"segments: {', '.join(names)}; rules use: {', '.join(allowlist.words())}",
        "rule:1",
        allowed=names,
    )


# What the databases say when a statement is too large for them (SQLite: expression depth,
# parser stack, variables; PostgreSQL: stack depth, parameters). The size limits keep rules
# far from these; this is the safety net that names the rule rather than the database.
_TOO_LARGE = ("too large", "stack overflow", "too many", "stack depth", "too complex", "parameters must be")


def too_large(exc: DBAPIError) -> bool:
    """The database refused a statement because of its size (not a lost connection)."""
    return not exc.connection_invalidated and any(word in str(exc.orig).lower() for word in _TOO_LARGE)


def count(session: Session, rule: Rule | str, *, now: datetime | None = None) -> int:
    query = contact_ids_query(resolve(session, rule), now)
    try:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0
    except DBAPIError as exc:
        if too_large(exc):
            reason = first_line(exc)
            raise SegmentError(f"the database cannot evaluate this rule ({reason}); make it smaller", "rule") from None
        raise


def _person(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "email": contact.email,
        "name": " ".join(p for p in (contact.first_name, contact.last_name) if p) or None,
        "language": contact.language,
        "target": contact.target.value if contact.target else None,
    }


def preview(session: Session, rule: Rule | str, sample: int = 10, *, now: datetime | None = None) -> dict[str, Any]:
    """How many contacts match now, the first ``sample`` of them (by id), and the rule's text."""
    tree = resolve(session, rule)
    moment = now or utcnow()
    ids = contact_ids_query(tree, moment)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    people = session.scalars(
        select(Contact).where(Contact.id.in_(ids)).order_by(Contact.id).limit(max(sample, 0))
    ).all()
    return {"count": total, "sample": [_person(c) for c in people], "rule": to_text(tree)}


def get(session: Session, name: str) -> Segment:
    """A saved segment by name (any case, spaces or underscores)."""
    segment = session.scalar(select(Segment).where(Segment.name == slug(name)))
    if segment is None:
        raise NotFound(f"no saved segment {name!r}")
    return segment


def create(session: Session, name: str, rule_text: str, description: str | None = None) -> Segment:
    """Save a rule under a name; the rule is validated now and stored in its canonical text."""
    return save(session, name, rule_text, description)[0]


def save(session: Session, name: str, rule_text: str, description: str | None = None, *,
         now: datetime | None = None) -> tuple[Segment, int]:
    """`create`, and how many contacts the rule selects now: the rule is counted by the
    database before the segment is stored, so a rule the database cannot run is never saved.
    Stored in the caller's transaction: an error leaves nothing behind."""
    key = slug(name)
    if key in BUILTINS:
        raise Conflict(f"{key!r} is a built-in segment: choose another name")
    if allowlist.is_reserved(key):
        raise ValidationError(f"{key!r} is a word of the rule language: choose another name", "name")
    rule = parse(rule_text)
    canonical = to_text(rule)
    try:
        parse(canonical)  # what is stored must read back (the canonical text can be longer)
    except SegmentError as exc:
        raise SegmentError(f"{exc.message} (once written in full: {exc.where})", "rule") from None
    if session.scalar(select(Segment.id).where(Segment.name == key)) is not None:
        raise Conflict(f"a segment named {key!r} already exists")
    members = count(session, rule, now=now)
    segment = Segment(name=key, rule=canonical, description=(description or "").strip() or None)
    session.add(segment)
    try:
        # No savepoint: on SQLite (pysqlite) releasing the first savepoint of a transaction
        # commits it, which stored segments whose creation then failed.
        session.flush()
    except IntegrityError:  # created concurrently under the same name; the caller rolls back
        raise Conflict(f"a segment named {key!r} already exists") from None
    return segment, members


def create_saved(session: Session, name: str, rule_text: str, description: str | None = None) -> dict[str, Any]:
    """`segments create`: `save`, answered as the stored segment with the number of contacts
    it selects now."""
    segment, members = save(session, name, rule_text, description)
    return describe(segment) | {"count": members}


_OPEN = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)


def _refers_to(segment_text: str, key: str) -> bool:
    """Whether a campaign's segment (a name or a rule, as typed) is the saved segment ``key``."""
    text = segment_text.strip()
    return bool(_ONE_WORD.fullmatch(text)) and any(c.isalnum() for c in text) and fields.slug(text) == key


def delete_saved(session: Session, name: str) -> dict[str, Any]:
    """Delete a saved segment. Built-in segments cannot be deleted. A campaign that may still
    send (draft, scheduled, sending, paused) and names the segment keeps it: cancel the
    campaign first. Finished and cancelled campaigns keep the name as a record only."""
    key = slug(name)
    if key in BUILTINS:
        raise Conflict(f"{key!r} is a built-in segment: it cannot be deleted")
    segment = get(session, name)
    users = [
        c for c in session.scalars(select(Campaign).where(Campaign.status.in_(_OPEN)).order_by(Campaign.id))
        if _refers_to(c.segment, key)
    ]
    if users:
        shown = ", ".join(f"#{c.id} ({c.status.value})" for c in users)
        raise Conflict(f"segment {key!r} is used by campaign {shown}: cancel it first "
                       f"(`crm campaigns cancel ID`), or keep the segment")
    data = describe(segment)
    session.execute(delete(Segment).where(Segment.id == segment.id))
    return data


def describe(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "kind": "saved",
        "rule": segment.rule,
        "description": segment.description,
        "id": segment.id,
        "created_at": segment.created_at.isoformat(),
    }


def list_all(session: Session, *, counts: bool = False, now: datetime | None = None) -> list[dict[str, Any]]:
    """Saved segments (by name), then the built-ins; with ``counts``, how many match each now."""
    rows = [describe(s) for s in session.scalars(select(Segment).order_by(Segment.name))]
    rows += [
        {"name": b.name, "kind": "builtin", "rule": b.rule_text, "description": b.description}
        for b in BUILTINS.values()
    ]
    if counts:
        moment = now or utcnow()
        for row in rows:
            row["count"], error = _count_row(session, row, moment)
            if error:
                row["error"] = error
    return rows


def _count_row(session: Session, row: dict[str, Any], now: datetime) -> tuple[int | None, str | None]:
    """One row's count, or the error that stops it: one bad stored segment must not stop
    the listing. A savepoint keeps the transaction usable after a database error."""
    try:
        with session.begin_nested():
            return count(session, parse(row["rule"]), now=now), None
    except SegmentError as exc:
        return None, f"{exc.where}: {exc.message}" if exc.where else exc.message
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        return None, "the database cannot evaluate this rule: " + first_line(exc)
