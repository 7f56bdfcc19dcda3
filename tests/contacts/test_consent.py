"""Consent is a log; the current state per topic is its latest event, in Python and in SQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from crm import consent
from crm.errors import ValidationError
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact

IN, OUT = ConsentAction.OPT_IN, ConsentAction.OPT_OUT
NEWS, EVENTS = ConsentTopic.NEWSLETTER, ConsentTopic.EVENTS
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def _contact(session: Session, email: str) -> int:
    person = Contact(email=email)
    session.add(person)
    session.flush()
    return person.id


def _sql_consented(session: Session, topic: ConsentTopic, ids: list[int]) -> set[int]:
    return set(session.scalars(select(Contact.id).where(Contact.id.in_(ids), consent.consented(topic))))


def _record(session: Session, contact_id: int, topic: ConsentTopic, action: ConsentAction, at: datetime) -> None:
    consent.record(session, contact_id, topic, action, ConsentSource.ANIMATOR, recorded_by="test", at=at)


def test_opt_in_out_in_again_over_time(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    assert consent.current(session, ann)[NEWS] is False  # nothing recorded: no consent
    assert _sql_consented(session, NEWS, [ann]) == set()
    for days, action, expected in [(0, IN, True), (30, OUT, False), (60, IN, True)]:
        _record(session, ann, NEWS, action, T0 + timedelta(days=days))
        assert consent.current(session, ann)[NEWS] is expected
        assert _sql_consented(session, NEWS, [ann]) == ({ann} if expected else set())
    assert [e.action for e in consent.history(session, ann)] == [IN, OUT, IN]


def test_time_decides_not_the_order_of_recording(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    _record(session, ann, NEWS, OUT, T0 + timedelta(days=10))
    _record(session, ann, NEWS, IN, T0)  # a paper form typed in later: older, so it does not win
    assert consent.current(session, ann)[NEWS] is False
    assert _sql_consented(session, NEWS, [ann]) == set()
    assert [e.action for e in consent.history(session, ann)] == [IN, OUT]


def test_topics_are_independent(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    _record(session, ann, NEWS, IN, T0)
    _record(session, ann, EVENTS, IN, T0 + timedelta(hours=1))
    _record(session, ann, EVENTS, OUT, T0 + timedelta(hours=2))
    state = consent.current(session, ann)
    assert state == {NEWS: True, EVENTS: False, ConsentTopic.PRESS: False, ConsentTopic.CALLS: False,
                     ConsentTopic.SURVEYS: False}
    assert _sql_consented(session, NEWS, [ann]) == {ann}
    assert _sql_consented(session, EVENTS, [ann]) == set()
    assert _sql_consented(session, ConsentTopic.PRESS, [ann]) == set()


def test_same_timestamp_is_broken_by_id(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    bob = _contact(session, "bob@example.org")
    _record(session, ann, NEWS, IN, T0)
    _record(session, ann, NEWS, OUT, T0)  # recorded last at the same instant: wins
    _record(session, bob, NEWS, OUT, T0)
    _record(session, bob, NEWS, IN, T0)
    assert consent.current(session, ann)[NEWS] is False
    assert consent.current(session, bob)[NEWS] is True
    assert _sql_consented(session, NEWS, [ann, bob]) == {bob}


def test_sql_and_python_agree_on_generated_logs(session: Session) -> None:
    rng = random.Random(20261001)
    ids = [_contact(session, f"person{n}@example.org") for n in range(40)]
    rows = []
    for contact_id in ids:
        for _ in range(rng.randint(0, 6)):
            rows.append({
                "contact_id": contact_id,
                "topic": rng.choice([NEWS, EVENTS, ConsentTopic.SURVEYS]),
                "action": rng.choice([IN, OUT]),
                "source": ConsentSource.IMPORT,
                # few distinct instants, so that ties happen and the id must decide
                "at": T0 + timedelta(days=rng.randint(0, 4)),
            })
    rng.shuffle(rows)
    consent.record_many(session, rows)
    for topic in ConsentTopic:
        expected = {c for c in ids if consent.current(session, c)[topic]}
        assert _sql_consented(session, topic, ids) == expected, topic
    assert any(consent.current(session, c)[NEWS] for c in ids)
    assert not all(consent.current(session, c)[NEWS] for c in ids)


def test_topics_are_parsed_from_people_s_words() -> None:
    assert consent.topics("newsletter, Événements,newsletter") == [NEWS, EVENTS]
    assert consent.topics("Appels à projets, presse") == [ConsentTopic.CALLS, ConsentTopic.PRESS]
    with pytest.raises(ValidationError) as caught:
        consent.topics("newsletter,spam")
    assert caught.value.where == "topic"
    assert "spam" in caught.value.message
    assert consent.source("Animator") is ConsentSource.ANIMATOR
    with pytest.raises(ValidationError) as caught:
        consent.source("rumour")
    assert caught.value.where == "source"


def test_change_records_one_event_per_topic_at_one_moment(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    events = consent.change(session, ann, [NEWS, EVENTS, NEWS], IN, ConsentSource.FORM, proof="form #12")
    assert [e.topic for e in events] == [NEWS, EVENTS]
    assert len({e.at for e in events}) == 1
    consent.change(session, ann, [EVENTS], OUT, ConsentSource.UNSUBSCRIBE)
    described = consent.describe(session, ann)
    assert described["current"]["newsletter"] is True and described["current"]["events"] is False
    assert [(e["topic"], e["action"]) for e in described["log"]] == [
        ("newsletter", "opt_in"), ("events", "opt_in"), ("events", "opt_out"),
    ]
    assert described["log"][0]["proof"] == "form #12"
    with pytest.raises(ValidationError):
        consent.change(session, ann, [], IN, ConsentSource.FORM)


# ---- what the mutation run (benchmarks/mutation_score.py) found untested --------------------


def test_the_log_keeps_who_recorded_it_and_a_proof_over_several_lines(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    proof = "paper form\nsigned at the stand\n\tbox 3"
    event = consent.record(session, ann, NEWS, IN, ConsentSource.ANIMATOR, proof=proof, recorded_by="  Léa M.  ",
                           at=T0)
    assert (event.proof, event.recorded_by) == (proof, "Léa M.")
    assert consent.record(session, ann, NEWS, OUT, ConsentSource.ANIMATOR, proof="  ", recorded_by="",
                          at=T0 + timedelta(days=1)).recorded_by is None
    consent.record(session, ann, NEWS, IN, ConsentSource.ANIMATOR, recorded_by="x" * 120, at=T0 + timedelta(days=2))
    with pytest.raises(ValidationError) as caught:
        consent.record(session, ann, NEWS, IN, ConsentSource.ANIMATOR, recorded_by="x" * 121)
    assert caught.value.where == "by" and "120" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        consent.record(session, ann, NEWS, IN, ConsentSource.ANIMATOR, proof="a\x00b")
    assert caught.value.where == "proof"
    events = consent.change(session, ann, [EVENTS], IN, ConsentSource.ANIMATOR, recorded_by="Léa M.",
                            at=T0 + timedelta(days=3))
    assert [e.recorded_by for e in events] == ["Léa M."]


def test_describe_names_every_field_of_every_event(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    event = consent.record(session, ann, EVENTS, IN, ConsentSource.FORM, proof="form #7", recorded_by="site", at=T0)
    assert consent.describe(session, ann) == {
        "contact_id": ann,
        "current": {"newsletter": False, "events": True, "press": False, "calls": False, "surveys": False},
        "log": [{"id": event.id, "at": T0.isoformat(), "topic": "events", "action": "opt_in", "source": "form",
                 "proof": "form #7", "recorded_by": "site"}],
    }


def test_consented_and_withdrawn_are_per_contact_in_sql(session: Session) -> None:
    ann, bob, cid = (_contact(session, f"{n}@example.org") for n in ("ann", "bob", "cid"))
    _record(session, ann, NEWS, IN, T0)
    _record(session, bob, NEWS, IN, T0)
    _record(session, bob, NEWS, OUT, T0 + timedelta(days=1))
    ids = [ann, bob, cid]
    assert _sql_consented(session, NEWS, ids) == {ann}
    withdrawn = set(session.scalars(select(Contact.id).where(Contact.id.in_(ids), consent.withdrawn(NEWS))))
    assert withdrawn == {bob}
    other = aliased(Contact)  # the contact given explicitly, not the default Contact.id
    assert set(session.scalars(select(other.id).where(other.id.in_(ids), consent.withdrawn(NEWS, other.id)))) == {bob}
    assert set(session.scalars(select(other.id).where(other.id.in_(ids), consent.consented(NEWS, other.id)))) == {ann}


def test_current_breaks_a_tie_by_id_whatever_order_the_rows_were_stored_in(session: Session) -> None:
    ann = _contact(session, "ann@example.org")
    # Same moment; the opt-in has the larger id (it is the later event) but is stored first.
    for event_id, action in [(2_000_000_001, IN), (2_000_000_000, OUT)]:
        session.add(ConsentEvent(id=event_id, contact_id=ann, topic=NEWS, action=action,
                                 source=ConsentSource.ANIMATOR, at=T0))
        session.flush()
    assert consent.current(session, ann)[NEWS] is True
    assert [e.id for e in consent.history(session, ann)] == [2_000_000_000, 2_000_000_001]
    assert _sql_consented(session, NEWS, [ann]) == {ann}


def test_bad_topic_source_or_empty_change_name_the_field_and_the_choices(session: Session) -> None:
    with pytest.raises(ValidationError) as caught:
        consent.source("rumour")
    assert "rumour" in caught.value.message and "animator" in caught.value.message
    with pytest.raises(ValidationError) as caught:
        consent.change(session, _contact(session, "ann@example.org"), [], IN, ConsentSource.FORM)
    assert (caught.value.where, caught.value.message) == ("topic", "give at least one topic")
