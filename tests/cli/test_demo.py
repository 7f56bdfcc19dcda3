"""`crm demo`: a realistic cluster built in an empty database, never mixed with real data."""

from __future__ import annotations

import email
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from email import policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from crm import contacts, fields, organisations, perception
from crm.campaigns import preview
from crm.campaigns import service as campaigns
from crm.demo import campaigns as demo_campaigns
from crm.demo import cluster as demo
from crm.demo.data import CLUSTER
from crm.errors import CRMError, ValidationError
from crm.models import (
    AssessmentSource,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Contact,
    Event,
    EventKind,
    Interaction,
    InteractionKind,
    Membership,
    Organisation,
    OrganisationKind,
    PerceptionAssessment,
    PerceptionSegment,
    TargetGroup,
    interaction_contacts,
)
from crm.settings import Settings
from tests.support.cli import CrmRunner
from tests.support.processes import RedisServer, Workers, wait_until

TODAY = date(2026, 3, 15)
NOW = datetime.combine(TODAY, time(0), timezone.utc)
YEAR_AGO = NOW - timedelta(days=365)
EXAMPLE_DOMAINS = (".example.org", ".example.com", ".example.net")


@pytest.fixture
def built(session: Session) -> dict[str, Any]:
    return demo.build(session, today=TODAY)


def _count(session: Session, model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@contextmanager
def _undone(session: Session) -> Iterator[None]:
    """Run a block in a savepoint and roll it back, so that one test can build twice."""
    savepoint = session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


def _fingerprint(session: Session) -> list[Any]:
    """The content of the demo, free of database ids."""
    people = sorted(session.execute(select(Contact.email, Contact.first_name, Contact.last_name, Contact.target,
                                           Contact.language, Contact.position, Contact.created_at)).all(),
                    key=str)
    emails = {i: f"{e} {f} {l}" for i, e, f, l in
              session.execute(select(Contact.id, Contact.email, Contact.first_name, Contact.last_name))}
    views = sorted(
        (emails[c], a.isoformat(), cr.value, i.value)
        for c, a, cr, i in session.execute(select(PerceptionAssessment.contact_id, PerceptionAssessment.assessed_at,
                                                  PerceptionAssessment.credibility, PerceptionAssessment.interest))
    )
    talks = sorted((k.value, w.isoformat(), s or "") for k, w, s in
                   session.execute(select(Interaction.kind, Interaction.occurred_at, Interaction.subject)))
    return [people, views, talks]


def test_every_target_language_membership_and_organisation_kind(session: Session, built: dict[str, Any]) -> None:
    assert built["already_existed"] is False
    assert _count(session, Contact) == built["contacts"]["total"] == 300
    targets = dict(session.execute(select(Contact.target, func.count()).group_by(Contact.target)).all())
    assert set(targets) == set(TargetGroup) and min(targets.values()) >= 1
    assert built["contacts"]["by_target"] == {t.value: targets[t] for t in TargetGroup}
    languages = dict(session.execute(select(Contact.language, func.count()).group_by(Contact.language)).all())
    assert {"fr", "en", "ar"} <= set(languages) and len(languages) >= 5
    assert languages["fr"] > languages["ar"] >= 20 and languages["en"] >= 15
    arabic_script = session.scalars(select(Contact.last_name).where(Contact.language == "ar")).all()
    assert any("\u0600" <= ch <= "\u06ff" for name in arabic_script for ch in name or "")
    memberships = set(session.scalars(select(Contact.membership).distinct()))
    assert set(Membership) <= memberships
    former = session.execute(select(Contact.member_since, Contact.member_until)
                             .where(Contact.membership == Membership.FORMER)).all()
    assert former and all(since and until and since < until <= TODAY for since, until in former)
    kinds = set(session.scalars(select(Organisation.kind).distinct()))
    assert kinds == set(OrganisationKind)
    assert 50 <= _count(session, Organisation) <= 80
    countries = set(session.scalars(select(Organisation.country).distinct()))
    assert {"FR", "MA", "TN", "BE", "CA"} <= countries
    staff = session.scalars(select(Contact).where(Contact.target == TargetGroup.STAFF)).all()
    assert {c.full_name for c in staff} >= set(built["interactions"]["led_by"])
    assert 3 <= len(built["interactions"]["led_by"]) <= 4
    # Tags: the marker on everyone, themes on most.
    listed = contacts.list_page(session, limit=None)
    assert all("demo" in [t.name for t in c.tags] for c in listed)
    assert sum(len(c.tags) > 1 for c in listed) > 250
    assert {"agrifood", "water", "digital", "export"} <= set(built["contacts"]["by_tag"])


def test_addresses_are_valid_unique_and_on_example_domains(session: Session, built: dict[str, Any]) -> None:
    addresses = [e for e in session.scalars(select(Contact.email)) if e is not None]
    assert len(addresses) == built["contacts"]["with_email"] >= 290
    assert len({a.lower() for a in addresses}) == len(addresses)
    for address in addresses:
        assert fields.email(address) == address
        assert address.endswith(EXAMPLE_DOMAINS), address
    for website in session.scalars(select(Organisation.website)):
        assert website and website.startswith("https://") and website.endswith(EXAMPLE_DOMAINS)
    phones = [p for p in session.scalars(select(Contact.phone)) if p]
    assert len(phones) > 150 and all(fields.phone(p) == p for p in phones)


def test_consent_log(session: Session, built: dict[str, Any]) -> None:
    opted = built["consent"]["opted_in"]
    assert opted["newsletter"] > 150 and all(opted[t] > 0 for t in ("events", "press", "calls", "surveys"))
    assert built["consent"]["opted_out"]["newsletter"] > 0
    sources = dict(session.execute(select(ConsentEvent.source, func.count()).group_by(ConsentEvent.source))
                   .all())
    assert sources[ConsentSource.FORM] > 50 and sources[ConsentSource.IMPORT] > 50
    proofs = session.scalars(select(ConsentEvent.proof).where(ConsentEvent.source == ConsentSource.IMPORT)).all()
    assert all(p and ".csv:" in p for p in proofs)
    # Every opt-out follows an opt-in of the same contact and topic.
    outs = session.execute(select(ConsentEvent.contact_id, ConsentEvent.topic, ConsentEvent.at)
                           .where(ConsentEvent.action == ConsentAction.OPT_OUT)).all()
    assert outs
    for contact_id, topic, at in outs:
        assert session.scalar(select(func.min(ConsentEvent.at)).where(
            ConsentEvent.contact_id == contact_id, ConsentEvent.topic == topic,
            ConsentEvent.action == ConsentAction.OPT_IN)) < at
    assert session.scalar(select(func.max(ConsentEvent.at))) < NOW


def test_perception_ends_in_every_segment_after_a_year_of_movement(session: Session, built: dict[str, Any]) -> None:
    counts = perception.distribution(session)
    assert all(counts[s] >= 5 for s in PerceptionSegment), counts
    assert built["contacts"]["by_perception"] == {s.value: counts[s] for s in PerceptionSegment}
    moves = perception.movements(session, YEAR_AGO, NOW + timedelta(days=1))
    assert len(moves) == built["perception_movements"]["count"] >= 100
    between_segments = [m for m in moves if m.before is not PerceptionSegment.NO_OPINION]
    assert len(between_segments) >= 40
    assert {m.after for m in between_segments} >= {PerceptionSegment.ACQUIRED, PerceptionSegment.OPPONENT}
    assert sum(built["perception_movements"]["by_change"].values()) == len(moves)
    sources = set(session.scalars(select(PerceptionAssessment.source).distinct()))
    assert sources == set(AssessmentSource)
    when = session.scalars(select(PerceptionAssessment.assessed_at)).all()
    assert max(when) < NOW and len({(w.year, w.month) for w in when if w >= YEAR_AGO}) >= 11


def test_a_year_of_events_and_interactions(session: Session, built: dict[str, Any]) -> None:
    events = session.scalars(select(Event)).all()
    assert {e.kind for e in events} == set(EventKind)
    assert all(e.timezone == "Europe/Paris" and e.starts_at.tzinfo is not None for e in events)
    assert all(YEAR_AGO <= e.starts_at < NOW + timedelta(days=120) for e in events)
    upcoming = [e for e in events if e.starts_at >= NOW]
    assert 2 <= len(upcoming) == built["events"]["upcoming"] <= 5
    assert sum(e.kind is EventKind.THEMATIC_DEBATE for e in events if e.starts_at < NOW) >= 5
    assert sum(e.kind is EventKind.MONTHLY_MEETING for e in events if e.starts_at < NOW) >= 10
    assert any(e.online_url for e in events) and all(e.place and e.capacity for e in events)

    first, last = session.execute(select(func.min(Interaction.occurred_at), func.max(Interaction.occurred_at))).one()
    assert YEAR_AGO <= first < YEAR_AGO + timedelta(days=30) and NOW - timedelta(days=30) < last < NOW
    kinds = dict(session.execute(select(Interaction.kind, func.count()).group_by(Interaction.kind)).all())
    assert set(kinds) == set(InteractionKind) and kinds[InteractionKind.VISIT] >= 30
    assert built["interactions"]["by_kind"] == {k.value: kinds[k] for k in InteractionKind}
    by_event = {e.id: e for e in events}
    matching = {InteractionKind.MONTHLY_MEETING: EventKind.MONTHLY_MEETING,
                InteractionKind.THEMATIC_DEBATE: EventKind.THEMATIC_DEBATE,
                InteractionKind.GENERAL_ASSEMBLY: EventKind.GENERAL_ASSEMBLY,
                InteractionKind.ANNUAL_MEETING: EventKind.ANNUAL_MEETING}
    size = dict(session.execute(select(interaction_contacts.c.interaction_id, func.count())
                                .group_by(interaction_contacts.c.interaction_id)).all())
    for interaction in session.scalars(select(Interaction)):
        assert interaction.led_by in built["interactions"]["led_by"]
        if interaction.kind in matching:
            event_ = by_event[interaction.event_id]
            assert event_.kind is matching[interaction.kind] and interaction.occurred_at == event_.starts_at
            assert 3 <= size.get(interaction.id, 0) <= (event_.capacity or 0)
        if interaction.kind is InteractionKind.VISIT:
            assert interaction.organisation_id is not None and size.get(interaction.id, 0) >= 1
        if interaction.kind is InteractionKind.PRESS_CONTACT and interaction.event_id is None:
            targets = {c.target for c in interaction.contacts}
            assert targets == {TargetGroup.MEDIA}
    # Nobody takes part in something before they are in the base.
    early = session.scalar(
        select(func.count()).select_from(interaction_contacts)
        .join(Interaction, Interaction.id == interaction_contacts.c.interaction_id)
        .join(Contact, Contact.id == interaction_contacts.c.contact_id)
        .where(Interaction.occurred_at < Contact.created_at)
    )
    assert early == 0


def test_same_seed_same_cluster_other_seed_other_cluster(session: Session) -> None:
    def run(seed: int) -> tuple[dict[str, Any], list[Any]]:
        with _undone(session):
            result = demo.build(session, seed=seed, contacts=80, today=TODAY)
            return result, _fingerprint(session)

    first, print_1 = run(7)
    second, print_2 = run(7)
    other, print_3 = run(8)
    for result in (first, second, other):
        result.pop("seconds")
    assert first == second and print_1 == print_2
    assert print_3 != print_1
    assert _count(session, Contact) == 0


def test_smallest_demo_still_covers_everything(session: Session) -> None:
    result = demo.build(session, contacts=demo.MIN_CONTACTS, today=TODAY)
    assert result["contacts"]["total"] == demo.MIN_CONTACTS
    assert min(result["contacts"]["by_target"].values()) >= 1
    assert min(result["contacts"]["by_perception"].values()) >= 1
    assert min(result["events"]["by_kind"].values()) >= 1
    with pytest.raises(ValidationError, match="contacts"):
        demo.build(session, contacts=demo.MIN_CONTACTS - 1, today=TODAY)


def test_second_build_finds_the_demo_and_adds_nothing(session: Session, built: dict[str, Any]) -> None:
    tables = (Contact, Organisation, Event, Interaction, ConsentEvent, PerceptionAssessment)
    before = [_count(session, t) for t in tables]
    again = demo.build(session, today=TODAY, seed=99, contacts=500)
    assert again["already_existed"] is True
    assert [_count(session, t) for t in tables] == before
    for result in (built, again):
        result.pop("seconds")
        result.pop("already_existed")
    assert again == built
    assert demo.status(session) == "demo"


def test_refuses_a_database_with_other_contacts(session: Session) -> None:
    assert demo.status(session) == "empty"
    contacts.add(session, {"email": "someone@example.org", "last_name": "Real"})
    assert demo.status(session) == "other"
    with pytest.raises(CRMError, match="empty folder.*CRM_DATABASE_URL"):
        demo.build(session, today=TODAY)
    assert _count(session, Contact) == 1 and _count(session, Organisation) == 0


def test_refuses_real_data_even_without_contacts_and_never_mixes(session: Session) -> None:
    with _undone(session):
        organisations.add(session, "Real Company")
        with pytest.raises(CRMError):
            demo.build(session, today=TODAY)
    demo.build(session, contacts=50, today=TODAY)
    contacts.add(session, {"email": "late@example.org"})  # someone adds real data to the demo
    with pytest.raises(CRMError, match="1 contact\\)"):
        demo.build(session, contacts=50, today=TODAY)


def test_statements_do_not_grow_with_contacts(session: Session) -> None:
    """Set-based: a bigger demo sends bigger batches, not more statements."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        sizes = []
        for size in (60, 300):
            statements.clear()
            with _undone(session):
                demo.build(session, contacts=size, today=TODAY)
            sizes.append(len(statements))
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert sizes[1] < 200 and sizes[1] - sizes[0] <= 10, sizes


# ---- the name it sends under ---------------------------------------------------------------


@pytest.fixture
def nothing_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder, and no CRM_* variable: the settings of a person who set nothing."""
    for name in [n for n in os.environ if n.startswith("CRM_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_demo_sends_as_the_cluster_it_builds_unless_the_person_named_one(
        nothing_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = demo_campaigns.settings_for(Settings())
    assert (plain.cluster_name, plain.sender_name) == (CLUSTER, CLUSTER)
    monkeypatch.setenv("CRM_FROM_NAME", "Équipe d'animation")
    sender = demo_campaigns.settings_for(Settings())
    assert (sender.cluster_name, sender.sender_name) == (CLUSTER, "Équipe d'animation")
    monkeypatch.delenv("CRM_FROM_NAME")
    (nothing_set / ".env").write_text('CRM_CLUSTER_NAME="Pôle Agri-Ouest"\n', encoding="utf-8")
    named = demo_campaigns.settings_for(Settings())
    assert (named.cluster_name, named.sender_name) == ("Pôle Agri-Ouest", "Pôle Agri-Ouest")
    monkeypatch.setenv("CRM_CLUSTER_NAME", "Cluster CRM demo")  # the default's value, but set by the person
    assert demo_campaigns.settings_for(Settings()).cluster_name == "Cluster CRM demo"


def test_the_demo_campaigns_carry_the_name_in_the_sender_and_the_footer(session: Session, nothing_set: Path) -> None:
    settings = demo_campaigns.settings_for(Settings())
    demo.build(session, contacts=demo.MIN_CONTACTS)
    ids, started = demo_campaigns.prepare(session, settings)
    assert len(ids) == 2 and started == ids
    assert [campaigns.get(session, i).from_name for i in ids] == [CLUSTER, CLUSTER]
    reader = session.scalar(select(Contact.email).where(Contact.language == "fr", Contact.email.is_not(None)))
    message = email.message_from_bytes(preview.show(session, settings, ids[0], reader).message, policy=policy.default)
    assert message["From"].addresses[0].display_name == CLUSTER
    assert f"membre de {CLUSTER}." in message.get_body(("plain",)).get_content()
    assert demo_campaigns.prepare(session, settings) == (ids, ids)  # once: a second run finds them


# ---- the real `crm` entry point --------------------------------------------------------


def _sender_and_footer(outbox: Path) -> set[tuple[str, bool]]:
    """Each message's From display name, and whether its text part names that cluster."""
    seen = set()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        name = message["From"].addresses[0].display_name
        seen.add((name, f"{name}." in message.get_body(("plain",)).get_content()))
    return seen


@pytest.mark.cli
@pytest.mark.slow
def test_cli_demo_in_an_empty_folder(crm_cli: Any) -> None:
    run = crm_cli("demo", "--json")
    assert run.err == ""  # nothing but the answer: no warning (dramatiq's middleware one was seen here)
    first = run.json()
    assert (Path(crm_cli.cwd) / "crm.db").is_file()
    assert first["already_existed"] is False and first["database"] == "sqlite:///./crm.db"
    assert first["contacts"]["total"] == 300 and min(first["contacts"]["by_target"].values()) > 0
    # the whole cycle: the newsletter and an invitation, sent into ./outbox/ by the real pipeline
    sent = {c["name"].split(":")[1].split()[0]: c for c in first["campaigns"]}
    assert set(sent) == {"quarterly", "invitation"}
    assert all(c["status"] == "finished" and c["sent"] > 0 and c["pending"] == 0 for c in sent.values())
    outbox = list((Path(crm_cli.cwd) / "outbox").glob("*.eml"))
    assert len(outbox) == sum(c["sent"] for c in sent.values())
    assert _sender_and_footer(Path(crm_cli.cwd) / "outbox") == {(CLUSTER, True)}  # the cluster it built
    second = crm_cli("demo", "--json").json()
    assert second["already_existed"] is True
    assert len(list((Path(crm_cli.cwd) / "outbox").glob("*.eml"))) == len(outbox)  # nothing sent twice
    for result in (first, second):
        result.pop("seconds")
        result.pop("already_existed")
    assert second == first
    listed = crm_cli("contacts", "list", "--json", "--limit", "1000").json()
    assert len(listed) == 300 and all("demo" in c["tags"] for c in listed)
    assert {c["language"] for c in listed} >= {"fr", "en", "ar"}
    water = crm_cli("contacts", "list", "--tag", "water", "--json", "--limit", "1000").json()
    assert 0 < len(water) < 300


@pytest.mark.cli
@pytest.mark.slow
def test_cli_demo_sends_under_the_names_the_person_set(tmp_path: Path) -> None:
    named = CrmRunner(tmp_path / "named")
    named.cwd.mkdir()
    named.env["CRM_CLUSTER_NAME"] = "Pôle Agri-Ouest"
    assert named("demo", "--contacts", str(demo.MIN_CONTACTS), "--json").json()["cluster"] == CLUSTER
    assert _sender_and_footer(named.cwd / "outbox") == {("Pôle Agri-Ouest", True)}

    sender = CrmRunner(tmp_path / "sender")
    sender.cwd.mkdir()
    (sender.cwd / ".env").write_text("CRM_FROM_NAME=Équipe d'animation\n", encoding="utf-8")
    sender("demo", "--contacts", str(demo.MIN_CONTACTS), "--json")
    outbox = list((sender.cwd / "outbox").glob("*.eml"))
    assert outbox and {email.message_from_bytes(p.read_bytes(), policy=policy.default)["From"].addresses[0].display_name
                       for p in outbox} == {"Équipe d'animation"}
    assert all(f"{CLUSTER}." in email.message_from_bytes(p.read_bytes(), policy=policy.default)
               .get_body(("plain",)).get_content() for p in outbox)  # the footer still names the cluster


@pytest.mark.cli
@pytest.mark.slow
def test_cli_demo_on_a_broker_then_crm_worker_print_no_warning(crm_cli: Any) -> None:
    """dramatiq says "You're adding a middleware of the same type twice" when a middleware is
    added to a broker that has one (it was: a dramatiq Worker started on the stub broker for
    each demo campaign, in one process). Neither the demo's enqueue nor the worker may say it."""
    with RedisServer() as redis, Workers(crm_cli.cwd, {"CRM_BROKER_URL": redis.url}) as workers:
        crm_cli.env["CRM_BROKER_URL"] = redis.url
        run = crm_cli("demo", "--contacts", str(demo.MIN_CONTACTS), "--json")
        assert run.err == ""
        ids = [c["id"] for c in run.json()["campaigns"]]
        assert ids and {c["status"] for c in run.json()["campaigns"]} == {"sending"}  # queued for the workers
        workers.start()
        wait_until(lambda: all(crm_cli("campaigns", "status", str(i), "--json").json()["status"] == "finished"
                               for i in ids), 90, "the worker to send the demo campaigns", interval=0.5)
        workers.stop_all()
        log = workers.logs[0].read_text(errors="replace")
        assert "crm worker:" in log and "middleware" not in log, log[-3000:]


@pytest.mark.cli
def test_cli_demo_refuses_a_folder_with_real_contacts(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "real@example.org", "--last-name", "Real")
    result = crm_cli("demo", ok=False)
    assert result.code != 0 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "empty" in result.err
    assert len(crm_cli("contacts", "list", "--json").json()) == 1


@pytest.mark.cli
@pytest.mark.slow
def test_cli_demo_tables_on_each_backend(crm_cli_db: Any) -> None:
    out = crm_cli_db("demo", "--contacts", "60", "--seed", "3").out
    assert "Demo cluster" in out and "built in" in out and "Perception movements over the year" in out
    for word in ("member company", "thematic debate", "no opinion", "newsletter"):
        assert word in out
    again = crm_cli_db("demo", "--json").json()
    assert again["already_existed"] is True and again["contacts"]["total"] == 60


@pytest.mark.cli
@pytest.mark.parametrize(("settings", "code", "named"), [
    ({"CRM_SMTP_URL": "smtp://127.0.0.1:1"}, 78, "CRM_SECRET_KEY"),  # real mail without a secret of one's own
    ({"CRM_SMTP_URL": "smtp://127.0.0.1:1", "CRM_SECRET_KEY": "s" * 40, "CRM_BASE_URL": "https://crm.pole-agri-ouest.eu"},
     69, "SMTP 127.0.0.1:1"),  # a mail server nobody answers at
    ({"CRM_BROKER_URL": "redis://127.0.0.1:1/0"}, 69, "CRM_BROKER_URL"),
])
def test_a_demo_that_could_not_send_builds_nothing(crm_cli: CrmRunner, settings: dict[str, str], code: int,
                                                   named: str) -> None:
    """The send settings are checked before the cluster is built: one line, its exit code,
    and no half-made demo left behind (no contact, no campaign)."""
    crm_cli.env.update(settings)
    result = crm_cli("demo", ok=False)
    assert result.code == code and named in result.err and len(result.err.strip().splitlines()) == 1, result
    assert not (crm_cli.cwd / "crm.db").exists() or crm_cli("contacts", "list", "--json", ok=False).out.strip() in ("", "[]")
