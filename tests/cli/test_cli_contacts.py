"""`crm contacts import|export|add|edit|show` through the installed entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import CrmRunner

FILE = (
    "Nom;Prénom;Courriel;Société;Catégorie;Langue;Couleur\r\n"
    "Lefèvre;Hélène;helene@example.org;Agri-Réseau;entreprise membre;fr;bleu\r\n"
    "\r\n"
    "Benali;Karim;karim@;Université d'Angers;université;ar;\r\n"
    "LEFÈVRE;Hélène;HELENE@example.org;Agri-Réseau;entreprise membre;fr;vert\r\n"
)


def test_import_dry_run_then_real_then_export_round_trip(crm_cli: CrmRunner) -> None:
    path = crm_cli.cwd / "adherents.csv"
    path.write_bytes(FILE.encode("cp1252"))
    dry = crm_cli("contacts", "import", "adherents.csv", "--dry-run", "--json").json()
    assert (dry["created"], dry["updated"], dry["skipped"]) == (1, 1, 0)
    assert dry["rejected"] == [{"line": 4, "reason": "Courriel: invalid email address 'karim@': There must be something after the @-sign."}]
    assert crm_cli("contacts", "list", "--json").json() == []

    real = crm_cli("contacts", "import", "adherents.csv", "--json", "--consent", "newsletter").json()
    assert {k: real[k] for k in ("created", "updated", "skipped", "rejected")} == {k: dry[k] for k in ("created", "updated", "skipped", "rejected")}
    shown = crm_cli("contacts", "show", "helene@example.org", "--json").json()
    assert shown["last_name"] == "LEFÈVRE" and shown["custom"] == {"Couleur": "vert"}
    assert shown["consent"]["newsletter"] is True and shown["target"] == "member_company"

    crm_cli("contacts", "export", "out.csv")
    again = crm_cli("contacts", "import", "out.csv", "--json").json()
    assert (again["created"], again["updated"], again["skipped"], again["rejected"]) == (0, 0, 1, [])


def test_errors_are_one_line_and_change_nothing(crm_cli: CrmRunner) -> None:
    (crm_cli.cwd / "bad.csv").write_text("Nom;Prénom\nA;B\n", encoding="utf-8")
    result = crm_cli("contacts", "import", "bad.csv", ok=False)
    assert result.code != 0 and result.err.strip().count("\n") == 0
    assert "bad.csv:1: no email column" in result.err
    (crm_cli.cwd / "strict.csv").write_text("email\nok@example.org\nnope\n", encoding="utf-8")
    result = crm_cli("contacts", "import", "strict.csv", "--strict", ok=False)
    assert result.code != 0 and "strict.csv:3" in result.err and result.err.strip().count("\n") == 0
    result = crm_cli("contacts", "add", "--email", "x@example.org", "--target", "martian", ok=False)
    assert result.code != 0 and "target: unknown target group 'martian'" in result.err
    assert crm_cli("contacts", "list", "--json").json() == []


@pytest.mark.slow
def test_add_edit_show_on_each_database(crm_cli_db: CrmRunner) -> None:
    added = crm_cli_db("contacts", "add", "--email", "Anne@Example.org", "--first-name", "Anne", "--target",
                       "partenaire", "--org", "Agri-Réseau", "--tag", "agrifood, eau", "--json").json()
    assert added["email"] == "Anne@example.org" and added["tags"] == ["agrifood", "eau"]
    dup = crm_cli_db("contacts", "add", "--email", "anne@EXAMPLE.org", ok=False)
    assert dup.code != 0 and "already contact" in dup.err
    edited = crm_cli_db("contacts", "edit", "anne@example.org", "--language", "anglais", "--remove-tag", "eau", "--json").json()
    assert edited["language"] == "en" and edited["tags"] == ["agrifood"]
    exported = crm_cli_db("contacts", "export").out
    assert exported.splitlines()[0].startswith("first_name,last_name,email")
    assert "Anne@example.org" in exported


def test_export_is_formula_safe(crm_cli: CrmRunner, tmp_path: Path) -> None:
    crm_cli("contacts", "add", "--email", "f@example.org", "--last-name", "=cmd|' /C calc'!A0", "--phone", "+33 1 23 45 67 89")
    out = crm_cli("contacts", "export", "--delimiter", ";").out
    row = out.splitlines()[1]
    assert "'=cmd|' /C calc'!A0" in row and "'+33 1 23 45 67 89" in row
