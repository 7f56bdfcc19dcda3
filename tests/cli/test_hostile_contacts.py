"""Hostile trial of `crm contacts export`, `crm demo` and the import's encodings: the files,
targets and folders people really have, through the installed `crm`."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.cli


def _demo_folder(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "anne@example.org", "--first-name", "Anne", "--field", "Effectif=12")
    crm_cli("contacts", "add", "--email", "bruno@example.org", "--last-name", "Brun", "--tag", "agrifood")


def test_export_into_a_fifo_writes_through_it_and_leaves_it_a_fifo(crm_cli: Any, tmp_path: Path) -> None:
    """Renaming over a device or a FIFO replaced it by a plain file (it did so to /dev/stdout)."""
    _demo_folder(crm_cli)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    result = crm_cli("contacts", "export", str(fifo), timeout=30)
    received = reader.communicate(timeout=30)[0].decode("utf-8-sig")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced by a file"
    assert "2 contacts written" in result.err
    assert received.splitlines()[0].startswith("first_name,") and "anne@example.org" in received
    assert not list(tmp_path.glob(".*.part"))


def test_export_through_a_symbolic_link_replaces_the_file_and_keeps_link_and_mode(crm_cli: Any, tmp_path: Path) -> None:
    _demo_folder(crm_cli)
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real.name)
    crm_cli("contacts", "export", str(link))
    assert link.is_symlink() and os.readlink(link) == real.name
    assert "bruno@example.org" in real.read_text(encoding="utf-8-sig")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("contacts", "export"), ("contacts", "list", "--json"), ("contacts", "show", "1")])
def test_a_full_disk_is_told_as_temporary_not_a_bug(crm_cli: Any, tmp_path: Path, args: tuple[str, ...]) -> None:
    _demo_folder(crm_cli)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([crm_cli.exe, *args], cwd=tmp_path, env=crm_cli.env, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 75, proc.stderr
    assert proc.stderr.count("\n") == 1 and "no space left" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_in_a_database_with_real_contacts_is_a_configuration_refusal(crm_cli: Any) -> None:
    crm_cli("contacts", "add", "--email", "real@example.org")
    result = crm_cli("demo", ok=False)
    assert result.code == 78, result.err
    assert result.err.startswith("crm: CRM_DATABASE_URL: ") and "unexpected" not in result.err


def test_list_search_takes_percent_and_underscore_literally(session: Any) -> None:
    from crm import contacts

    plain = contacts.add(session, {"email": "plain@example.org", "last_name": "Plain"})
    odd = contacts.add(session, {"email": "odd_one@example.org", "last_name": "100% Bio"})
    assert [c.id for c in contacts.list_page(session, search="%")] == [odd.id]
    assert [c.id for c in contacts.list_page(session, search="_")] == [odd.id]
    assert [c.id for c in contacts.list_page(session, search="PLAIN")] == [plain.id]


@pytest.mark.parametrize("limit, offset", [(0, 0), (10**20, 0), (10, -1), (10, 2**63)])
def test_list_page_bounds_are_refused_by_the_service(session: Any, limit: int, offset: int) -> None:
    from crm import contacts
    from crm.errors import ValidationError

    with pytest.raises(ValidationError):
        contacts.list_page(session, limit=limit, offset=offset)


@pytest.mark.parametrize("option", ["--limit", "--offset"])
def test_list_with_a_huge_page_is_a_usage_error(crm_cli: Any, option: str) -> None:
    _demo_folder(crm_cli)
    result = crm_cli("contacts", "list", option, "99999999999999999999", ok=False)
    assert result.code == 64 and "unexpected" not in result.err and result.err.count("\n") == 1


@pytest.mark.parametrize("text", [
    "Nom;Prénom;Courriel;Ville\rLefèvre;Hélène;helene@example.org;Nîmes\rGarçon;François;fr@example.org;Sète\r",
    "Nom;Prénom;Courriel\rJOSÉ;ANDRÉ;jose@example.org\r",
])
def test_a_mac_roman_file_is_read_as_mac_roman_not_garbled_as_1252(crm_cli: Any, tmp_path: Path, text: str) -> None:
    """Old Mac Excel: "Prénom" came in as "PrŽnom" (a custom field), "Hélène" as "HŽlne"."""
    (tmp_path / "mac.csv").write_bytes(text.encode("mac_roman"))
    result = crm_cli("contacts", "import", "mac.csv", "--json").json()
    assert result["encoding"] == "mac_roman" and result["new_custom_fields"] == [] and not result["rejected"]
    listed = crm_cli("contacts", "list", "--json").json()
    rows = [line.split(";") for line in text.split("\r")[1:] if line]
    assert [(c["last_name"], c["first_name"]) for c in listed] == [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize("text", [
    "Nom;Prénom;Société\nLefèvre;Hélène;L’eau vive — «bio»\nJOSÉ;ANDRÉ;Prix 5 €\n",
    "Name,City\nMüller,Köln\nØrsted,Århus\n",
])
def test_windows_1252_files_stay_windows_1252(text: str) -> None:
    from crm.csvfiles.reading import decode

    decoded = decode(text.encode("cp1252"), "x.csv")
    assert (decoded.encoding, decoded.text) == ("cp1252", text)
