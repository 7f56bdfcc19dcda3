"""One rule for every local time a person types: clock changes, extreme dates, every command."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm import times
from crm.errors import ValidationError
from tests.support.cli import CrmRunner

UTC = timezone.utc
ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]


# ---- a time that does not exist (clocks go forward) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "message"),
    [
        ("2026-03-29 02:30", "Europe/Paris",
         "2026-03-29 02:30 does not exist in Europe/Paris: clocks go from 02:00 to 03:00 that night; use 03:30"),
        ("2027-03-28 02:00", "Europe/Paris",
         "2027-03-28 02:00 does not exist in Europe/Paris: clocks go from 02:00 to 03:00 that night; use 03:00"),
        ("2026-03-08 02:15", "America/New_York",
         "2026-03-08 02:15 does not exist in America/New_York: clocks go from 02:00 to 03:00 that night; use 03:15"),
        ("2026-10-04 02:10", "Australia/Lord_Howe",  # a 30-minute change
         "2026-10-04 02:10 does not exist in Australia/Lord_Howe: clocks go from 02:00 to 02:30 that night; use 02:40"),
        ("2026-09-06 00:30", "America/Santiago",  # midnight is skipped
         "2026-09-06 00:30 does not exist in America/Santiago: clocks go from 00:00 to 01:00 that night; use 01:30"),
        ("2026-03-29T02:30:00", "Europe/Paris",
         "2026-03-29 02:30 does not exist in Europe/Paris: clocks go from 02:00 to 03:00 that night; use 03:30"),
    ],
)
def test_a_skipped_local_time_is_refused_naming_the_change(text: str, tz: str, message: str) -> None:
    for parse in (times.parse, times.until):
        with pytest.raises(ValidationError) as caught:
            parse(text, tz, "start")
        assert (caught.value.where, caught.value.message) == ("start", message)


# ---- a time that happens twice (clocks go back): the first, and a note -------------------------


@pytest.mark.parametrize(
    ("text", "tz", "first", "note"),
    [
        ("2026-10-25 02:30", "Europe/Paris", datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
         "when: 2026-10-25 02:30 happens twice in Europe/Paris (clocks go back from 03:00 to 02:00 that night); "
         "taking the first, 02:30 CEST (00:30 UTC)"),
        ("2026-11-01 01:05", "America/New_York", datetime(2026, 11, 1, 5, 5, tzinfo=UTC),
         "when: 2026-11-01 01:05 happens twice in America/New_York (clocks go back from 02:00 to 01:00 that night); "
         "taking the first, 01:05 EDT (05:05 UTC)"),
        ("2026-04-05 01:45", "Australia/Lord_Howe", datetime(2026, 4, 4, 14, 45, tzinfo=UTC),
         "when: 2026-04-05 01:45 happens twice in Australia/Lord_Howe (clocks go back from 02:00 to 01:30 that "
         "night); taking the first, 01:45 +11 (14:45 UTC)"),
    ],
)
def test_an_ambiguous_local_time_is_the_first_and_says_so(
    text: str, tz: str, first: datetime, note: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert times.read(text, tz) == times.Reading(first, note)
    with caplog.at_level(logging.WARNING, logger="crm.times"):
        assert times.parse(text, tz) == first
    assert [r.getMessage() for r in caplog.records] == [f"crm: note: {note}"]


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2026-03-29 01:59", "Europe/Paris", datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # just before
        ("2026-03-29 03:00", "Europe/Paris", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # just after
        ("2026-10-25 01:59", "Europe/Paris", datetime(2026, 10, 24, 23, 59, tzinfo=UTC)),
        ("2026-10-25 03:00", "Europe/Paris", datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
        ("2026-10-04 02:30", "Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
        ("2026-09-06", "America/Santiago", datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),  # the day starts at 01:00
        ("2026-10-25", "Europe/Paris", datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
    ],
)
def test_times_around_the_changes(text: str, tz: str, expected: datetime) -> None:
    assert times.read(text, tz) == times.Reading(expected)


def test_until_a_day_with_a_clock_change() -> None:
    assert times.until("2026-10-24", "Europe/Paris") == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert times.until("2026-10-25", "Europe/Paris") == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # 25 hours
    assert times.until("2026-09-05", "America/Santiago") == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ZONES),
       st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
           lambda d: d.replace(second=0, microsecond=0)))
def test_every_local_time_is_refused_or_read_back_as_typed(tz: str, wall: datetime) -> None:
    text = wall.strftime("%Y-%m-%d %H:%M")
    place = ZoneInfo(tz)
    try:
        reading = times.read(text, tz)
    except ValidationError as exc:
        assert "does not exist" in exc.message
        # no instant of the zone shows that wall time
        assert all((wall.replace(tzinfo=place, fold=f).astimezone(UTC).astimezone(place).replace(tzinfo=None)
                    != wall) for f in (0, 1))
        return
    assert reading.value.tzinfo is UTC
    assert reading.value.astimezone(place).replace(tzinfo=None) == wall
    earlier = reading.value - timedelta(hours=3)
    twice = any(
        (earlier + timedelta(minutes=m)).astimezone(place).replace(tzinfo=None) == wall
        for m in range(0, 180)
    )  # another instant within 3 hours before shows the same wall time: it was ambiguous, we took the later
    assert not twice
    assert (reading.note is not None) == (
        (reading.value + timedelta(minutes=30)).astimezone(place).replace(tzinfo=None) == wall
        or (reading.value + timedelta(hours=1)).astimezone(place).replace(tzinfo=None) == wall
    )


# ---- extreme and impossible dates: ValidationError, never OverflowError -------------------------


@pytest.mark.parametrize("text", [
    "0001-01-01", "0001-01-01 00:00", "9999-12-31", "9999-12-31 23:59", "99999-01-01", "0000-01-01",
    "2026-02-30", "2026-13-01", "1899-12-31", "3000-01-01", "2026-03-29 24:00", "-1", "0",
    "99999999999999999999", "2026-01-01\x00", "2026-01-01 10:00" + " " * 100 + "x", "1e308", "nan",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
])
@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_extreme_dates_are_a_clean_validation_error(text: str, tz: str) -> None:
    for parse in (times.parse, times.until, times.read):
        with pytest.raises(ValidationError) as caught:
            parse(text, tz, "since")
        assert caught.value.where == "since"


def test_the_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match=r"'2026-02-30' \(February 2026 has 28 days\)"):
        times.parse("2026-02-30", "Europe/Paris")
    with pytest.raises(ValidationError, match="give a date between 1900-01-01 and 2999-12-31"):
        times.parse("0001-01-01", "Europe/Paris")
    with pytest.raises(ValidationError, match="unknown time zone"):
        times.parse("2026-01-01", "Europe/\x00")
    # the last day of the range still has an end
    assert times.until("2999-12-31", "Etc/GMT+12") == datetime(3000, 1, 1, 12, 0, tzinfo=UTC)
    assert times.parse("1900-01-01", "Etc/GMT-14") == datetime(1899, 12, 31, 10, 0, tzinfo=UTC)


# ---- every command that reads a local time follows the rule ------------------------------------


def fails(result, code: int, *words: str) -> None:  # noqa: ANN001
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for word in words:
        assert word in lines[0], lines[0]


SKIPPED = "does not exist in Europe/Paris: clocks go from 02:00 to 03:00 that night; use 03:30"


@pytest.mark.cli
def test_every_command_refuses_a_skipped_time_and_takes_the_first_of_a_repeated_one(crm_cli: CrmRunner) -> None:
    crm = crm_cli
    crm("contacts", "add", "--email", "ann@example.org")
    fails(crm("interactions", "log", "--kind", "visit", "--when", "2026-03-29 02:30", ok=False), 65,
          "when: 2026-03-29 02:30", SKIPPED)
    fails(crm("events", "add", "--kind", "thematic_debate", "--title", "Débat", "--start", "2026-03-29 02:30",
              "--end", "2026-03-29 04:00", ok=False), 65, "2026-03-29 02:30", SKIPPED)
    fails(crm("events", "add", "--kind", "thematic_debate", "--title", "Débat", "--start", "2026-03-29 01:30",
              "--end", "2026-03-29 02:15", ok=False), 65,
          "2026-03-29 02:15 does not exist in Europe/Paris", "use 03:15")
    fails(crm("perception", "set", "ann@example.org", "--credibility", "high", "--interest", "high",
              "--at", "2026-03-29 02:30", ok=False), 65, "at: 2026-03-29 02:30", SKIPPED)
    fails(crm("interactions", "list", "--since", "2026-03-29 02:30", ok=False), 65, "since:", SKIPPED)
    fails(crm("campaigns", "schedule", "1", "--at", "2027-03-28 02:30", ok=False), 65,
          "2027-03-28 02:30 does not exist in Europe/Paris", "use 03:30")
    for args in (["interactions", "list", "--since", "0001-01-01"], ["interactions", "list", "--until", "9999-12-31"],
                 ["perception", "summary", "--as-of", "9999-12-31"], ["events", "list", "--until", "9999-12-31"],
                 ["interactions", "log", "--kind", "visit", "--when", "0001-01-01 00:00"],
                 ["interactions", "list", "--since", "0000-01-01"], ["interactions", "list", "--since", "2026-02-30"]):
        fails(crm(*args, ok=False), 65)
    assert crm("interactions", "list", "--json").json() == []
    assert crm("events", "list", "--json").json() == []

    logged = crm("interactions", "log", "--kind", "visit", "--when", "2026-10-25 02:30", "--json")
    assert logged.json()["occurred_at"] == "2026-10-25T00:30:00+00:00"
    assert logged.err.strip() == ("crm: note: when: 2026-10-25 02:30 happens twice in Europe/Paris (clocks go "
                                  "back from 03:00 to 02:00 that night); taking the first, 02:30 CEST (00:30 UTC)")
    event = crm("events", "add", "--kind", "thematic_debate", "--title", "Débat", "--start", "2026-10-25 02:30",
                "--end", "2026-10-25 03:30", "--json")
    assert "happens twice" in event.err
    assert (event.json()["starts_at"], event.json()["ends_at"]) == ("2026-10-25T00:30:00+00:00",
                                                                    "2026-10-25T02:30:00+00:00")
