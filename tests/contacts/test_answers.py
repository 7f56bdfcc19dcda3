"""What the contact-base services answer to every way in: the `crm` command prints these
dicts as JSON (or tables), and an HTTP view will return them. A contact is given as a person
gives it (email or id), an organisation as '#ID' or a name. Real databases (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import calendar_events, contacts, interactions, organisations
from crm.errors import NotFound, ValidationError
from crm.models import (
    AssessmentSource, ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, EventKind, InteractionKind, Level,
    PerceptionAssessment, TargetGroup,
)

UTC = timezone.utc
IN, OUT = ConsentAction.OPT_IN, ConsentAction.OPT_OUT
NEWS, EVENTS, PRESS = ConsentTopic.NEWSLETTER, ConsentTopic.EVENTS, ConsentTopic.PRESS
HIGH, LOW = Level.HIGH, Level.LOW
TOPICS = [t.value for t in ConsentTopic]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    acme = organisations.add(session, "Acme")
    digits = organisations.add(session, "42")  # a name made of digits: '#ID' is the id, anything else a name
    ann = contacts.add(session, {"email": "ann@example.org", "first_name": "Ann", "target": "partner"}, organisation="Acme",
                       add_tags=["agrifood"])
    bob = contacts.add(session, {"email": "bob@example.org", "first_name": "Bob", "target": "member_company"},
                       organisation="Acme")
    cat = contacts.add(session, {"email": "cat@example.org", "first_name": "Cat", "target": "partner"}, organisation=f"#{digits.id}")
    return {"acme": acme.id, "digits": digits.id, "ann": ann.id, "bob": bob.id, "cat": cat.id}


# ---- contacts list -------------------------------------------------------------------------

def test_overview_finds_the_organisation_as_a_person_names_it(session: Session, people: dict[str, int]) -> None:
    def ids(**filters: object) -> list[int]:
        return [row["id"] for row in contacts.overview(session, **filters)]

    assert ids() == [people["ann"], people["bob"], people["cat"]]
    assert ids(organisation="acme") == ids(organisation=f"#{people['acme']}") == [people["ann"], people["bob"]]
    assert ids(organisation="42") == [people["cat"]]  # the organisation named "42", not id 42
    assert ids(organisation="Acme", target=TargetGroup.PARTNER) == [people["ann"]]
    assert ids(tag="agrifood", search="AN") == [people["ann"]]
    assert ids(limit=1, offset=1) == [people["bob"]]
    rows = contacts.overview(session, organisation=f"#{people['digits']}")
    assert rows == [contacts.summary(contacts.get(session, people["cat"]))]
    with pytest.raises(NotFound, match="no organisation named 'nope'"):
        contacts.overview(session, organisation="nope")
    with pytest.raises(ValidationError):
        contacts.overview(session, limit=0)


# ---- consent give | withdraw | show ----------------------------------------------------------

def test_change_consent_answers_the_events_and_where_the_contact_stands(session: Session,
                                                                       people: dict[str, int]) -> None:
    given = contacts.change_consent(session, "ANN@example.org", [NEWS, EVENTS, NEWS], IN, ConsentSource.FORM,
                                    proof="form #12", recorded_by="Léa")
    assert list(given) == ["contact_id", "email", "action", "events", "current"]
    assert (given["contact_id"], given["email"], given["action"]) == (people["ann"], "ann@example.org", "opt_in")
    assert [(e["topic"], e["action"], e["source"], e["proof"], e["recorded_by"]) for e in given["events"]] == [
        ("newsletter", "opt_in", "form", "form #12", "Léa"), ("events", "opt_in", "form", "form #12", "Léa")]
    assert given["events"][0]["at"] == given["events"][1]["at"]  # one moment for the whole change
    assert given["current"] == {t: t in ("newsletter", "events") for t in TOPICS}

    withdrawn = contacts.change_consent(session, str(people["ann"]), [EVENTS], OUT, ConsentSource.UNSUBSCRIBE)
    assert withdrawn["action"] == "opt_out" and [e["topic"] for e in withdrawn["events"]] == ["events"]
    assert withdrawn["current"] == {t: t == "newsletter" for t in TOPICS}
    assert contacts.change_consent(session, "bob@example.org", [PRESS], IN, ConsentSource.ANIMATOR)["current"] == {
        t: t == "press" for t in TOPICS}  # another contact's log is its own

    shown = contacts.consent_of(session, "ann@example.org")
    assert list(shown) == ["email", "contact_id", "current", "log"]
    assert (shown["email"], shown["contact_id"], shown["current"]) == ("ann@example.org", people["ann"],
                                                                       withdrawn["current"])
    assert [(e["topic"], e["action"]) for e in shown["log"]] == [
        ("newsletter", "opt_in"), ("events", "opt_in"), ("events", "opt_out")]


def test_consent_of_somebody_unknown_is_not_found_and_records_nothing(session: Session,
                                                                      people: dict[str, int]) -> None:
    for ref in ("nobody@example.org", "999999", "99999999999999999999"):
        with pytest.raises(NotFound, match="no contact"):
            contacts.change_consent(session, ref, [NEWS], IN, ConsentSource.FORM)
        with pytest.raises(NotFound):
            contacts.consent_of(session, ref)
    with pytest.raises(ValidationError, match="at least one topic"):
        contacts.change_consent(session, "ann@example.org", [], IN, ConsentSource.FORM)
    assert _count(session, ConsentEvent) == 0


# ---- perception set | history --------------------------------------------------------------

def test_reassess_answers_the_segment_before_and_after(session: Session, people: dict[str, int]) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    first = contacts.reassess(session, "ann@example.org", LOW, HIGH, AssessmentSource.VISIT, author="Sam",
                              note="curious", at=long_ago)
    assert list(first) == ["contact_id", "email", "previous", "segment", "assessment"]
    assert (first["contact_id"], first["email"], first["previous"], first["segment"]) == (
        people["ann"], "ann@example.org", "no_opinion", "skeptic")
    assert {k: first["assessment"][k] for k in ("credibility", "interest", "segment", "source", "author", "note")} == {
        "credibility": "low", "interest": "high", "segment": "skeptic", "source": "visit", "author": "Sam",
        "note": "curious"}
    second = contacts.reassess(session, str(people["ann"]), HIGH, HIGH, AssessmentSource.SURVEY)
    assert (second["previous"], second["segment"]) == ("skeptic", "acquired")
    same = contacts.reassess(session, "ann@example.org", HIGH, HIGH, AssessmentSource.ANIMATOR)
    assert (same["previous"], same["segment"]) == ("acquired", "acquired")
    older = contacts.reassess(session, "ann@example.org", LOW, LOW, AssessmentSource.ANIMATOR,
                              at=long_ago - timedelta(days=1))
    assert (older["previous"], older["segment"]) == ("acquired", "acquired")  # an older view changes nothing now
    assert contacts.reassess(session, "bob@example.org", HIGH, LOW, AssessmentSource.VISIT)["previous"] == "no_opinion"

    history = contacts.perception_history(session, "ann@example.org")
    assert (history["contact_id"], history["email"]) == (people["ann"], "ann@example.org")
    assert [a["segment"] for a in history["assessments"]] == ["opponent", "skeptic", "acquired", "acquired"]
    assert history["assessments"][1] == first["assessment"]
    assert contacts.perception_history(session, "cat@example.org")["assessments"] == []


def test_reassess_refused_changes_nothing(session: Session, people: dict[str, int]) -> None:
    with pytest.raises(NotFound):
        contacts.reassess(session, "nobody@example.org", HIGH, HIGH, AssessmentSource.VISIT)
    with pytest.raises(ValidationError, match="future"):
        contacts.reassess(session, "ann@example.org", HIGH, HIGH, AssessmentSource.VISIT,
                          at=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(NotFound):
        contacts.perception_history(session, "nobody@example.org")
    assert _count(session, PerceptionAssessment) == 0


# ---- events list, interactions list ----------------------------------------------------------

def test_events_overview_is_the_listing_between_two_moments(session: Session) -> None:
    def add(title: str, day: int) -> int:
        start = datetime(2030, 5, day, 16, tzinfo=UTC)
        return calendar_events.add(session, EventKind.THEMATIC_DEBATE, title, start, start + timedelta(hours=2),
                                   "Europe/Paris").id

    late, early, middle = add("Late", 20), add("Early", 1), add("Middle", 10)
    rows = calendar_events.overview(session)
    assert [r["id"] for r in rows] == [early, middle, late]
    assert rows[0] == calendar_events.summary(session.get(calendar_events.Event, early))
    assert rows[0]["local_start"] == "2030-05-01 18:00 CEST"
    since, until = datetime(2030, 5, 10, 16, tzinfo=UTC), datetime(2030, 5, 20, 16, tzinfo=UTC)
    assert [r["id"] for r in calendar_events.overview(session, since, until)] == [middle]  # [since, until)
    assert [r["id"] for r in calendar_events.overview(session, since=since)] == [middle, late]


def test_interactions_overview_is_the_most_recent_first(session: Session, people: dict[str, int]) -> None:
    def log(kind: InteractionKind, day: int, *who: str) -> int:
        return interactions.log(session, kind, datetime(2026, 3, day, 10, tzinfo=UTC), contacts=who, led_by="Claire").id

    visit = log(InteractionKind.VISIT, 2, "ann@example.org")
    call = log(InteractionKind.CALL, 5, "bob@example.org", "ann@example.org")
    later = log(InteractionKind.VISIT, 9, "cat@example.org")
    rows = interactions.overview(session)
    assert [r["id"] for r in rows] == [later, call, visit]
    assert sorted(rows[1]["contacts"]) == ["ann@example.org", "bob@example.org"] and rows[1]["organisation"] == "Acme"
    assert [r["id"] for r in interactions.overview(session, contact="ann@example.org")] == [call, visit]
    assert [r["id"] for r in interactions.overview(session, kind=InteractionKind.VISIT, limit=1)] == [later]
    assert [r["id"] for r in interactions.overview(session, since=datetime(2026, 3, 5, 10, tzinfo=UTC),
                                                   until=datetime(2026, 3, 9, 10, tzinfo=UTC))] == [call]
    with pytest.raises(NotFound):
        interactions.overview(session, contact="nobody@example.org")
