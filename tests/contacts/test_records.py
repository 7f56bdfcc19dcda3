"""Record keeping services: interactions, calendar events, organisations, local time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm import calendar_events, contacts, interactions, organisations, times
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import Event, EventKind, Interaction, InteractionKind, Organisation, OrganisationKind

UTC = timezone.utc
PARIS = "Europe/Paris"


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


# ---- local time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-03-12 14:00", PARIS, datetime(2026, 3, 12, 13, 0, tzinfo=UTC)),  # CET, UTC+1
        ("2026-07-01 14:00", PARIS, datetime(2026, 7, 1, 12, 0, tzinfo=UTC)),  # CEST, UTC+2
        ("12/03/2026 14:00", PARIS, datetime(2026, 3, 12, 13, 0, tzinfo=UTC)),
        ("2026-03-12", "Africa/Tunis", datetime(2026, 3, 11, 23, 0, tzinfo=UTC)),  # a date alone: midnight
        ("2026-03-12T14:00:00+05:30", PARIS, datetime(2026, 3, 12, 8, 30, tzinfo=UTC)),  # own offset wins
        ("2026-03-12 09:00", "America/New_York", datetime(2026, 3, 12, 13, 0, tzinfo=UTC)),  # EDT since 8 March
    ],
)
def test_local_time_to_utc(text: str, tz: str, expected: datetime) -> None:
    value = times.parse(text, tz)
    assert value == expected
    assert value.tzinfo is UTC


def test_bad_times_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        times.parse("next tuesday", PARIS, "start")
    assert caught.value.where == "start"
    with pytest.raises(ValidationError) as caught:
        times.parse("2026-03-12 14:00", "Mars/Olympus")
    assert caught.value.where == "timezone"


def test_until_a_date_means_the_end_of_that_local_day() -> None:
    assert times.until("2026-03-12", PARIS) == datetime(2026, 3, 12, 23, 0, tzinfo=UTC)
    assert times.until("2026-03-29", PARIS) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # the day DST starts
    assert times.until("2026-03-12 18:00", PARIS) == datetime(2026, 3, 12, 17, 0, tzinfo=UTC)
    assert times.local(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), PARIS) == "2026-07-01 14:00 CEST"


# ---- events ------------------------------------------------------------------------------------------


def test_event_times_are_stored_utc_and_shown_local(session: Session) -> None:
    start = times.parse("2026-06-18 18:30", PARIS, "start")
    event = calendar_events.add(session, EventKind.THEMATIC_DEBATE, " Débat : IA et agriculture ", start,
                                start + timedelta(hours=2), PARIS, capacity=80, place="Technopole")
    session.expire_all()
    again = session.get(Event, event.id)
    assert again is not None
    assert again.starts_at == datetime(2026, 6, 18, 16, 30, tzinfo=UTC)
    assert again.starts_at.utcoffset() == timedelta(0)
    data = calendar_events.summary(again)
    assert data["title"] == "Débat : IA et agriculture"
    assert data["local_start"] == "2026-06-18 18:30 CEST"
    assert data["starts_at"] == "2026-06-18T16:30:00+00:00"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_at": _at(12, 9)}, "end", "ends before it starts"),
        ({"capacity": 0}, "capacity", "from 1 to"),
        ({"capacity": -5}, "capacity", "from 1 to"),
        ({"title": "  "}, "title", "title"),
        ({"timezone": "Paris"}, "timezone", "time zone"),
        ({"online_url": "javascript:alert(1)"}, "online_url", "https://"),
    ],
)
def test_bad_events_are_refused_naming_the_field(session: Session, change: dict, field: str, message: str) -> None:
    values = {"kind": EventKind.WORKSHOP, "title": "Atelier", "starts_at": _at(12, 10), "ends_at": _at(12, 12),
              "timezone": PARIS, "capacity": 20, "online_url": None}
    values.update(change)
    with pytest.raises(ValidationError) as caught:
        calendar_events.add(session, **values)
    assert caught.value.where == field
    assert message in caught.value.message
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_the_database_checks_event_times_and_capacity_too(session: Session) -> None:
    row = {"kind": EventKind.WORKSHOP, "title": "x", "timezone": PARIS, "starts_at": _at(12, 10), "ends_at": _at(12, 9)}
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(insert(Event).values(row))
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(insert(Event).values({**row, "ends_at": _at(12, 11), "capacity": 0}))
    session.execute(insert(Event).values({**row, "ends_at": _at(12, 10)}))  # a zero-length event is fine
    assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_event_kinds_and_listing_window(session: Session) -> None:
    assert calendar_events.kind("Thematic debate") is EventKind.THEMATIC_DEBATE
    with pytest.raises(ValidationError) as caught:
        calendar_events.kind("party")
    assert caught.value.where == "kind"
    ids = [calendar_events.add(session, EventKind.MONTHLY_MEETING, f"M{d}", _at(d), _at(d, 12), PARIS).id for d in (20, 5, 12)]
    assert [e.title for e in calendar_events.list_between(session)] == ["M5", "M12", "M20"]
    assert [e.id for e in calendar_events.list_between(session, _at(5, 11), _at(20))] == [ids[2]]


# ---- interactions ---------------------------------------------------------------------------------


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    ann = contacts.add(session, {"email": "ann@acme.example", "first_name": "Ann"}, organisation="Acme")
    bob = contacts.add(session, {"email": "bob@lab.example", "first_name": "Bob"}, organisation="Lab One")
    eve = contacts.add(session, {"first_name": "Eve", "last_name": "NoMail"})
    return {"ann": ann.id, "bob": bob.id, "eve": eve.id, "acme": ann.organisation_id, "lab": bob.organisation_id}


def test_log_with_participants_organisation_and_event(session: Session, people: dict[str, int]) -> None:
    debate = calendar_events.add(session, EventKind.THEMATIC_DEBATE, "Débat", _at(12), _at(12, 12), PARIS)
    logged = interactions.log(
        session, InteractionKind.THEMATIC_DEBATE, _at(12), contacts=["ANN@acme.example", people["bob"], people["ann"]],
        led_by="Sam", event_id=debate.id, subject="IA", outcome="two projects",
    )
    session.expire_all()
    again = session.get(Interaction, logged.id)
    assert again is not None
    assert sorted(c.id for c in again.contacts) == [people["ann"], people["bob"]]  # named twice, once in
    assert again.organisation_id == people["acme"]  # the first participant's by default
    assert again.event_id == debate.id
    data = interactions.summary(again)
    assert data["organisation"] == "Acme" and data["occurred_at"] == "2026-03-12T10:00:00+00:00"
    explicit = interactions.log(session, InteractionKind.VISIT, _at(13), contacts=[people["ann"]], organisation="lab one")
    assert explicit.organisation_id == people["lab"]
    alone = interactions.log(session, InteractionKind.CALL, _at(13), contacts=[people["eve"]])
    assert alone.organisation_id is None and interactions.summary(alone)["contacts"] == ["Eve NoMail"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"contacts": ["nobody@example.org"]}, NotFound),
        ({"organisation": "No Such Org"}, NotFound),
        ({"event_id": 987654}, NotFound),
    ],
)
def test_log_refuses_unknown_references(session: Session, people: dict[str, int], kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        interactions.log(session, InteractionKind.VISIT, _at(12), **kwargs)
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_interaction_kinds_from_people_s_words() -> None:
    assert interactions.kind("Visite entreprise") is InteractionKind.VISIT
    assert interactions.kind("AG") is InteractionKind.GENERAL_ASSEMBLY
    assert interactions.kind("monthly meeting") is InteractionKind.MONTHLY_MEETING
    with pytest.raises(ValidationError) as caught:
        interactions.kind("lunch")
    assert caught.value.where == "kind"


def test_list_filters(session: Session, people: dict[str, int]) -> None:
    def log(kind: InteractionKind, day: int, *who: str) -> int:
        return interactions.log(session, kind, _at(day), contacts=[people[w] for w in who]).id

    visit_ann = log(InteractionKind.VISIT, 2, "ann")
    call_both = log(InteractionKind.CALL, 10, "ann", "bob")
    visit_bob = log(InteractionKind.VISIT, 20, "bob")
    call_eve = log(InteractionKind.CALL, 25, "eve")

    def ids(**kwargs: object) -> list[int]:
        return [i.id for i in interactions.list_recent(session, **kwargs)]

    assert ids() == [call_eve, visit_bob, call_both, visit_ann]  # most recent first
    assert ids(contact="ann@acme.example") == [call_both, visit_ann]
    assert ids(contact=people["bob"], kind=InteractionKind.VISIT) == [visit_bob]
    assert ids(kind=InteractionKind.CALL) == [call_eve, call_both]
    assert ids(since=_at(10), until=_at(20)) == [call_both]  # since inclusive, until exclusive
    assert ids(since=_at(10), until=times.until("2026-03-20", "UTC")) == [visit_bob, call_both]
    assert ids(limit=2) == [call_eve, visit_bob]
    with pytest.raises(NotFound):
        ids(contact="nobody@example.org")


# ---- organisations --------------------------------------------------------------------------------


def test_add_organisation_and_unique_names(session: Session) -> None:
    acme = organisations.add(session, "  Acme   Robotics ", kind="entreprise", country="fr", size="Small",
                             sector="robotics", region="Auvergne-Rhône-Alpes")
    assert (acme.name, acme.kind, acme.country, acme.size.value if acme.size else None) == (
        "Acme Robotics", OrganisationKind.COMPANY, "FR", "small")
    with pytest.raises(Conflict):
        organisations.add(session, "ACME robotics")
    school = organisations.add(session, "ÉCOLE CENTRALE", kind="Université")
    assert school.kind is OrganisationKind.UNIVERSITY
    with pytest.raises(Conflict):  # not an IntegrityError: SQLite's lower() folds ASCII only
        organisations.add(session, "ÉCOLE CENTRALE")
    assert organisations.get(session, "ÉCOLE  centrale").id == school.id
    assert organisations.get(session, f"#{acme.id}") is acme
    with pytest.raises(NotFound):
        organisations.get(session, "Nowhere Inc")


def test_database_refuses_two_names_differing_by_case(session: Session) -> None:
    session.execute(insert(Organisation).values(name="Lab One", kind=OrganisationKind.RESEARCH_CENTRE))
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(insert(Organisation).values(name="LAB ONE", kind=OrganisationKind.RESEARCH_CENTRE))
    assert session.scalar(select(func.count()).select_from(Organisation)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": " "}, "name"), ({"country": "France"}, "country"), ({"kind": "spaceship"}, "kind"),
     ({"size": "huge"}, "size")],
)
def test_bad_organisations_name_the_field(session: Session, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        organisations.add(session, **{"name": "Acme", **kwargs})
    assert caught.value.where == field
    assert session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_find_or_create_by_name_is_idempotent_with_accents(session: Session) -> None:
    first = organisations.ids_by_name(session, ["ÉCOLE CENTRALE", "Acme", "  acme "], create=True)
    assert set(first) == {"école centrale", "acme"}
    again = organisations.ids_by_name(session, ["ÉCOLE CENTRALE", "ACME", "Unknown"], create=False)
    assert again == first
    assert session.scalar(select(func.count()).select_from(Organisation)) == 2


def test_overview_and_describe_include_contacts(session: Session, people: dict[str, int]) -> None:
    contacts.add(session, {"email": "zoe@acme.example", "first_name": "Zoé", "last_name": "Adam"}, organisation="ACME")
    organisations.add(session, "Empty Co", kind="investor")
    rows = {r["name"]: r for r in organisations.overview(session)}
    assert {n: r["contact_count"] for n, r in rows.items()} == {"Acme": 2, "Empty Co": 0, "Lab One": 1}
    assert [r["name"] for r in organisations.overview(session, search="co")] == ["Empty Co"]
    assert [r["name"] for r in organisations.overview(session, kind=OrganisationKind.INVESTOR)] == ["Empty Co"]
    shown = organisations.describe(session, organisations.get(session, "acme"))
    assert shown["contact_count"] == 2
    assert [c["email"] for c in shown["contacts"]] == ["zoe@acme.example", "ann@acme.example"]  # Adam, then no name
