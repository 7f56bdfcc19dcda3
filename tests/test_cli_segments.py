"""`crm segments preview|create|list` through the real `crm` entry point."""

from __future__ import annotations

import pytest

from tests.conftest import CrmResult, CrmRunner

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
