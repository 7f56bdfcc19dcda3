"""The quieter commands (segments, interactions, consent, perception, orgs) driven as a hostile
user would, through the installed `crm`: one line, an exit code of the table, no traceback,
nothing written when the command fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import crm.models  # noqa: F401
from crm.db import Base, make_engine
from tests.support.cli import CrmRunner

pytestmark = pytest.mark.cli

HUGE = "99999999999999999999"
BIG = str(2**63)


def snapshot(url: str) -> str:
    """Every row of every table, as one digest."""
    engine = make_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                digest.update(f"{table.name}:{rows!r}".encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def _world(crm: CrmRunner) -> None:
    crm("contacts", "add", "--email", "ann@acme.example", "--city", "Angers")
    crm("orgs", "add", "Acme 100%")
    crm("orgs", "add", "Foo_Bar")
    crm("orgs", "add", "Foo Bar*")
    crm("segments", "create", "angevins", "city = angers")


REFUSED = [
    # ids at the extremes
    (["interactions", "log", "--kind", "visit", "--contact", HUGE], 66, "no contact"),
    (["interactions", "log", "--kind", "visit", "--contact", BIG], 66, "no contact"),
    (["interactions", "log", "--kind", "visit", "--contact", "0"], 66, "no contact"),
    (["interactions", "log", "--kind", "visit", "--contact", "-1"], 66, "no contact"),
    (["interactions", "log", "--kind", "visit", "--event", HUGE], 66, "no event"),
    (["interactions", "log", "--kind", "visit", "--event", "0"], 66, "no event"),
    (["interactions", "list", "--contact", HUGE], 66, "no contact"),
    (["interactions", "list", "--limit", HUGE], 64, "--limit"),
    (["consent", "give", HUGE, "--topic", "newsletter"], 66, "no contact"),
    (["consent", "withdraw", BIG, "--topic", "newsletter"], 66, "no contact"),
    (["consent", "show", HUGE], 66, "no contact"),
    (["perception", "set", HUGE, "--credibility", "high", "--interest", "high"], 66, "no contact"),
    (["perception", "history", HUGE], 66, "no contact"),
    (["orgs", "show", "#" + HUGE], 66, "no organisation"),
    (["orgs", "show", "#0"], 66, "no organisation"),
    (["segments", "preview", f"interaction(event={HUGE})"], 65, "event"),
    (["segments", "preview", "interaction(within=99999999999d)"], 65, "duration"),
    (["segments", "delete", HUGE], 66, "no saved segment"),
    (["segments", "create", "x" * 81, "all"], 65, "longer than 80"),
    # dates at the extremes
    (["interactions", "list", "--since", "0000-01-01"], 65, "since"),
    (["interactions", "list", "--since", "0001-01-01"], 65, "1900-01-01"),
    (["interactions", "list", "--until", "9999-12-31"], 65, "until"),
    (["interactions", "log", "--kind", "visit", "--when", "99999-01-01"], 65, "when"),
    (["interactions", "log", "--kind", "visit", "--when", "2026-02-30 10:00"], 65, "February 2026 has 28 days"),
    (["perception", "set", "ann@acme.example", "--credibility", "high", "--interest", "high", "--at", "9999-12-31"],
     65, "at"),
    (["perception", "summary", "--as-of", "0001-01-01"], 65, "as-of"),
    (["segments", "preview", "created(since=99999-01-01)"], 65, "date"),
    # text that cannot be stored
    (["interactions", "log", "--kind", "visit", "--subject", "a\x01b"], 65, "subject"),
    (["interactions", "log", "--kind", "visit", "--by", "x" * 121], 65, "by"),
    (["consent", "give", "ann@acme.example", "--topic", "newsletter", "--by", "y" * 121], 65, "by"),
    (["perception", "set", "ann@acme.example", "--credibility", "high", "--interest", "high", "--note", "a\x1bb"],
     65, "note"),
    (["segments", "preview", "city = \"\u202e\x07\""], 65, "rule"),
]


@pytest.mark.slow
def test_hostile_arguments_are_refused_in_one_line_and_change_nothing(crm_cli_db: CrmRunner) -> None:
    crm = crm_cli_db
    _world(crm)
    url = crm.env["CRM_DATABASE_URL"]
    before = snapshot(url)
    for args, code, word in REFUSED:
        result = crm(*args, ok=False)
        shown = " ".join(args)[:80]
        assert result.code == code, (shown, result.code, result.err)
        assert "Traceback" not in result.err, shown
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("crm: ") and word in lines[0], (shown, result.err)
        assert snapshot(url) == before, shown


def test_search_wildcards_match_literally(crm_cli: CrmRunner) -> None:
    _world(crm_cli)

    def names(search: str) -> list[str]:
        return sorted(o["name"] for o in crm_cli("orgs", "list", "--search", search, "--json").json())

    assert names("%") == ["Acme 100%"]
    assert names("_") == ["Foo_Bar"]
    assert names("*") == ["Foo Bar*"]
    assert names("o_b") == ["Foo_Bar"]
    assert names("foo") == ["Foo Bar*", "Foo_Bar"]
    assert names("\\") == []


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_NUMBER = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str),
                    st.sampled_from(["0", "-1", HUGE, BIG, "1e308", "nan", "inf", "٣", "#" + HUGE, "0x10"]))
_DATE = st.one_of(st.sampled_from(["0000-01-01", "0001-01-01", "9999-12-31", "2026-02-30", "2026-03-29 02:30",
                                   "2026-10-25 02:30", "24:00", "1e9", "99999-01-01"]), _TEXT)
_COMMANDS = st.one_of(
    st.tuples(st.just("interactions"), st.just("log"), st.just("--kind"), st.sampled_from(["visit", "zz"]),
              st.sampled_from(["--contact", "--event", "--org", "--when", "--subject", "--by"]),
              st.one_of(_NUMBER, _DATE, _TEXT)),
    st.tuples(st.just("interactions"), st.just("list"), st.sampled_from(["--contact", "--since", "--until", "--limit",
                                                                          "--kind"]), st.one_of(_NUMBER, _DATE)),
    st.tuples(st.just("consent"), st.sampled_from(["give", "withdraw"]), st.one_of(_NUMBER, _TEXT),
              st.just("--topic"), st.one_of(st.just("newsletter"), _TEXT)),
    st.tuples(st.just("perception"), st.sampled_from(["history"]), st.one_of(_NUMBER, _TEXT)),
    st.tuples(st.just("perception"), st.just("summary"), st.just("--as-of"), _DATE),
    st.tuples(st.just("orgs"), st.just("show"), st.one_of(_NUMBER, _TEXT)),
    st.tuples(st.just("segments"), st.just("preview"), st.one_of(
        _TEXT, _NUMBER.map(lambda n: f"interaction(event={n})"), _DATE.map(lambda d: f"created(since={d})"),
        _NUMBER.map(lambda n: f"interaction(within={n}d)"))),
    st.tuples(st.just("segments"), st.sampled_from(["create", "delete"]), _TEXT.filter(lambda t: not t.startswith("-"))),
)
_TABLE = {0, 64, 65, 66}


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=_COMMANDS)
def test_generated_hostile_arguments(crm_cli: CrmRunner, args: tuple[str, ...]) -> None:
    if not (crm_cli.cwd / "crm.db").exists():
        _world(crm_cli)
    url = f"sqlite:///{crm_cli.cwd / 'crm.db'}"
    before = snapshot(url)
    result = crm_cli(*args, ok=False, timeout=60)
    assert "Traceback" not in result.err, (args, result.err)
    assert result.code in _TABLE, (args, result.code, result.err)
    if result.code:
        assert len(result.err.strip().splitlines()) == 1, (args, result.err)
        assert snapshot(url) == before, args
