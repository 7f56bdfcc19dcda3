"""Campaigns, test sends, the worker and the settings driven as a hostile user would, through
the installed `crm`: one line, an exit code of the table, no traceback, nothing written when
the command fails; and two `send` at once end together."""

from __future__ import annotations

import subprocess
import time
from email import message_from_bytes
from pathlib import Path

import pytest

from crm.errors import ConfigError
from crm.settings import Settings, load
from tests.support.cli import CrmRunner
from tests.support.processes import RedisServer
from tests.support.snapshots import snapshot

pytestmark = pytest.mark.cli


def _one_line(result) -> None:  # noqa: ANN001
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, result.err


def _world(crm: CrmRunner, contacts: int = 3) -> None:
    rows = "\n".join(f"p{i}@cluster-test.org,P{i}" for i in range(contacts))
    (crm.cwd / "people.csv").write_text(f"email,first_name\n{rows}\n")
    crm("contacts", "import", "people.csv")
    (crm.cwd / "ok.md").write_text("Bonjour {{ contact.first_name }}\n")
    (crm.cwd / "en.md").write_text("Hello\n")
    (crm.cwd / "empty.md").write_text("")
    (crm.cwd / "blank.md").write_text("  \n\n")


NEWS = ["campaigns", "create", "--kind", "newsletter", "--segment", "everyone"]
REFUSED = [
    # a default language without content: was a KeyError (exit 1)
    ([*NEWS, "--subject", "en=Hello", "--content", "en=en.md", "--language", "fr"], 65, "--language"),
    # an empty content file: was an empty newsletter
    ([*NEWS, "--subject", "S", "--content", "empty.md"], 65, "content is empty"),
    # a language given twice: the last one silently won
    ([*NEWS, "--subject", "S", "--content", "ok.md", "--content", "fr=en.md"], 65, "--content: fr is given twice"),
    ([*NEWS, "--subject", "S", "--subject", "fr=T", "--content", "ok.md"], 65, "--subject: fr is given twice"),
    ([*NEWS, "--subject", "S", "--content", "blank.md"], 65, "content is empty"),
    # survey links every recipient would find broken: were accepted
    (["campaigns", "create", "--kind", "survey", "--segment", "everyone", "--subject", "S", "--content", "ok.md",
      "--survey-url", "https://"], 65, "--survey-url"),
    (["campaigns", "create", "--kind", "survey", "--segment", "everyone", "--subject", "S", "--content", "ok.md",
      "--survey-url", "https://forms.cluster-test.org/a survey"], 65, "--survey-url"),
    (["campaigns", "create", "--kind", "survey", "--segment", "everyone", "--subject", "S", "--content", "ok.md",
      "--survey-url", "javascript:alert(1)"], 65, "--survey-url"),
]


@pytest.mark.parametrize("args, code, words", REFUSED)
def test_create_refuses_with_one_line_and_changes_nothing(crm_cli_db: CrmRunner, fresh_url: str, args: list[str],
                                                          code: int, words: str) -> None:
    _world(crm_cli_db)
    before = snapshot(fresh_url)
    result = crm_cli_db(*args, ok=False)
    assert result.code == code and words in result.err, result.err
    _one_line(result)
    assert snapshot(fresh_url) == before


def test_a_long_subject_without_a_name_names_the_campaign_cut_and_is_sent_whole(crm_cli: CrmRunner) -> None:
    _world(crm_cli)
    subject = "Lettre " + "é" * 250  # fits the 300 of a subject, not the 200 of a name
    created = crm_cli(*NEWS, "--subject", subject, "--content", "ok.md", "--json").json()  # was 65 "--name: longer"
    assert len(created["name"]) == 200 and created["name"].endswith("…") and subject.startswith(created["name"][:-1])
    crm_cli("campaigns", "preview", str(created["id"]), "--contact", "p1@cluster-test.org", "-o", "p.eml")
    message = message_from_bytes((crm_cli.cwd / "p.eml").read_bytes())
    from email.header import decode_header, make_header
    assert str(make_header(decode_header(message["Subject"]))) == subject


def test_test_send_to_several_addresses_checks_them_all_first(crm_cli: CrmRunner) -> None:
    _world(crm_cli)
    campaign = crm_cli(*NEWS, "--subject", "S", "--content", "ok.md", "--json").json()["id"]
    outbox = crm_cli.cwd / "outbox"
    result = crm_cli("campaigns", "test-send", str(campaign), "--to", "a@cluster-test.org", "--to", "nope", ok=False)
    assert result.code == 65 and result.err.startswith("crm: --to:"), result.err
    _one_line(result)
    assert not outbox.exists() or not any(outbox.iterdir())  # nothing went: the second was checked first
    many = [arg for i in range(51) for arg in ("--to", f"t{i}@cluster-test.org")]
    result = crm_cli("campaigns", "test-send", str(campaign), *many, ok=False)
    assert result.code == 65 and "at most 50" in result.err
    # before: only the last --to got a copy, the others silently lost
    sent = crm_cli("campaigns", "test-send", str(campaign), "--to", "a@cluster-test.org", "--to", "b@cluster-test.org",
                   "--to", "a@cluster-test.org", "--json").json()
    assert [item["to"] for item in sent] == ["a@cluster-test.org", "b@cluster-test.org"]
    assert len(list(outbox.iterdir())) == 2


# ---- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize("variable, value, words", [
    ("CRM_DEFAULT_LANGUAGE", "xx", "language code"),  # was accepted, then every create failed with 65
    ("CRM_BASE_URL", "https://crm.cluster-test.org/app/?x=1", "'?'"),  # links became …/?x=1/u/…
    ("CRM_BASE_URL", "https://crm.cluster-test.org/app#top", "'#'"),
])
def test_a_setting_that_cannot_work_stops_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str,
                                                  value: str, words: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load()
    assert refused.value.setting == variable and words in str(refused.value)


def test_the_default_language_is_a_language_tag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    assert Settings(database_url=url, default_language="pt-BR").default_language == "pt-BR"  # was refused
    assert Settings(database_url=url, default_language="EN").default_language == "en"


def test_default_language_xx_is_configuration_for_create(crm_cli: CrmRunner) -> None:
    _world(crm_cli)
    crm_cli.env["CRM_DEFAULT_LANGUAGE"] = "xx"
    result = crm_cli(*NEWS, "--subject", "S", "--content", "ok.md", ok=False)
    assert result.code == 78 and result.err.startswith("crm: CRM_DEFAULT_LANGUAGE:"), result.err  # was 65 "language:"
    _one_line(result)


# ---- the worker and the broker -----------------------------------------------------------

@pytest.mark.slow
def test_worker_on_a_redis_database_that_does_not_exist_stops_at_once(crm_cli: CrmRunner) -> None:
    crm_cli("init")  # a worker refuses a database without its schema before it looks at the broker
    with RedisServer() as redis:
        crm_cli.env["CRM_BROKER_URL"] = redis.url.rsplit("/", 1)[0] + "/99"
        started = time.monotonic()
        result = crm_cli("worker", ok=False, timeout=30)  # was: a traceback every 3 s, for ever
    assert time.monotonic() - started < 20
    assert result.code == 78 and "CRM_BROKER_URL" in result.err and "DB index is out of range" in result.err
    _one_line(result)


# ---- two sends at once -------------------------------------------------------------------

@pytest.mark.slow
def test_two_sends_at_once_end_together_and_send_each_once(crm_cli_db: CrmRunner) -> None:
    _world(crm_cli_db, contacts=40)
    campaign = crm_cli_db(*NEWS, "--subject", "S", "--content", "ok.md", "--no-consent-required", "--rate", "20",
                          "--json").json()["id"]
    command = [crm_cli_db.exe, "campaigns", "send", str(campaign), "--json"]
    first = subprocess.Popen(command, cwd=crm_cli_db.cwd, env=crm_cli_db.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    second = subprocess.Popen(command, cwd=crm_cli_db.cwd, env=crm_cli_db.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    first.communicate(timeout=60)
    ended = time.monotonic()
    second.communicate(timeout=60)
    # before: the second waited for the first one's lease (60 s) after the campaign had finished
    assert time.monotonic() - ended < 10
    assert first.returncode == 0 and second.returncode in (0, 65)
    status = crm_cli_db("campaigns", "status", str(campaign), "--json").json()
    assert (status["status"], status["sent"]) == ("finished", 40)
    assert len(list((crm_cli_db.cwd / "outbox").iterdir())) == 40


# ---- an invitation to an event that is over ----------------------------------------------

def test_an_invitation_to_an_event_that_is_over_is_refused(crm_cli_db: CrmRunner, fresh_url: str) -> None:
    _world(crm_cli_db)
    crm_cli_db("events", "add", "--kind", "thematic_debate", "--title", "Passé", "--start", "2020-05-12 18:00",
               "--end", "2020-05-12 20:00")
    before = snapshot(fresh_url)
    result = crm_cli_db("campaigns", "create", "--kind", "invitation", "--event", "1", "--segment", "everyone",
                        "--subject", "Invitation", "--content", "ok.md", ok=False)  # was: created, and sent
    assert result.code == 65 and result.err.startswith("crm: --event: event #1 (Passé) ends 2020-05-12 20:00")
    _one_line(result)
    assert snapshot(fresh_url) == before


def test_an_invitation_is_not_scheduled_or_sent_after_its_event(session) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from crm.campaigns import service
    from crm.errors import ValidationError
    from crm.models import Event, EventKind
    from tests.support.delivery import renderer

    event = Event(kind=EventKind.THEMATIC_DEBATE, title="Débat", starts_at=datetime(2998, 2, 10, 17, tzinfo=UTC),
                  ends_at=datetime(2998, 2, 10, 19, tzinfo=UTC), timezone="Europe/Paris")
    session.add(event)
    session.flush()
    campaign = service.create(session, renderer=renderer(), name=None, kind=service.kind("invitation"), segment="all",
                              contents=[service.ContentInput("fr", "Invitation", "Venez")], event_id=event.id,
                              from_address="animation@cluster.example.org", default_language="fr")
    with pytest.raises(ValidationError) as past:
        service.schedule(session, campaign.id, datetime(2001, 1, 1, tzinfo=UTC))
    assert past.value.where == "--at"  # the option, as every other refusal names it (was "at")
    with pytest.raises(ValidationError) as late:
        service.schedule(session, campaign.id, datetime(2998, 2, 11, 8, tzinfo=UTC))
    assert late.value.where == "--at" and "ends 2998-02-10 20:00" in late.value.message
    with pytest.raises(ValidationError) as late:
        service.send(session, campaign.id, now=datetime(2998, 2, 10, 19, 30, tzinfo=UTC))
    assert "ends 2998-02-10 20:00" in late.value.message
    assert service.get(session, campaign.id).status.value == "draft"
    assert service.send(session, campaign.id, now=datetime(2998, 2, 10, 16, tzinfo=UTC))["status"] == "sending"


def test_an_outbox_write_that_fails_leaves_no_half_file(tmp_path: Path) -> None:
    import resource
    import signal

    from crm.mail.outbox import OutboxTransport

    outbox = OutboxTransport(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # a disk that fills up mid-message
    try:
        with pytest.raises(OSError):
            outbox.send("a@cluster-test.org", "b@cluster-test.org", b"Message-ID: <x@y>\r\n\r\n" + b"x" * 5000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert list(tmp_path.iterdir()) == []  # was: an empty or partial .eml.tmp per attempt


def test_a_whole_html_page_keeps_its_own_styles_on_its_own_elements() -> None:
    from crm.rendering.content import to_html
    from crm.rendering.tags import TagProtector

    page = ("<!DOCTYPE html><html><head><style>p { color: red } .big { font-size: 20px } "
            "a { background: url(https://tracker.example/x.png) }</style></head>"
            "<body><p class='big'>Bonjour</p><p><a href='https://cluster-test.org/'>lien</a></p></body></html>")
    html = to_html(page, "html", protector=TagProtector(), base_url="https://crm.cluster-test.org", where="content[fr]")
    assert 'class="big" style="color:red; font-size:20px"' in html  # was: <p class="big"> (the rules lost)
    assert "url(" not in html and "<style" not in html and "<head" not in html


def test_a_dotenv_line_that_cannot_be_read_is_configuration(crm_cli: CrmRunner) -> None:
    (crm_cli.cwd / ".env").write_text("CRM_TIMEZONE=UTC\nCRM_SMTP_URL smtp://u:secret@mail\n", encoding="utf-8")
    result = crm_cli("campaigns", "list", ok=False)  # was: a python-dotenv warning, the line dropped, exit 0
    assert result.code == 78 and result.err.startswith("crm: ./.env: line 2 cannot be read") and "secret" not in result.err
    _one_line(result)
    (crm_cli.cwd / ".env").write_bytes(b'\xef\xbb\xbfexport CRM_TIMEZONE="UTC" # ici\n\n# note\nOTHER=1\n')
    crm_cli("campaigns", "list")  # a BOM, export, quotes, comments and other names are fine


def test_a_blank_outbox_setting_is_the_default_outbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRM_OUTBOX_DIR", "")
    assert load().outbox_dir == Path("outbox")  # was Path('.'): messages written among the user's files
