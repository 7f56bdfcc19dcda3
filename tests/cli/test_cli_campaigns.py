"""`crm campaigns …` through the installed entry point, on the embedded default
(SQLite, in-process dramatiq worker on the stub broker, .eml outbox)."""

from __future__ import annotations

import email
from email import policy

import pytest

from tests.support.cli import CrmRunner
from tests.support.smtp_server import SMTPServer


def _contacts(crm: CrmRunner) -> None:
    (crm.cwd / "people.csv").write_text(
        "Nom;Prénom;Courriel;Langue;Catégorie\n"
        "Lefèvre;Hélène;helene@example.org;fr;entreprise membre\n"
        "Smith;John;john@example.org;en;partenaire\n"
        "بن علي;كريم;karim@example.net;ar;université\n"
        "Sans;Consentement;nope@example.org;fr;partenaire\n",
        encoding="utf-8",
    )
    crm("contacts", "import", "people.csv")
    (crm.cwd / "optin.csv").write_text("email\nhelene@example.org\njohn@example.org\nkarim@example.net\n", encoding="utf-8")
    crm("contacts", "import", "optin.csv", "--consent", "newsletter")
    (crm.cwd / "news.fr.md").write_text("Bonjour {{ contact.first_name }},\n\nLes **nouvelles** du cluster.", encoding="utf-8")
    (crm.cwd / "news.en.md").write_text("Hello {{ contact.first_name }},\n\nThe cluster's **news**.", encoding="utf-8")


@pytest.mark.slow
def test_create_preview_send_status_in_process(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    created = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "newsletter_subscribers",
                      "--subject", "fr=Lettre pour {{ contact.first_name }}", "--content", "fr=news.fr.md",
                      "--subject", "en=Letter for {{ contact.first_name }}", "--content", "en=news.en.md", "--json").json()
    assert created["status"] == "draft" and sorted(created["languages"]) == ["en", "fr"]
    campaign = str(created["id"])

    crm_cli("campaigns", "preview", campaign, "--contact", "john@example.org", "-o", "john.eml")
    message = email.message_from_bytes((crm_cli.cwd / "john.eml").read_bytes(), policy=policy.default)
    assert message["Subject"] == "Letter for John"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    status = crm_cli("campaigns", "send", campaign, "--json").json()
    assert {k: status[k] for k in ("status", "total", "sent", "failed", "suppressed", "pending", "unknown")} == {
        "status": "finished", "total": 3, "sent": 3, "failed": 0, "suppressed": 0, "pending": 0, "unknown": 0}
    outbox = sorted((crm_cli.cwd / "outbox").glob("*.eml"))
    subjects = sorted(email.message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in outbox)
    assert subjects == ["Letter for John", "Lettre pour Hélène", "Lettre pour كريم"]  # Arabic falls back to French
    again = crm_cli("campaigns", "send", campaign, ok=False)
    assert again.code != 0 and "finished" in again.err and again.err.strip().count("\n") == 0
    listed = crm_cli("campaigns", "list", "--json").json()
    assert [c["sent"] for c in listed] == [3]


@pytest.mark.slow
def test_bad_input_is_one_line_and_creates_nothing(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    bad_rule = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "langage = fr",
                       "--subject", "x", "--content", "news.fr.md", ok=False)
    assert bad_rule.code != 0 and "unknown field or function 'langage'" in bad_rule.err
    (crm_cli.cwd / "evil.md").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    evil = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "x",
                   "--content", "evil.md", ok=False)
    assert evil.code != 0 and "content[fr]" in evil.err and evil.err.strip().count("\n") == 0
    unknown = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "x",
                      "--content", "news.fr.md", "--content", "en=missing.md", ok=False)
    assert unknown.code != 0
    invitation = crm_cli("campaigns", "create", "--kind", "invitation", "--segment", "all", "--subject", "x",
                         "--content", "news.fr.md", ok=False)
    assert invitation.code != 0 and "event" in invitation.err
    assert crm_cli("campaigns", "list", "--json").json() == []


@pytest.mark.slow
def test_test_send_goes_to_a_real_smtp_server(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    created = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Essai",
                      "--content", "news.fr.md", "--json").json()
    with SMTPServer() as server:
        crm_cli.env["CRM_SMTP_URL"] = server.url
        crm_cli.env["CRM_SECRET_KEY"] = "test-secret-of-at-least-32-characters-xyz"  # real mail needs its own
        crm_cli.env["CRM_BASE_URL"] = "https://crm.pole-agri-ouest.eu"
        result = crm_cli("campaigns", "test-send", str(created["id"]), "--to", "qa@example.org", "--json").json()
        assert result["result"] == "sent"
        assert server.recorder.by_recipient() == {"qa@example.org": 1}
    status = crm_cli("campaigns", "status", str(created["id"]), "--json").json()
    assert (status["status"], status["total"]) == ("draft", 0)  # a test send records nothing
