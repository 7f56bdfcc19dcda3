"""The error contract through the installed `crm`: each failure a person can cause is one
line on stderr with its documented exit code (README), never a traceback, and changes
nothing in the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crm.errors import Kind
from crm.failures import translate
from tests.support.cli import CrmRunner
from tests.support.smtp_server import SMTPServer
from tests.support.snapshots import copy_sqlite, snapshot

pytestmark = pytest.mark.cli

SECRET = {"CRM_SECRET_KEY": "k" * 40, "CRM_BASE_URL": "https://crm.agri-cluster.fr"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with two contacts (one opted in) and a draft newsletter #1."""
    folder = tmp_path_factory.mktemp("base")
    crm = CrmRunner(folder)
    (folder / "people.csv").write_text("email;prénom;langue\nhelene@example.org;Hélène;fr\nx@example.org;X;en\n",
                                       encoding="utf-8")
    crm("contacts", "import", "people.csv", "--consent", "newsletter")
    (folder / "news.md").write_text("Bonjour {{ contact.first_name }}", encoding="utf-8")
    created = crm("campaigns", "create", "--kind", "newsletter", "--segment", "newsletter_subscribers",
                  "--subject", "fr=Lettre", "--content", "fr=news.md", "--json").json()
    assert created["id"] == 1
    return folder


@pytest.fixture
def crm(base: Path, tmp_path: Path) -> CrmRunner:
    copy_sqlite(base, tmp_path)
    (tmp_path / "news.md").write_text("Bonjour", encoding="utf-8")
    (tmp_path / "not-a-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    return CrmRunner(tmp_path)


CASES = [
    # (id, environment, arguments, exit code, words the line must hold)
    ("setting not a number", {"CRM_DELIVERY_BATCH_SIZE": "abc"}, ["contacts", "list"], 78,
     ["CRM_DELIVERY_BATCH_SIZE", "integer"]),
    ("setting out of range", {"CRM_DELIVERY_BATCH_SIZE": "0"}, ["campaigns", "send", "1"], 78,
     ["CRM_DELIVERY_BATCH_SIZE", "greater than or equal to 1"]),
    ("rate setting nan", {"CRM_RATE_LIMIT": "nan"}, ["campaigns", "send", "1"], 78, ["CRM_RATE_LIMIT"]),
    ("broker url garbage", {"CRM_BROKER_URL": "garbage"}, ["campaigns", "send", "1"], 78,
     ["CRM_BROKER_URL", "redis://"]),
    ("smtp url bad scheme", {"CRM_SMTP_URL": "ftp://mail.example.org"},
     ["campaigns", "test-send", "1", "--to", "a@b.example"], 78, ["CRM_SMTP_URL", "smtp://"]),
    ("smtp url bad port", {"CRM_SMTP_URL": "smtp://127.0.0.1:99999"},
     ["campaigns", "test-send", "1", "--to", "a@b.example"], 78, ["CRM_SMTP_URL", "port"]),
    ("smtp unreachable", {"CRM_SMTP_URL": "smtp://127.0.0.1:1", **SECRET},
     ["campaigns", "test-send", "1", "--to", "a@b.example"], 69, ["127.0.0.1:1"]),
    ("mysql", {"CRM_DATABASE_URL": "mysql://u@localhost/crm"}, ["contacts", "list"], 78,
     ["CRM_DATABASE_URL", "postgresql+psycopg://"]),
    ("database unreachable", {"CRM_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test"},
     ["contacts", "list"], 69, ["cannot reach the database", "CRM_DATABASE_URL"]),
    ("sqlite folder missing", {"CRM_DATABASE_URL": "sqlite:////nonexistent-folder/crm.db"},
     ["contacts", "list"], 78, ["CRM_DATABASE_URL"]),
    ("time zone", {"CRM_TIMEZONE": "Mars/Olympus"}, ["events", "list"], 78, ["CRM_TIMEZONE", "IANA"]),
    ("dkim key not a key", {"CRM_DKIM_KEY_FILE": "not-a-key.pem", "CRM_DKIM_SELECTOR": "s1"},
     ["campaigns", "test-send", "1", "--to", "a@b.example"], 78, ["CRM_DKIM_KEY_FILE", "openssl genrsa"]),
    ("dkim key missing", {"CRM_DKIM_KEY_FILE": "missing.pem", "CRM_DKIM_SELECTOR": "s1"}, ["contacts", "list"], 78,
     ["CRM_DKIM_KEY_FILE"]),
    ("outbox is a file", {"CRM_OUTBOX_DIR": "a-file"}, ["campaigns", "test-send", "1", "--to", "a@b.example"], 78,
     ["CRM_OUTBOX_DIR"]),
    ("unknown command", {}, ["contacts", "frobnicate"], 64, ["frobnicate", "--help"]),
    ("blank --from", {}, ["campaigns", "create", "--kind", "newsletter", "--segment", "everyone", "--subject", "fr=Hi",
                          "--content", "fr=news.md", "--from", ""], 64, ["--from is empty"]),
    ("blank --language", {}, ["campaigns", "create", "--kind", "newsletter", "--segment", "everyone", "--subject",
                              "fr=Hi", "--content", "fr=news.md", "--language", " "], 64, ["--language is empty"]),
    ("unknown option", {}, ["contacts", "list", "--colour"], 64, ["--colour"]),
    ("option not a number", {}, ["campaigns", "status", "abc"], 64, ["abc"]),
    ("no such file", {}, ["contacts", "import", "missing.csv"], 66, ["missing.csv"]),
    ("a folder as file", {}, ["contacts", "import", "."], 66, []),
    ("no such contact", {}, ["contacts", "show", "nobody@example.org"], 66, ["nobody@example.org"]),
    ("no such campaign", {}, ["campaigns", "status", "999"], 66, ["999"]),
    ("bad rule", {}, ["segments", "preview", "langage = fr"], 65, ["langage"]),
    ("bad address", {}, ["contacts", "add", "--email", "not-an-address"], 65, ["email"]),
]


@pytest.mark.parametrize(("env", "args", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_failure_is_one_line_with_its_code(crm: CrmRunner, env: dict[str, str], args: list[str], code: int,
                                                words: list[str]) -> None:
    url = f"sqlite:///{crm.cwd / 'crm.db'}"
    before = snapshot(url)
    crm.env.update(env)
    result = crm(*args, ok=False, timeout=60)
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err + result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crm: "), result.err
    for word in words:
        assert word in lines[0], lines[0]
    assert snapshot(url) == before


def test_debug_shows_the_traceback(crm: CrmRunner) -> None:
    crm.env["CRM_BROKER_URL"] = "garbage"
    plain = crm("campaigns", "send", "1", ok=False)
    debug = crm("--debug", "campaigns", "send", "1", ok=False)
    crm.env["CRM_DEBUG"] = "1"
    by_env = crm("campaigns", "send", "1", ok=False)
    assert plain.code == debug.code == by_env.code == 78
    assert "Traceback" not in plain.err
    assert "Traceback" in debug.err and "Traceback" in by_env.err
    assert debug.err.strip().splitlines()[-1] == plain.err.strip()


def test_a_password_in_a_bad_url_is_never_printed(crm: CrmRunner) -> None:
    crm.env["CRM_DATABASE_URL"] = "postgresql+psycopg2://animator:s3cr3t@db.example.org/crm"
    result = crm("contacts", "list", ok=False)
    assert result.code == 78 and "s3cr3t" not in result.err and "***" in result.err


def test_a_busy_database_is_a_temporary_failure(tmp_path: Path) -> None:
    """A real lock held by another connection: 75, "run it again"."""
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path)
    holder.execute("create table t (x)")
    holder.execute("begin exclusive")
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text("insert into t values (1)"))
    engine.dispose()
    holder.rollback()
    holder.close()
    known = translate(caught.value)
    assert known is not None and known.kind is Kind.TEMPORARY and "again" in str(known)


def test_smtp_server_answering_is_not_unavailable(crm: CrmRunner) -> None:
    """The counterpart of 'smtp unreachable': with the server up, the same command works."""
    with SMTPServer() as server:
        crm.env.update({"CRM_SMTP_URL": server.url, **SECRET})
        result = crm("campaigns", "test-send", "1", "--to", "a@b.example")
    assert result.code == 0


def test_a_database_that_is_not_ours_is_refused_untouched(tmp_path: Path, fresh_url: str) -> None:
    """Tables of another application, a file that is no database, a schema from a newer
    release: 78 naming CRM_DATABASE_URL, and nothing created or changed."""
    from sqlalchemy import create_engine, text

    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE contacts (x integer)"))
    engine.dispose()
    before = snapshot(fresh_url)
    crm = CrmRunner(tmp_path, fresh_url)
    result = crm("init", ok=False)
    assert result.code == 78 and "not Cluster CRM's (contacts)" in result.err and "Traceback" not in result.err
    assert snapshot(fresh_url) == before

    (tmp_path / "notes.db").write_text("hello", encoding="utf-8")
    crm.env["CRM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'notes.db'}"
    result = crm("contacts", "list", ok=False)
    assert result.code == 78 and "not a SQLite database" in result.err
    assert (tmp_path / "notes.db").read_text(encoding="utf-8") == "hello"


def test_a_schema_from_a_newer_release_is_refused(crm: CrmRunner) -> None:
    url = f"sqlite:///{crm.cwd / 'crm.db'}"
    with sqlite3.connect(crm.cwd / "crm.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = snapshot(url)
    result = crm("contacts", "list", ok=False)
    assert result.code == 78 and "'9999_future'" in result.err and "upgrade crm" in result.err
    assert snapshot(url) == before


def test_names_that_look_like_markup_are_printed_as_they_are(crm: CrmRunner) -> None:
    """rich reads "[/b]" as markup: an unbalanced tag in a name made every listing fail."""
    crm("orgs", "add", "[/b] Les Jardins [bold]")
    crm("contacts", "add", "--email", "m@example.org", "--first-name", "[red]Anne[/]", "--org", "[/b] Les Jardins [bold]")
    listed = crm("orgs", "list")
    assert "[/b] Les Jardins [bold]" in listed.out
    shown = crm("contacts", "show", "m@example.org")
    assert "[red]Anne[/]" in shown.out


@pytest.mark.parametrize(("typed", "sent"), [("\\t", "\t"), ("tab", "\t"), (";", ";"), ("|", "|")])
def test_a_delimiter_typed_as_an_escape_or_a_word(crm: CrmRunner, typed: str, sent: str) -> None:
    crm("contacts", "export", "out.csv", "--delimiter", typed)
    header = (crm.cwd / "out.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith(f"first_name{sent}last_name{sent}email")
    crm("contacts", "import", "out.csv", "--delimiter", typed)


@pytest.mark.parametrize("typed", ["ab", '"', "x", ""])
def test_a_delimiter_that_cannot_be_is_a_usage_error(crm: CrmRunner, typed: str) -> None:
    for args in (["contacts", "export", "out.csv"], ["contacts", "import", "news.md"]):
        result = crm(*args, "--delimiter", typed, ok=False)
        assert result.code == 64 and "--delimiter" in result.err and "Traceback" not in result.err, result.err
    assert not (crm.cwd / "out.csv").exists()


def test_a_device_or_a_pipe_is_not_read_forever(crm: CrmRunner) -> None:
    """/dev/zero used to be read until the kernel killed crm."""
    result = crm("contacts", "import", "/dev/zero", ok=False, timeout=30)
    assert result.code == 65 and "not a regular file" in result.err


def test_a_failed_export_leaves_the_earlier_file_whole(crm: CrmRunner) -> None:
    crm("contacts", "export", "out.csv")
    earlier = (crm.cwd / "out.csv").read_bytes()
    crm.env["CRM_DATABASE_URL"] = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    failed = crm("contacts", "export", "out.csv", ok=False)
    assert failed.code == 69
    assert (crm.cwd / "out.csv").read_bytes() == earlier
    assert sorted(p.name for p in crm.cwd.iterdir() if "out" in p.name) == ["out.csv"]
    missing = crm("contacts", "export", "no-folder/out.csv", ok=False)
    assert missing.code == 66 and "no-folder does not exist" in missing.err


def test_a_reader_that_stops_reading_ends_crm_quietly(crm: CrmRunner) -> None:
    """`crm contacts export | head -1`: stopped by SIGPIPE (the shell says 141), not exit 1."""
    import signal
    import subprocess

    rows = "".join(f"p{i}@example.org;P{i}\n" for i in range(3000))
    (crm.cwd / "many.csv").write_text("email;prénom\n" + rows, encoding="utf-8")
    crm("contacts", "import", "many.csv")
    proc = subprocess.Popen([crm.exe, "contacts", "export"], cwd=crm.cwd, env=crm.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == -signal.SIGPIPE, err
    assert err == ""
