"""Perception: assessments are logged; the current segment is the latest one's."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from crm.db import utcnow
from crm.errors import ValidationError
from crm.models import (
    AssessmentSource,
    Contact,
    Level,
    PerceptionAssessment,
    PerceptionSegment,
)
from crm.vocabulary import choices, fold

_LEVEL_WORDS = {
    "high": Level.HIGH, "haute": Level.HIGH, "haut": Level.HIGH, "eleve": Level.HIGH,
    "elevee": Level.HIGH, "yes": Level.HIGH, "oui": Level.HIGH, "credible": Level.HIGH,
    "low": Level.LOW, "basse": Level.LOW, "bas": Level.LOW, "faible": Level.LOW,
    "no": Level.LOW, "non": Level.LOW, "unknown": Level.UNKNOWN, "inconnu": Level.UNKNOWN,
    "inconnue": Level.UNKNOWN, "?": Level.UNKNOWN,
}


def level(raw: str, field: str) -> Level:
    found = _LEVEL_WORDS.get(fold(raw) or raw.strip())
    if found is None:
        raise ValidationError(f"unknown level {raw!r}; allowed: {choices(Level)}", field)
    return found


def assess(
    session: Session,
    contact_id: int,
    credibility: Level,
    interest: Level,
    source: AssessmentSource,
    *,
    author: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> PerceptionAssessment:
    assessment = PerceptionAssessment(
        contact_id=contact_id,
        credibility=credibility,
        interest=interest,
        source=source,
        author=author,
        note=note,
        assessed_at=at or utcnow(),
    )
    session.add(assessment)
    session.flush()
    return assessment


def history(session: Session, contact_id: int) -> list[PerceptionAssessment]:
    return list(
        session.scalars(
            select(PerceptionAssessment)
            .where(PerceptionAssessment.contact_id == contact_id)
            .order_by(PerceptionAssessment.assessed_at, PerceptionAssessment.id)
        )
    )


def current_segment(session: Session, contact_id: int) -> PerceptionSegment:
    """The latest assessment's segment; no assessment at all means no opinion."""
    rows = history(session, contact_id)
    return rows[-1].segment if rows else PerceptionSegment.NO_OPINION


def segment_case(assessment: type[PerceptionAssessment] | object) -> ColumnElement[str]:
    """SQL CASE giving an assessment row's segment (same table as PerceptionSegment.of)."""
    cred, inter = assessment.credibility, assessment.interest  # type: ignore[attr-defined]
    return case(
        (or_(cred == Level.UNKNOWN, inter == Level.UNKNOWN), PerceptionSegment.NO_OPINION.value),
        (and_(cred == Level.LOW, inter == Level.LOW), PerceptionSegment.OPPONENT.value),
        (and_(cred == Level.HIGH, inter == Level.LOW), PerceptionSegment.INDIFFERENT.value),
        (and_(cred == Level.LOW, inter == Level.HIGH), PerceptionSegment.SKEPTIC.value),
        else_=PerceptionSegment.ACQUIRED.value,
    )


def _is_latest(row: object, as_of: datetime | None = None) -> ColumnElement[bool]:
    later = aliased(PerceptionAssessment)
    conditions = [
        later.contact_id == row.contact_id,  # type: ignore[attr-defined]
        or_(
            later.assessed_at > row.assessed_at,  # type: ignore[attr-defined]
            and_(later.assessed_at == row.assessed_at, later.id > row.id),  # type: ignore[attr-defined]
        ),
    ]
    if as_of is not None:
        conditions.append(later.assessed_at <= as_of)
    return ~exists().where(*conditions)


def in_segment(
    segment: PerceptionSegment, contact_id: object = Contact.id, as_of: datetime | None = None
) -> ColumnElement[bool]:
    """SQL: the contact's latest assessment (as of a date) puts it in ``segment``.

    A contact never assessed is in "no opinion".
    """
    row = aliased(PerceptionAssessment)
    conditions = [row.contact_id == contact_id, _is_latest(row, as_of)]
    if as_of is not None:
        conditions.append(row.assessed_at <= as_of)
    latest_is = exists().where(*conditions, segment_case(row) == segment.value)
    if segment is PerceptionSegment.NO_OPINION:
        any_row = aliased(PerceptionAssessment)
        none_yet = [any_row.contact_id == contact_id]
        if as_of is not None:
            none_yet.append(any_row.assessed_at <= as_of)
        return or_(latest_is, ~exists().where(*none_yet))
    return latest_is


def distribution(session: Session, as_of: datetime | None = None) -> Counter[PerceptionSegment]:
    """How many contacts are in each segment (as of a date)."""
    counts: Counter[PerceptionSegment] = Counter()
    for segment in PerceptionSegment:
        counts[segment] = session.scalar(
            select(func.count()).select_from(Contact).where(in_segment(segment, as_of=as_of))
        ) or 0
    return counts


@dataclass(frozen=True)
class Movement:
    contact_id: int
    at: datetime
    before: PerceptionSegment
    after: PerceptionSegment


def movements(session: Session, since: datetime, until: datetime) -> list[Movement]:
    """Changes of segment recorded in [since, until): the "perception movement" indicator."""
    rows = session.execute(
        select(PerceptionAssessment)
        .where(PerceptionAssessment.assessed_at < until)
        .order_by(
            PerceptionAssessment.contact_id,
            PerceptionAssessment.assessed_at,
            PerceptionAssessment.id,
        )
    ).scalars()
    result: list[Movement] = []
    previous: dict[int, PerceptionSegment] = {}
    for row in rows:
        before = previous.get(row.contact_id, PerceptionSegment.NO_OPINION)
        after = row.segment
        if row.assessed_at >= since and after is not before:
            result.append(Movement(row.contact_id, row.assessed_at, before, after))
        previous[row.contact_id] = after
    return result
