"""The record-keeping commands through the real `crm` entry point (orgs, interactions, events,
perception, consent): --json output parsed, and errors as one line on stderr that change nothing."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.cli


def fails(result: Any, *words: str) -> None:
    """Non-zero exit, exactly one line on stderr, naming what was wrong."""
    assert result.code != 0, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for word in words:
        assert word in lines[0], lines[0]


# ---- orgs ------------------------------------------------------------------------------------


def test_orgs_add_list_show(crm_cli: Any) -> None:
    made = crm_cli("orgs", "add", "Acme Robotics", "--kind", "entreprise", "--country", "fr", "--size", "small", "--json").json()
    assert (made["name"], made["kind"], made["country"], made["size"]) == ("Acme Robotics", "company", "FR", "small")
    crm_cli("contacts", "add", "--email", "ann@acme.example", "--first-name", "Ann", "--org", "ACME robotics")
    listed = crm_cli("orgs", "list", "--json").json()
    assert [(o["id"], o["contact_count"]) for o in listed] == [(made["id"], 1)]
    shown = crm_cli("orgs", "show", "acme ROBOTICS", "--json").json()
    assert shown["id"] == made["id"] and [c["email"] for c in shown["contacts"]] == ["ann@acme.example"]
    assert "ann@acme.example" in crm_cli("orgs", "show", f"#{made['id']}").out


def test_orgs_errors_change_nothing(crm_cli: Any) -> None:
    crm_cli("orgs", "add", "Acme")
    fails(crm_cli("orgs", "add", "ACME", ok=False), "already exists")
    fails(crm_cli("orgs", "add", "Lab", "--country", "France", ok=False), "country")
    fails(crm_cli("orgs", "show", "Nowhere", ok=False), "no organisation")
    assert [o["name"] for o in crm_cli("orgs", "list", "--json").json()] == ["Acme"]


# ---- interactions ----------------------------------------------------------------------------


def test_interactions_log_and_list(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example", "--org", "Acme")
    crm_cli("contacts", "add", "--email", "bob@lab.example", "--org", "Lab One")
    logged = crm_cli(
        "interactions", "log", "--kind", "visite", "--when", "2026-03-12 14:00", "--contact", "ann@acme.example",
        "--contact", "BOB@lab.example", "--by", "Sam", "--subject", "Visite usine", "--outcome", "follow-up", "--json",
    ).json()
    assert logged["kind"] == "visit"
    assert logged["occurred_at"] == "2026-03-12T13:00:00+00:00"  # Europe/Paris by default
    assert logged["contacts"] == ["ann@acme.example", "bob@lab.example"] and logged["organisation"] == "Acme"
    crm_cli("interactions", "log", "--kind", "call", "--when", "2026-04-01 09:00", "--contact", "bob@lab.example",
            "--org", "lab one")
    listed = crm_cli("interactions", "list", "--json").json()
    assert [i["kind"] for i in listed] == ["call", "visit"]
    assert [i["kind"] for i in crm_cli("interactions", "list", "--until", "2026-03-12", "--json").json()] == ["visit"]


@pytest.mark.slow
def test_interactions_list_filters(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    crm_cli("contacts", "add", "--email", "bob@lab.example")
    for kind, when, who in [("visit", "2026-03-02 10:00", "ann@acme.example"), ("call", "2026-03-10 10:00", "1"),
                            ("call", "2026-03-20 10:00", "bob@lab.example")]:
        crm_cli("interactions", "log", "--kind", kind, "--when", when, "--contact", who)

    def whens(*options: str) -> list[str]:
        return [i["occurred_at"][:10] for i in crm_cli("interactions", "list", *options, "--json").json()]

    assert whens("--contact", "ann@acme.example") == ["2026-03-10", "2026-03-02"]
    assert whens("--kind", "call", "--since", "2026-03-05", "--until", "2026-03-15") == ["2026-03-10"]
    assert whens("--limit", "1") == ["2026-03-20"]


@pytest.mark.slow
def test_interactions_errors_change_nothing(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    fails(crm_cli("interactions", "log", "--kind", "visit", "--contact", "ann@acme.example", "--contact",
                  "ghost@example.org", ok=False), "ghost@example.org")
    fails(crm_cli("interactions", "log", "--kind", "visit", "--when", "12h", ok=False), "when")
    fails(crm_cli("interactions", "log", "--kind", "lunch", ok=False), "kind")
    fails(crm_cli("interactions", "log", "--kind", "visit", "--event", "42", ok=False), "no event 42")
    assert crm_cli("interactions", "list", "--json").json() == []


# ---- events ------------------------------------------------------------------------------------


def test_events_add_and_list(crm_cli: Any) -> None:
    debate = crm_cli(
        "events", "add", "--kind", "thematic debate", "--title", "IA et agriculture", "--start", "2026-06-18 18:30",
        "--end", "2026-06-18 20:30", "--place", "Technopole", "--capacity", "80", "--json",
    ).json()
    assert (debate["starts_at"], debate["local_start"], debate["capacity"]) == (
        "2026-06-18T16:30:00+00:00", "2026-06-18 18:30 CEST", 80)
    remote = crm_cli(
        "events", "add", "--kind", "workshop", "--title", "Investor call", "--start", "2026-05-04 09:00",
        "--end", "2026-05-04 10:00", "--timezone", "America/New_York", "--online-url", "https://meet.example/x", "--json",
    ).json()
    assert (remote["starts_at"], remote["timezone"]) == ("2026-05-04T13:00:00+00:00", "America/New_York")
    assert [e["id"] for e in crm_cli("events", "list", "--json").json()] == [remote["id"], debate["id"]]
    assert [e["id"] for e in crm_cli("events", "list", "--since", "2026-06-01", "--until", "2026-06-18", "--json").json()] == [debate["id"]]


def test_events_errors_change_nothing(crm_cli: Any) -> None:
    base = ["events", "add", "--kind", "workshop", "--title", "Atelier", "--start", "2026-06-18 18:30"]
    fails(crm_cli(*base, "--end", "2026-06-18 17:30", ok=False), "end", "ends before it starts")
    fails(crm_cli(*base, "--end", "2026-06-18 19:30", "--capacity", "0", ok=False), "capacity")
    fails(crm_cli(*base, "--end", "2026-06-18 19:30", "--capacity", "ten", ok=False), "capacity")
    fails(crm_cli(*base, "--end", "2026-06-18 19:30", "--timezone", "Mars/Olympus", ok=False), "timezone")
    assert crm_cli("events", "list", "--json").json() == []


# ---- perception ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_perception_set_history_summary(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    first = crm_cli("perception", "set", "ann@acme.example", "--credibility", "low", "--interest", "high",
                    "--source", "visit", "--at", "2026-01-15 10:00", "--json").json()
    assert (first["previous"], first["segment"]) == ("no_opinion", "skeptic")
    second = crm_cli("perception", "set", "1", "--credibility", "oui", "--interest", "high", "--by", "Sam",
                     "--note", "after the debate", "--json").json()
    assert (second["previous"], second["segment"], second["assessment"]["author"]) == ("skeptic", "acquired", "Sam")
    history = crm_cli("perception", "history", "ann@acme.example", "--json").json()
    assert [(h["segment"], h["source"]) for h in history] == [("skeptic", "visit"), ("acquired", "animator")]
    summary = crm_cli("perception", "summary", "--json").json()
    assert summary["segments"]["acquired"] == 1 and summary["total"] == 1
    past = crm_cli("perception", "summary", "--as-of", "2026-01-15", "--json").json()
    assert past["segments"]["skeptic"] == 1
    assert past["movements"]["flows"] == [{"from": "no_opinion", "to": "skeptic", "count": 1}]


@pytest.mark.slow
def test_perception_errors_change_nothing(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    fails(crm_cli("perception", "set", "ann@acme.example", "--credibility", "bof", "--interest", "high", ok=False), "credibility")
    fails(crm_cli("perception", "set", "ann@acme.example", "--credibility", "high", "--interest", "high",
                  "--source", "rumour", ok=False), "source")
    fails(crm_cli("perception", "set", "ghost@example.org", "--credibility", "high", "--interest", "high", ok=False), "ghost")
    fails(crm_cli("perception", "set", "1", "--credibility", "high", "--interest", "high", "--at", "2999-01-01 10:00",
                  ok=False), "future")
    assert crm_cli("perception", "history", "1", "--json").json() == []


# ---- consent ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_consent_give_withdraw_show(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    given = crm_cli("consent", "give", "ann@acme.example", "--topic", "newsletter,événements", "--source", "form",
                    "--proof", "form #12 confirmed", "--json").json()
    assert [(e["topic"], e["action"]) for e in given["events"]] == [("newsletter", "opt_in"), ("events", "opt_in")]
    withdrawn = crm_cli("consent", "withdraw", "1", "--topic", "events", "--by", "Sam", "--json").json()
    assert withdrawn["current"]["newsletter"] is True and withdrawn["current"]["events"] is False
    shown = crm_cli("consent", "show", "ann@acme.example", "--json").json()
    assert shown["current"] == {"newsletter": True, "events": False, "press": False, "calls": False, "surveys": False}
    assert [(e["topic"], e["action"], e["source"]) for e in shown["log"]] == [
        ("newsletter", "opt_in", "form"), ("events", "opt_in", "form"), ("events", "opt_out", "animator"),
    ]
    assert crm_cli("contacts", "show", "1", "--json").json()["consent"]["newsletter"] is True


@pytest.mark.slow
def test_consent_errors_change_nothing(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "ann@acme.example")
    fails(crm_cli("consent", "give", "1", "--topic", "newsletter,spam", ok=False), "topic", "spam")
    fails(crm_cli("consent", "give", "1", "--topic", "newsletter", "--source", "rumour", ok=False), "source")
    fails(crm_cli("consent", "withdraw", "ghost@example.org", "--topic", "newsletter", ok=False), "ghost")
    assert crm_cli("consent", "show", "1", "--json").json()["log"] == []


# ---- both databases --------------------------------------------------------------------------------


@pytest.mark.slow
def test_record_keeping_on_each_backend(crm_cli_db: Any) -> None:
    crm_cli_db("orgs", "add", "École Centrale", "--kind", "université")
    crm_cli_db("contacts", "add", "--email", "Emile@exemple.fr", "--org", "École Centrale")
    event = crm_cli_db("events", "add", "--kind", "company_visit", "--title", "Visite", "--start", "2026-10-25 10:00",
                       "--end", "2026-10-25 12:00", "--json").json()
    assert event["starts_at"] == "2026-10-25T09:00:00+00:00"  # CET again after the night of 24-25 October
    logged = crm_cli_db("interactions", "log", "--kind", "visit", "--when", "2026-10-25 10:00", "--contact", "1",
                        "--contact", "Emile@exemple.fr", "--event", str(event["id"]), "--json").json()
    assert logged["contacts"] == ["Emile@exemple.fr"] and logged["organisation"] == "École Centrale"
    crm_cli_db("perception", "set", "1", "--credibility", "high", "--interest", "low")
    crm_cli_db("consent", "give", "1", "--topic", "newsletter")
    shown = crm_cli_db("orgs", "show", "École Centrale", "--json").json()
    assert shown["contact_count"] == 1 and shown["kind"] == "university"
    contact = crm_cli_db("contacts", "show", "1", "--json").json()
    assert (contact["perception"], contact["consent"]["newsletter"]) == ("indifferent", True)


@pytest.mark.slow
def test_errors_write_nothing_on_each_backend(crm_cli_db: Any) -> None:
    crm_cli_db("orgs", "add", "École Centrale")
    fails(crm_cli_db("orgs", "add", "École Centrale", ok=False), "already exists")
    fails(crm_cli_db("contacts", "add", "--email", "ann@acme.example", "--field", "x", ok=False), "--field")
    fails(crm_cli_db("events", "add", "--kind", "workshop", "--title", "A", "--start", "2026-06-18 18:30",
                     "--end", "2026-06-18 17:30", ok=False), "end")
    fails(crm_cli_db("interactions", "log", "--kind", "visit", "--contact", "ghost@example.org", ok=False), "ghost")
    assert len(crm_cli_db("orgs", "list", "--json").json()) == 1
    assert crm_cli_db("events", "list", "--json").json() == []
    assert crm_cli_db("interactions", "list", "--json").json() == []


def test_org_references_follow_one_rule_everywhere(crm_cli: Any) -> None:
    """'#5' is the organisation with id 5 in every command; '5' is a name (issue 7)."""
    lab = crm_cli("orgs", "add", "Lab One", "--json").json()
    ref = f"#{lab['id']}"
    added = crm_cli("contacts", "add", "--email", "ann@lab.example", "--org", ref, "--json").json()
    assert added["organisation"] == "Lab One"
    fails(crm_cli("contacts", "add", "--email", "bob@lab.example", "--org", str(lab["id"]), ok=False), "--org", f"'#{lab['id']}'")
    fails(crm_cli("contacts", "add", "--email", "bob@lab.example", "--org", "#99", ok=False), "no organisation #99")
    assert [c["email"] for c in crm_cli("contacts", "list", "--org", ref, "--json").json()] == ["ann@lab.example"]
    assert crm_cli("orgs", "show", ref, "--json").json()["name"] == "Lab One"
    fails(crm_cli("orgs", "show", str(lab["id"]), ok=False), "no organisation named", f"'#{lab['id']}'")
    fails(crm_cli("contacts", "list", "--org", str(lab["id"]), ok=False), "no organisation named")
    assert [o["name"] for o in crm_cli("orgs", "list", "--json").json()] == ["Lab One"]  # no organisation "1"
    assert "#ID" in crm_cli("contacts", "add", "--help").out


def test_contacts_add_refuses_control_characters_and_unicode_local_parts(crm_cli: Any) -> None:
    fails(crm_cli("contacts", "add", "--email", "a@example.org", "--last-name", "Evil\r\nBcc: x@evil.example", ok=False),
          "--last-name", "line break")
    fails(crm_cli("contacts", "add", "--email", "zoé@example.org", ok=False), "--email", "ASCII")
    fails(crm_cli("contacts", "add", "--email", "a@example.org", "--org", "ACME\nLyon", ok=False), "--org", "line break")
    added = crm_cli("contacts", "add", "--email", "b@example.org", "--city", "Be\u0301ziers", "--json").json()
    assert added["city"] == "Béziers"
    assert [c["email"] for c in crm_cli("contacts", "list", "--json").json()] == ["b@example.org"]
