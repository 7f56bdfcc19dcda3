"""Perception: the segment table, the latest assessment wins, SQL agrees with Python, movements."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import perception
from crm.db import utcnow
from crm.errors import ValidationError
from crm.models import AssessmentSource, Contact, Level, PerceptionAssessment, PerceptionSegment

H, L, U = Level.HIGH, Level.LOW, Level.UNKNOWN
S = PerceptionSegment
T0 = datetime(2025, 1, 10, 9, 0, tzinfo=timezone.utc)

TABLE = {
    (L, L): S.OPPONENT, (H, L): S.INDIFFERENT, (L, H): S.SKEPTIC, (H, H): S.ACQUIRED,
    (U, U): S.NO_OPINION, (U, H): S.NO_OPINION, (U, L): S.NO_OPINION, (H, U): S.NO_OPINION,
    (L, U): S.NO_OPINION,
}


def _contact(session: Session, email: str) -> int:
    person = Contact(email=email)
    session.add(person)
    session.flush()
    return person.id


def _assess(session: Session, contact_id: int, cred: Level, inter: Level, at: datetime) -> PerceptionAssessment:
    return perception.assess(session, contact_id, cred, inter, AssessmentSource.SURVEY, at=at)


@pytest.mark.parametrize(("pair", "segment"), list(TABLE.items()), ids=[f"{c}-{i}" for c, i in TABLE])
def test_segment_table(pair: tuple[Level, Level], segment: PerceptionSegment) -> None:
    assert PerceptionSegment.of(*pair) is segment


def test_sql_segment_case_matches_the_table(session: Session) -> None:
    ids = {}
    for n, (cred, inter) in enumerate(TABLE):
        ids[(cred, inter)] = _contact(session, f"p{n}@example.org")
        _assess(session, ids[(cred, inter)], cred, inter, T0)
    rows = dict(session.execute(
        select(PerceptionAssessment.contact_id, perception.segment_case(PerceptionAssessment))
        .where(PerceptionAssessment.contact_id.in_(ids.values()))
    ).all())
    assert {pair: rows[contact_id] for pair, contact_id in ids.items()} == {p: s.value for p, s in TABLE.items()}


def test_current_segment_is_the_latest_assessment_and_history_is_kept(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    assert perception.current_segment(session, ann) is S.NO_OPINION
    _assess(session, ann, L, L, T0)
    _assess(session, ann, L, H, T0 + timedelta(days=90))
    _assess(session, ann, H, H, T0 + timedelta(days=200))
    _assess(session, ann, H, L, T0 + timedelta(days=30))  # back-dated: does not become current
    assert perception.current_segment(session, ann) is S.ACQUIRED
    assert [a.segment for a in perception.history(session, ann)] == [S.OPPONENT, S.INDIFFERENT, S.SKEPTIC, S.ACQUIRED]
    _assess(session, ann, U, H, T0 + timedelta(days=200))  # same instant, later row: wins
    assert perception.current_segment(session, ann) is S.NO_OPINION
    assert len(perception.history(session, ann)) == 5


def _python_segment(session: Session, contact_id: int, as_of: datetime | None) -> PerceptionSegment:
    rows = [a for a in perception.history(session, contact_id) if as_of is None or a.assessed_at <= as_of]
    return rows[-1].segment if rows else S.NO_OPINION


def test_in_segment_agrees_with_python_on_generated_data(session: Session) -> None:
    rng = random.Random(4242)
    ids = [_contact(session, f"person{n}@example.org") for n in range(36)]
    for contact_id in ids[6:]:  # the first six are never assessed
        for _ in range(rng.randint(1, 5)):
            _assess(session, contact_id, rng.choice(list(Level)), rng.choice(list(Level)),
                    T0 + timedelta(days=rng.choice([0, 40, 80, 120, 160])))
    for as_of in [None, T0 - timedelta(days=1), T0, T0 + timedelta(days=45), T0 + timedelta(days=130)]:
        expected = {contact_id: _python_segment(session, contact_id, as_of) for contact_id in ids}
        if as_of is None:
            assert expected == {c: perception.current_segment(session, c) for c in ids}
        for segment in PerceptionSegment:
            found = set(session.scalars(
                select(Contact.id).where(Contact.id.in_(ids), perception.in_segment(segment, as_of=as_of))
            ))
            assert found == {c for c, s in expected.items() if s is segment}, (segment, as_of)
        for group in [*itertools.combinations(PerceptionSegment, 2), *itertools.combinations(PerceptionSegment, 3)]:
            found = set(session.scalars(
                select(Contact.id).where(Contact.id.in_(ids), perception.in_segments(group, as_of=as_of))
            ))
            assert found == {c for c, s in expected.items() if s in group}, (group, as_of)
        counts = perception.distribution(session, as_of)
        assert sum(counts.values()) == len(ids)
        assert counts[S.NO_OPINION] >= 6
    assert len({_python_segment(session, c, None) for c in ids}) >= 4  # the data covers the segments


def test_movements_within_the_window_only(session: Session) -> None:
    ann, bob, eve = (_contact(session, f"{n}@example.org") for n in ("ann", "bob", "eve"))
    since, until = T0 + timedelta(days=100), T0 + timedelta(days=200)
    _assess(session, ann, L, L, T0)  # before the window: opponent
    _assess(session, ann, L, H, since + timedelta(days=10))  # opponent -> skeptic
    _assess(session, ann, L, H, since + timedelta(days=20))  # same segment: no movement
    _assess(session, ann, H, H, until)  # at the end (exclusive): outside
    _assess(session, bob, H, L, since)  # first assessment, at the start (inclusive): no_opinion -> indifferent
    _assess(session, eve, H, H, T0)  # moved before the window only
    moves = perception.movements(session, since, until)
    assert [(m.contact_id, m.before, m.after) for m in moves] == [
        (ann, S.OPPONENT, S.SKEPTIC), (bob, S.NO_OPINION, S.INDIFFERENT),
    ]
    assert all(since <= m.at < until for m in moves)


def test_levels_and_sources_from_people_s_words() -> None:
    assert perception.level("Oui", "credibility") is H
    assert perception.level("faible", "interest") is L
    assert perception.level("?", "interest") is U
    with pytest.raises(ValidationError) as caught:
        perception.level("bof", "credibility")
    assert caught.value.where == "credibility"
    assert perception.source("Visit") is AssessmentSource.VISIT
    with pytest.raises(ValidationError) as caught:
        perception.source("gossip")
    assert caught.value.where == "source"


def test_reassess_reports_before_and_after_and_refuses_the_future(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    first = perception.reassess(session, ann, L, H, AssessmentSource.VISIT, author="Sam")
    assert (first.previous, first.current) == (S.NO_OPINION, S.SKEPTIC)
    second = perception.reassess(session, ann, H, H, AssessmentSource.SURVEY)
    assert (second.previous, second.current, second.assessment.segment) == (S.SKEPTIC, S.ACQUIRED, S.ACQUIRED)
    old = perception.reassess(session, ann, L, L, AssessmentSource.ANIMATOR, at=utcnow() - timedelta(days=400))
    assert (old.previous, old.current, old.assessment.segment) == (S.ACQUIRED, S.ACQUIRED, S.OPPONENT)
    with pytest.raises(ValidationError) as caught:
        perception.reassess(session, ann, H, H, AssessmentSource.SURVEY, at=utcnow() + timedelta(days=2))
    assert caught.value.where == "at"
    count = select(func.count()).select_from(PerceptionAssessment).where(PerceptionAssessment.contact_id == ann)
    assert session.scalar(count) == 3


def test_overview_counts_segments_and_flows(session: Session) -> None:
    ann, bob, _never = (_contact(session, f"{n}@example.org") for n in ("ann", "bob", "never"))
    as_of = T0 + timedelta(days=400)
    _assess(session, ann, L, H, T0)  # more than a year before as_of: not a movement of the window
    _assess(session, ann, H, H, T0 + timedelta(days=300))
    _assess(session, bob, H, H, T0 + timedelta(days=350))
    _assess(session, bob, H, L, as_of + timedelta(days=1))  # after as_of: ignored
    data = perception.overview(session, as_of)
    assert data["segments"] == {"opponent": 0, "indifferent": 0, "skeptic": 0, "acquired": 2, "no_opinion": 1}
    assert data["total"] == 3
    assert data["movements"]["count"] == 2 and data["movements"]["contacts"] == 2
    assert {(f["from"], f["to"], f["count"]) for f in data["movements"]["flows"]} == {
        ("skeptic", "acquired", 1), ("no_opinion", "acquired", 1),
    }
