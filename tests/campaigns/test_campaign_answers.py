"""What the campaigns services answer to every way in (the CLI prints it, an HTTP view will
return it): `service.overview` (`campaigns list`), `preview.show` (`campaigns preview`) and
`preview.send_copies` (`campaigns test-send`). Real databases (SQLite and PostgreSQL), the
parts the settings name (outbox, a real SMTP server on loopback), nothing mocked."""

from __future__ import annotations

import email
import os
import re
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import links
from crm.campaigns import preview, service
from crm.errors import ValidationError
from crm.models import Contact
from crm.models.deliveries import Delivery
from crm.settings import Settings
from tests.support.delivery import BASE_URL, SECRET, renderer
from tests.support.smtp_server import Recorder, SMTPServer

DESCRIBED = ["id", "name", "kind", "topic", "consent_required", "segment", "status", "from", "reply_to",
             "default_language", "languages", "event_id", "rate_limit", "scheduled_at", "started_at", "finished_at"]
COUNTED = ["total", "sent", "failed", "suppressed", "pending", "unknown", "cancelled", "resent_after_crash"]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings of a person who set nothing, in an empty folder (no CRM_* variable, no .env)."""
    for name in [n for n in os.environ if n.startswith("CRM_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return Settings(outbox_dir=tmp_path / "outbox")


def _campaign(session: Session, name: str, languages: tuple[str, ...] = ("fr",)) -> int:
    texts = {"fr": ("Lettre, {{ contact.first_name }}", "Bonjour {{ contact.first_name }}"),
             "en": ("Letter, {{ contact.first_name }}", "Hello {{ contact.first_name }}")}
    return service.create(
        session, renderer=renderer(), name=name, kind=service.kind("newsletter"), segment="all",
        contents=[service.ContentInput(lang, *texts[lang]) for lang in languages],
        from_address="animation@cluster.example.org", default_language=languages[0], consent_required=False,
    ).id


def _people(session: Session, *addresses: str, language: str = "fr") -> list[Contact]:
    people = [Contact(email=address, first_name=address.split("@")[0].title(), language=language) for address in addresses]
    session.add_all(people)
    session.flush()
    return people


# ---- campaigns list ------------------------------------------------------------------------

def test_overview_is_every_campaign_newest_first_with_its_counts(session: Session) -> None:
    assert service.overview(session) == []
    _people(session, "ann@example.org", "bob@example.org", "cat@example.org")
    first = _campaign(session, "Première")
    second = _campaign(session, "Seconde", ("fr", "en"))
    service.send(session, first)

    rows = service.overview(session)
    assert [row["id"] for row in rows] == [second, first]
    assert all(list(row) == DESCRIBED + COUNTED for row in rows)  # the order the JSON prints
    newer, older = rows
    assert (newer["name"], newer["status"], newer["total"], sorted(newer["languages"])) == ("Seconde", "draft", 0, ["en", "fr"])
    assert (older["name"], older["status"], older["total"], older["pending"], older["sent"]) == ("Première", "sending", 3, 3, 0)
    assert older["started_at"] is not None and newer["started_at"] is None


# ---- campaigns preview ---------------------------------------------------------------------

def test_show_signs_the_links_with_the_settings_secret_and_address(session: Session, settings: Settings) -> None:
    settings = settings.model_copy(update={"secret_key": SECRET, "base_url": BASE_URL})
    campaign = _campaign(session, "Lettre", ("fr", "en"))
    ann = _people(session, "ann@example.org", language="en")[0]

    shown = preview.show(session, settings, campaign, "ann@example.org")
    message = email.message_from_bytes(shown.message, policy=policy.default)
    assert (shown.language, shown.address, message["Subject"]) == ("en", "ann@example.org", "Letter, Ann")
    unsubscribe = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(f"{BASE_URL}/u/")
    token = unsubscribe.rpartition("/")[2]
    assert links.read_unsubscribe_token(SECRET, token)["contact_id"] == ann.id
    assert preview.show(session, settings, campaign, str(ann.id), language="fr").language == "fr"


# ---- campaigns test-send -------------------------------------------------------------------

def test_send_copies_through_the_outbox_records_nothing(session: Session, settings: Settings) -> None:
    campaign = _campaign(session, "Lettre", ("fr", "en"))
    copies = preview.send_copies(session, settings, campaign, ["qa@example.org", "qa@example.org", "qb@example.org"],
                                 language="en")
    assert [(c["to"], c["language"], c["result"]) for c in copies] == [
        ("qa@example.org", "en", "sent"), ("qb@example.org", "en", "sent")]  # an address given twice: one copy
    assert list(copies[0]) == ["to", "language", "result", "detail"]
    for copy in copies:
        written = email.message_from_bytes(Path(copy["detail"]).read_bytes(), policy=policy.default)
        assert written["To"] == f"Camille Exemple <{copy['to']}>"  # the sample recipient
        assert written["Subject"] == "Letter, Camille"
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert service.counts(session, campaign)["status"] == "draft"


def test_send_copies_refused_by_the_server_is_bad_data_naming_the_first(session: Session, settings: Settings) -> None:
    settings = settings.model_copy(update={"secret_key": SECRET, "base_url": BASE_URL})
    campaign = _campaign(session, "Lettre")
    _people(session, "john@example.org")
    with SMTPServer(Recorder(rules={"nobody@example.org": "550", "gone@example.org": "550"})) as server:
        settings = settings.model_copy(update={"smtp_url": server.url})
        copies = preview.send_copies(session, settings, campaign, ["qa@example.org"], contact_ref="john@example.org")
        assert [(c["to"], c["language"], c["result"]) for c in copies] == [("qa@example.org", "fr", "sent")]
        assert server.recorder.received[-1].message["Subject"] == "Lettre, John"  # as the contact sees it

        with pytest.raises(ValidationError) as refused:
            preview.send_copies(session, settings, campaign,
                                ["qb@example.org", "nobody@example.org", "gone@example.org", "qc@example.org", "qd@example.org"])
        assert refused.value.where == "test-send"
        assert re.fullmatch(r"test-send: test message not sent to nobody@example\.org: .*550.* \(3 of 5 sent\)",
                            str(refused.value)), str(refused.value)
        with pytest.raises(ValidationError) as alone:
            preview.send_copies(session, settings, campaign, ["gone@example.org"])
        assert str(alone.value).startswith("test-send: test message not sent to gone@example.org: ")
        assert not str(alone.value).endswith("sent)")  # one address: no count
        assert server.recorder.by_recipient() == {"qa@example.org": 1, "qb@example.org": 1, "qc@example.org": 1,
                                                  "qd@example.org": 1}
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
