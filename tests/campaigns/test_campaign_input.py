"""Campaign input a person gives: content files, header values, languages, ids, documented
variables; and the reasons `campaigns status` shows. Real databases (SQLite and PostgreSQL),
the real renderer and message builder, and the installed `crm` for the ways in."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.campaigns import files, preview, reasons, service
from crm.errors import NotFound, ValidationError
from crm.models import Contact, Event, EventKind
from crm.models.deliveries import Delivery, DeliveryStatus as D
from crm.models.organisations import Organisation
from tests.support.cli import CrmRunner
from tests.support.delivery import composer, renderer

README = Path(__file__).resolve().parents[2] / "templates" / "email" / "README.md"


def _create(session: Session, **options) -> service.Campaign:  # noqa: ANN003
    values = dict(renderer=renderer(), name="Lettre", kind=service.kind("newsletter"), segment="all",
                  contents=[service.ContentInput("fr", "Bonjour", "Texte")], from_address="animation@cluster.example.org",
                  from_name="Cluster", default_language="fr")
    return service.create(session, **(values | options))


# ---- 1. content files --------------------------------------------------------------------

def test_content_in_windows_1252_is_read_and_said(tmp_path: Path) -> None:
    path = tmp_path / "lettre.md"
    path.write_bytes("Bonjour,\n\nLa réunion de l'été aura lieu à Angers – entrée libre.\n".encode("cp1252"))
    read = files.read(str(path), "--content fr=lettre.md")
    assert read.text == "Bonjour,\n\nLa réunion de l'été aura lieu à Angers – entrée libre.\n"
    assert read.encoding == "cp1252" and "Windows-1252" in read.note and "line 3" in read.note
    assert read.format == "markdown"


def test_content_in_utf8_with_a_bom_is_utf8(tmp_path: Path) -> None:
    path = tmp_path / "lettre.html"
    path.write_bytes(b"\xef\xbb\xbf<p>\xc3\xa9t\xc3\xa9</p>")
    read = files.read(str(path), "--content fr=lettre.html")
    assert (read.text, read.encoding, read.note, read.format) == ("<p>été</p>", "utf-8", None, "html")


@pytest.mark.parametrize("data, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
    (b"GIF89a\x01\x02\x03\x04\x05 text", "control character"),
    ("ligne été\nligne ".encode() + "été".encode("latin-1") + b"\n", "line 2 is not UTF-8 while the rest"),
    (b"\xff\xfeB\x00o\x00n\x00", "UTF-16"),
    (b"abc \x81\x8d\x8f\x90\x9d", "neither UTF-8 nor Windows-1252"),
])
def test_content_that_is_not_text_is_refused(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(data)
    with pytest.raises(ValidationError) as err:
        files.read(str(path), "--content fr=x.md")
    assert expected in str(err.value) and str(err.value).startswith("--content fr=x.md: ")
    assert "save it as UTF-8" in str(err.value)


def test_a_folder_or_a_missing_file_is_not_found(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.md"):
        with pytest.raises(NotFound, match="--content fr="):
            files.read(str(path), f"--content fr={path}")


@pytest.mark.slow
def test_create_with_content_files_through_the_command(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    crm("init")
    (crm.cwd / "lettre.md").write_bytes("Bonjour {{ contact.first_name }}, la réunion de l'été.\n".encode("cp1252"))
    (crm.cwd / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00")
    (crm.cwd / "folder.md").mkdir()
    base = ("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Lettre")
    for path, code, text in (("image.md", 65, "--content fr=image.md: this is not a text file"),
                             ("folder.md", 66, "--content fr=folder.md: is a folder"),
                             ("missing.md", 66, "--content fr=missing.md: no such file")):
        result = crm(*base, "--content", f"fr={path}", ok=False)
        assert result.code == code, result.err
        assert text in result.err and result.err.count("\n") == 1 and "Traceback" not in result.err
    assert crm("campaigns", "list", "--json").json() == []
    created = crm(*base, "--content", "fr=lettre.md", "--json")
    assert "read as Windows-1252" in created.err
    campaign = str(created.json()["id"])
    crm("contacts", "add", "--email", "zoe@example.org", "--first-name", "Zoé")
    message = email.message_from_bytes(crm("campaigns", "preview", campaign, "--contact", "zoe@example.org").out.encode(),
                                       policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Zoé, la réunion de l'été." in text


# ---- 2. header values are checked at create, as the send will ----------------------------

@pytest.mark.parametrize("option, value, where", [
    ("from_name", "Evil\r\nBcc: victim@example.org", "--from-name"),
    ("from_name", "Evil\nBcc: victim@example.org", "--from-name"),
    ("from_name", "Bell\x07", "--from-name"),
    ("from_name", "Next\u2028line", "--from-name"),
    ("from_address", "animation@cluster.example.org\r\nBcc: x@example.org", "--from"),
    ("from_address", "not an address", "--from"),
    ("reply_to", "reply@cluster.example.org\nBcc: x@example.org", "--reply-to"),
    ("reply_to", "nobody", "--reply-to"),
])
def test_header_values_are_refused_at_create(session: Session, option: str, value: str, where: str) -> None:
    with pytest.raises(ValidationError) as err:
        _create(session, **{option: value})
    assert err.value.where == where


@pytest.mark.parametrize("subject", ["Bonjour\x07", "Bonjour\x1b[31m", "Bonjour\x7f"])
def test_control_characters_in_a_subject_are_refused_at_create(session: Session, subject: str) -> None:
    with pytest.raises(ValidationError) as err:
        _create(session, contents=[service.ContentInput("fr", subject, "Texte")])
    assert err.value.where.startswith("subject[fr]")


def test_an_internationalised_sender_domain_is_stored_as_sent(session: Session) -> None:
    campaign = _create(session, from_address="animation@café.example")
    assert campaign.from_address == "animation@xn--caf-dma.example"
    composer().frame(campaign, "fr")  # the send's own check: every delivery would fail without it


@pytest.mark.slow
def test_a_header_value_refused_at_create_names_the_option(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    crm("init")
    (crm.cwd / "news.md").write_text("Bonjour", encoding="utf-8")
    result = crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Lettre",
                 "--content", "news.md", "--from-name", "Evil\r\nBcc: x@example.org", ok=False)
    assert result.code == 65 and result.err.startswith("crm: --from-name: ") and "line break" in result.err
    assert result.err.count("\n") == 1
    assert crm("campaigns", "list", "--json").json() == []


# ---- 3. the reasons of failures, suppressions and unknowns -------------------------------

def test_reasons_are_grouped_with_their_counts(session: Session) -> None:
    campaign = _create(session)
    contacts = [Contact(email=f"r{i}@example.org", first_name=f"R{i}") for i in range(9)]
    session.add_all(contacts)
    session.flush()
    rows = [
        (D.FAILED, "550 5.1.1 <r0@example.org>: Recipient address rejected: User unknown", None),
        (D.FAILED, "550 5.1.1 <r1@example.org>: Recipient address rejected: User unknown", None),
        (D.FAILED, "552 5.2.2 mailbox full", None),
        (D.FAILED, None, None),
        (D.SUPPRESSED, None, "no_consent"),
        (D.SUPPRESSED, None, "no_consent"),
        (D.UNKNOWN, "connection lost after DATA", None),
        (D.SENT, None, None),
        (D.PENDING, "421 try later", None),
    ]
    session.add_all([Delivery(campaign_id=campaign.id, contact_id=c.id, status=status, last_error=error,
                              suppression_reason=why) for c, (status, error, why) in zip(contacts, rows, strict=True)])
    session.flush()
    assert reasons.grouped(session, campaign.id) == {
        "failed": [{"reason": "550 5.1.1 <…>: Recipient address rejected: User unknown", "count": 2},
                   {"reason": "(no reason recorded)", "count": 1}, {"reason": "552 5.2.2 mailbox full", "count": 1}],
        "suppressed": [{"reason": "no_consent", "count": 2}],
        "unknown": [{"reason": "connection lost after DATA", "count": 1}],
    }


def test_many_reasons_end_in_one_other_entry(session: Session) -> None:
    campaign = _create(session)
    contacts = [Contact(email=f"m{i}@example.org") for i in range(reasons.TOP + 5)]
    session.add_all(contacts)
    session.flush()
    session.add_all([Delivery(campaign_id=campaign.id, contact_id=c.id, status=D.FAILED, last_error=f"554 rule {i}")
                     for i, c in enumerate(contacts)])
    session.flush()
    failed = reasons.grouped(session, campaign.id)["failed"]
    assert len(failed) == reasons.TOP + 1 and failed[-1] == {"reason": "5 other reasons", "count": 5}


@pytest.mark.slow
def test_status_shows_the_reasons(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    crm("init")
    crm("contacts", "add", "--email", "a@example.org", "--first-name", "A")
    crm("contacts", "add", "--email", "b@example.org", "--first-name", "B")
    (crm.cwd / "news.md").write_text("Bonjour", encoding="utf-8")
    campaign = str(crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Lettre",
                       "--content", "news.md", "--json").json()["id"])
    crm("campaigns", "send", campaign)  # nobody consented to the newsletter: both suppressed
    data = crm("campaigns", "status", campaign, "--json").json()
    assert {k: data[k] for k in ("status", "total", "sent", "failed", "suppressed", "pending", "unknown")} == {
        "status": "finished", "total": 2, "sent": 0, "failed": 0, "suppressed": 2, "pending": 0, "unknown": 0}
    [entry] = data["reasons"]["suppressed"]
    assert entry["count"] == 2 and entry["reason"]
    assert data["reasons"]["failed"] == [] and data["reasons"]["unknown"] == []
    shown = crm("campaigns", "status", campaign).out
    assert f"suppressed: {entry['reason']} ×2" in shown


# ---- 4. every documented variable renders ------------------------------------------------

def _documented(group: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    line = re.search(rf"^- `{group}`: (.+)$", text, re.MULTILINE)
    assert line, f"templates/email/README.md documents no {group} variables"
    return [re.match(r"\s*([a-z_]+)", name).group(1) for name in line.group(1).split(",")]


def test_every_documented_event_and_contact_variable_renders(session: Session) -> None:
    organisation = Organisation(name="AgroLab SAS")
    session.add(organisation)
    session.flush()
    contact = Contact(email="helene@example.org", first_name="Hélène", last_name="Lefèvre", language="fr",
                      position="Directrice R&D", city="Angers", organisation_id=organisation.id)
    event = Event(kind=EventKind.THEMATIC_DEBATE, title="Débat : l'eau", description="Programme :\n- accueil\n- débat",
                  starts_at=datetime(2999, 2, 10, 17, 0, tzinfo=UTC), ends_at=datetime(2999, 2, 10, 19, 30, tzinfo=UTC),
                  timezone="Europe/Paris", place="Maison de l'innovation", online_url="https://live.example.org/debat")
    session.add_all([contact, event])
    session.flush()
    names = [f"{group}.{name}" for group in ("contact", "event") for name in _documented(group)]
    assert "event.ends_local" in names and "event.description" in names and "contact.city" in names
    body = "\n".join(f"<p>{name}=[{{{{ {name} }}}}]</p>" for name in names)
    campaign = _create(session, kind=service.kind("invitation"), event_id=event.id,
                       contents=[service.ContentInput("fr", "Invitation", body, "html")])
    sent = preview.for_contact(session, composer(), campaign.id, str(contact.id))
    text = email.message_from_bytes(sent.message, policy=policy.default).get_body(("plain",)).get_content()
    shown = dict(re.findall(r"((?:contact|event)\.[a-z_]+)=\[(.*?)\]", text, re.DOTALL))
    assert sorted(shown) == sorted(names)
    assert [name for name in names if not shown[name].strip()] == []
    assert shown["event.ends_local"].startswith("2999-02-10 20:30")
    assert "accueil" in shown["event.description"]


# ---- 5. a language the campaign has no content in ----------------------------------------

def test_a_language_without_content_is_refused_by_name(session: Session) -> None:
    campaign = _create(session, contents=[service.ContentInput("fr", "Bonjour", "Texte"),
                                          service.ContentInput("en", "Hello", "Text")])
    contact = Contact(email="a@example.org", first_name="A")
    session.add(contact)
    session.flush()
    with pytest.raises(ValidationError) as err:
        preview.for_contact(session, composer(), campaign.id, str(contact.id), language="ar")
    assert str(err.value) == f"--language ar: campaign #{campaign.id} has content in fr, en (use one of them)"
    assert preview.for_contact(session, composer(), campaign.id, str(contact.id), language="EN").language == "en"


@pytest.mark.slow
def test_test_send_and_preview_in_a_language_without_content(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    crm("init")
    crm("contacts", "add", "--email", "a@example.org", "--first-name", "A")
    (crm.cwd / "news.md").write_text("Bonjour", encoding="utf-8")
    campaign = str(crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Lettre",
                       "--content", "news.md", "--json").json()["id"])
    for args in (("test-send", campaign, "--to", "t@example.org", "--language", "ar"),
                 ("preview", campaign, "--contact", "a@example.org", "--language", "ar")):
        result = crm("campaigns", *args, ok=False)
        assert result.code == 65 and "Traceback" not in result.err
        assert result.err == f"crm: --language ar: campaign #{campaign} has content in fr (use one of them)\n"
    assert not list(crm.cwd.glob("outbox/*"))


# ---- 6. ids at their extremes and other hostile values -----------------------------------

@pytest.mark.parametrize("campaign_id", [0, 2**63, 99999999999999999999])
def test_ids_out_of_range_are_not_found(session: Session, campaign_id: int) -> None:
    with pytest.raises(NotFound):
        service.get(session, campaign_id)
    with pytest.raises(NotFound):
        service.pause(session, campaign_id)
    with pytest.raises(NotFound):
        _create(session, kind=service.kind("invitation"), event_id=campaign_id)
    assert session.scalars(select(service.Campaign)).all() == []


@pytest.mark.parametrize("option, value, where", [
    ("name", "n" * 201, "--name"),
    ("name", "tab\there", "--name"),
    ("from_name", "n" * 201, "--from-name"),
    ("survey_url", "https://example.org/" + "a" * 500, "--survey-url"),
])
def test_values_longer_than_their_column_are_refused_by_name(session: Session, option: str, value: str,
                                                             where: str) -> None:
    with pytest.raises(ValidationError) as err:
        _create(session, **{option: value})
    assert err.value.where == where
    assert session.scalars(select(service.Campaign)).all() == []


@pytest.mark.parametrize("option, value, where", [
    ("title", "t" * 201, "title"),
    ("place", "p" * 301, "place"),
    ("organiser", "o" * 121, "organiser"),
    ("online_url", "https://example.org/" + "u" * 500, "online_url"),
    ("capacity", 2**31, "capacity"),
    ("capacity", 99999999999999999999, "capacity"),
    ("title", "Débat\r\nBcc: x", "title"),
    ("description", "a\x00b", "description"),
])
def test_event_values_the_database_would_refuse_are_refused_by_name(session: Session, option: str, value: object,
                                                                   where: str) -> None:
    from crm import calendar_events

    values = {"title": "Débat", "place": None, "organiser": None, "online_url": None, "capacity": None,
              "description": None} | {option: value}
    title = values.pop("title")
    with pytest.raises(ValidationError) as err:
        calendar_events.add(session, EventKind.THEMATIC_DEBATE, title, datetime(2027, 1, 1, 9, tzinfo=UTC),
                            datetime(2027, 1, 1, 11, tzinfo=UTC), "Europe/Paris", **values)
    assert err.value.where == where
    assert session.scalars(select(Event)).all() == []


@pytest.mark.slow
def test_hostile_values_through_the_commands(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    crm("init")
    (crm.cwd / "news.md").write_text("Bonjour", encoding="utf-8")
    crm("contacts", "add", "--email", "a@example.org", "--first-name", "A")
    campaign = str(crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Lettre",
                       "--content", "news.md", "--json").json()["id"])
    before = (crm("campaigns", "list", "--json").out, crm("events", "list", "--json").out)
    event = ("events", "add", "--kind", "thematic_debate", "--start", "2027-01-01 10:00", "--end", "2027-01-01 12:00")
    create = ("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--content", "news.md")
    cases = [
        (("campaigns", "status", "99999999999999999999"), 66, "no campaign 99999999999999999999"),
        (("campaigns", "status", "0"), 66, "no campaign 0"),
        (("campaigns", "preview", "99999999999999999999", "--contact", "a@example.org"), 66, "no campaign"),
        (("campaigns", "preview", campaign, "--contact", "a@example.org", "-o", "missing/x.eml"), 66, "--output"),
        ((*create, "--subject", "   "), 65, "subject[fr]: the subject is empty"),
        ((*create, "--subject", "x", "--kind", "flyer"), 65, "unknown campaign kind 'flyer'"),
        ((*create, "--subject", "x", "--name", "n" * 400), 65, "--name: longer than 200"),
        ((*create, "--subject", "x", "--kind", "invitation", "--event", "99999999999999999999"), 66, "no event"),
        ((*create, "--subject", "x", "--kind", "invitation", "--event", "7"), 66, "no event 7"),
        ((*create, "--subject", "x", "--segment", "nosuchsegment"), 65, "is neither a segment nor a rule"),
        ((*create, "--subject", "{{ ('%' * 999999)|urlencode }}"), 65, "longer than"),
        ((*create, "--subject", "{{ 'x'|truncate(-5) }}"), 65, "subject[fr]:1"),
        ((*event, "--title", "t" * 300), 65, "title: longer than 200"),
        ((*event, "--title", "t", "--capacity", "99999999999999999999"), 65, "capacity"),
        ((*event, "--title", "t", "--kind", "party"), 65, "unknown event kind"),
    ]
    for args, code, text in cases:
        result = crm(*args, ok=False)
        assert (result.code, "Traceback" in result.err, result.err.count("\n")) == (code, False, 1), (args, result.err)
        assert text in result.err, (args, result.err)
    assert (crm("campaigns", "list", "--json").out, crm("events", "list", "--json").out) == before
