"""`crm segments preview|create|list` through the real `crm` entry point."""

from __future__ import annotations

import pytest

from tests.support.cli import CrmResult, CrmRunner

pytestmark = pytest.mark.cli


def fails(result: CrmResult, *words: str) -> None:
    """Non-zero exit, exactly one line on stderr, naming what was wrong."""
    assert result.code != 0, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for word in words:
        assert word in lines[0], lines[0]


def _contacts(crm: CrmRunner) -> None:
    crm("contacts", "add", "--email", "ann@acme.example", "--first-name", "Ann", "--language", "français",
        "--target", "entreprise membre", "--membership", "member", "--tag", "agrifood")
    crm("contacts", "add", "--email", "bob@lab.example", "--language", "en", "--target", "research", "--tag", "agrifood")
    crm("contacts", "add", "--email", "cid@acme.example", "--language", "fr", "--target", "partner")


def test_preview_create_and_list(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    shown = crm_cli("segments", "preview", "language = fr and tag = agrifood", "--json").json()
    assert shown == {"count": 1, "rule": "language = fr and tag = agrifood", "sample": [
        {"id": 1, "email": "ann@acme.example", "name": "Ann", "language": "fr", "target": "member_company"}]}
    # the words make one rule; values are normalised (quoted when they hold spaces)
    loose = crm_cli("segments", "preview", "target", "in", "('entreprise membre',", "partenaire)", "--sample", "1",
                    "--json").json()
    assert (loose["count"], loose["rule"], [p["id"] for p in loose["sample"]]) == (
        2, "target in (member_company, partner)", [1])
    assert crm_cli("segments", "preview", "internal", "--json").json()["count"] == 2  # a built-in name
    assert "2 contacts: internal" in crm_cli("segments", "preview", "internal").out

    made = crm_cli("segments", "create", "Acme people", "email_domain = ACME.example", "--description",
                   "our friends at Acme", "--json").json()
    assert {k: made[k] for k in ("name", "kind", "rule", "description", "count")} == {
        "name": "acme_people", "kind": "saved", "rule": "email_domain = acme.example",
        "description": "our friends at Acme", "count": 2}
    assert [p["email"] for p in crm_cli("segments", "preview", "acme_people", "--json").json()["sample"]] == [
        "ann@acme.example", "cid@acme.example"]

    listed = crm_cli("segments", "list", "--json").json()
    assert listed[0]["name"] == "acme_people" and "count" not in listed[0]
    assert {"skeptics", "newsletter_subscribers", "everyone", "member_company"} <= {r["name"] for r in listed}
    counted = {r["name"]: r["count"] for r in crm_cli("segments", "list", "--count", "--json").json()}
    assert (counted["acme_people"], counted["everyone"], counted["research"], counted["no_opinion"]) == (2, 3, 1, 3)
    assert "acme_people" in crm_cli("segments", "list").out


def test_errors_are_one_line_and_change_nothing(crm_cli: CrmRunner) -> None:
    fails(crm_cli("segments", "preview", "langage = fr", ok=False),
          "crm: rule:1: unknown field or function 'langage' (did you mean language?); allowed: all, city, consent()")
    fails(crm_cli("segments", "preview", "target = martians", ok=False), "rule:10: unknown target group 'martians'",
          "member_company")
    fails(crm_cli("segments", "preview", "skeptix", ok=False), "'skeptix' is neither a segment nor a rule",
          "did you mean skeptics?")
    fails(crm_cli("segments", "preview", "--json", ok=False), "Missing argument 'RULE...'")
    crm_cli("segments", "create", "francophones", "language = fr")
    fails(crm_cli("segments", "create", "Francophones", "language = en", ok=False), "already exists")
    fails(crm_cli("segments", "create", "skeptics", "all", ok=False), "built-in segment")
    fails(crm_cli("segments", "create", "broken", "consent(spam)", ok=False), "rule:9: unknown consent topic 'spam'")
    saved = [r for r in crm_cli("segments", "list", "--json").json() if r["kind"] == "saved"]
    assert [(r["name"], r["rule"]) for r in saved] == [("francophones", "language = fr")]


@pytest.mark.slow
def test_segments_on_each_database(crm_cli_db: CrmRunner) -> None:
    _contacts(crm_cli_db)
    crm_cli_db("consent", "give", "ann@acme.example", "--topic", "newsletter")
    crm_cli_db("consent", "give", "cid@acme.example", "--topic", "newsletter")
    crm_cli_db("consent", "withdraw", "cid@acme.example", "--topic", "newsletter")
    crm_cli_db("perception", "set", "ann@acme.example", "--credibility", "low", "--interest", "high")
    crm_cli_db("interactions", "log", "--kind", "visit", "--contact", "bob@lab.example")
    rule = "(skeptics or research) and not interaction(kind=visit, within=180d)"
    assert crm_cli_db("segments", "preview", "skeptics", "--json").json()["count"] == 1
    assert crm_cli_db("segments", "preview", "newsletter_subscribers", "--json").json()["count"] == 1
    fails(crm_cli_db("segments", "preview", rule, ok=False), "rule:2: unknown field or function 'skeptics'")
    rule = "(perception = skeptic or target = research) and not interaction(kind=visit, within=180d)"
    assert [p["email"] for p in crm_cli_db("segments", "preview", rule, "--json").json()["sample"]] == ["ann@acme.example"]
    crm_cli_db("segments", "create", "to_visit", rule, "--json")
    counted = {r["name"]: r["count"] for r in crm_cli_db("segments", "list", "--count", "--json").json()}
    assert (counted["to_visit"], counted["skeptics"], counted["no_opinion"], counted["external"]) == (1, 1, 2, 1)


def test_a_rule_too_large_is_refused_and_never_saved(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    cities = "city in (" + ", ".join(f"c{i}" for i in range(1500)) + ")"
    fails(crm_cli("segments", "create", "big", cities, ok=False), f"crm: rule:{cities.index('c500') + 1}: ",
          "more than 500 values in one in (…) list")
    ands = " and ".join(f"city = c{i}" for i in range(500))
    fails(crm_cli("segments", "create", "big", ands, ok=False), f"rule:{ands.index('city = c100') + 1}: ",
          "more than 100 conditions")
    assert crm_cli("segments", "create", "big", ands, ok=False).code == 65
    assert [r["name"] for r in crm_cli("segments", "list", "--json").json() if r["kind"] == "saved"] == []
    assert {r["name"]: r["count"] for r in crm_cli("segments", "list", "--count", "--json").json()}["everyone"] == 3
    largest = "city in (" + ", ".join(["Lyon", *(f"c{i}" for i in range(499))]) + ")"
    assert crm_cli("segments", "create", "largest", largest, "--json").json()["count"] == 0


def test_a_bad_stored_segment_shows_its_error_and_can_be_deleted(crm_cli: CrmRunner) -> None:
    import sqlite3

    _contacts(crm_cli)
    crm_cli("segments", "create", "francophones", "language = fr")
    with sqlite3.connect(crm_cli.cwd / "crm.db") as db:  # as an older version could have stored them
        db.execute("INSERT INTO segments (name, rule, created_at) VALUES (?, ?, ?)",
                   ("huge", "city in (" + ", ".join(f"c{i}" for i in range(1500)) + ")", "2026-01-01 00:00:00"))
        db.execute("INSERT INTO segments (name, rule, created_at) VALUES ('old', 'langage = fr', '2026-01-01 00:00:00')")
    listed = crm_cli("segments", "list", "--count", "--json")
    rows = {r["name"]: r for r in listed.json()}
    assert rows["francophones"]["count"] == 2 and rows["everyone"]["count"] == 3
    assert rows["huge"]["count"] is None and "more than 500 values" in rows["huge"]["error"]
    assert rows["old"]["error"].startswith("rule:1: unknown field or function 'langage'")
    shown = crm_cli("segments", "list", "--count")
    assert "error: rule:1: unknown field" in shown.out
    assert shown.err.strip() == ("crm: 2 segment(s) could not be counted: huge, old "
                                 "(fix or delete them: crm segments delete NAME)")
    assert crm_cli("segments", "delete", "huge").out.startswith("segment huge deleted: city in (c0, c1")
    assert crm_cli("segments", "delete", "Old", "--json").json()["name"] == "old"
    assert "error" not in crm_cli("segments", "list", "--count").out


def test_delete(crm_cli: CrmRunner) -> None:
    _contacts(crm_cli)
    crm_cli("segments", "create", "acme", "email_domain = acme.example")
    fails(crm_cli("segments", "delete", "skeptics", ok=False), "crm: 'skeptics' is a built-in segment: it cannot be deleted")
    missing = crm_cli("segments", "delete", "nobody", ok=False)
    fails(missing, "no saved segment 'nobody'")
    assert missing.code == 66
    (crm_cli.cwd / "news.md").write_text("Bonjour", encoding="utf-8")
    made = crm_cli("campaigns", "create", "--kind", "newsletter", "--segment", "acme", "--subject", "fr=Hi",
                   "--content", "fr=news.md", "--json").json()
    used = crm_cli("segments", "delete", "acme", ok=False)
    fails(used, f"segment 'acme' is used by campaign #{made['id']} (draft): cancel it first")
    assert used.code == 65
    crm_cli("campaigns", "cancel", str(made["id"]))
    assert crm_cli("segments", "delete", "acme", "--json").json()["rule"] == "email_domain = acme.example"
    assert [r for r in crm_cli("segments", "list", "--json").json() if r["kind"] == "saved"] == []
    fails(crm_cli("segments", "delete", "acme", ok=False), "no saved segment 'acme'")
