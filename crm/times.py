"""Local time at the edges: a person's date/time text -> aware UTC, and back.

Every local time a person types goes through `parse` (or `until` for an upper bound), so
the clock changes mean the same everywhere:

- a time that does not exist (the hour skipped when clocks go forward) is refused, naming
  the change and the time to use instead;
- a time that happens twice (clocks go back) is the first of the two, and `parse` says so
  in a note: returned by `read`, logged (stderr, one line) by `parse`;
- a date alone is the first moment of that day (midnight, or the end of the gap on a day
  whose midnight is skipped);
- only years 1900 to 2999 are taken: anything further is a typo, and stays far from the
  limits of Python's datetime and the databases.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.errors import ValidationError

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
            "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y")
_DATE_ONLY = ("%Y-%m-%d", "%d/%m/%Y")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_LENGTH = 64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reading:
    """A parsed time in UTC, and a note for the person when the local time was ambiguous."""

    value: datetime
    note: str | None = None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a name the OS refuses
        raise ValidationError(f"unknown time zone {name!r} (use an IANA name: Europe/Paris)", "timezone") from None


def _wall(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M" if value.second == 0 else "%Y-%m-%d %H:%M:%S")


def _hm(value: datetime) -> str:
    return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")


def _transition(tz: ZoneInfo, early: datetime, late: datetime) -> datetime:
    """The UTC instant in [early, late] where ``tz``'s offset changes (to the second)."""
    before = early.astimezone(tz).utcoffset()
    while late - early > timedelta(seconds=1):
        middle = early + (late - early) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == before:
            early = middle
        else:
            late = middle
    return late


def _text(text: str, field: str) -> tuple[str, datetime, bool]:
    """The text -> (stripped text, naive or aware datetime, date alone?)."""
    if not isinstance(text, str):
        raise ValidationError(f"invalid date/time {text!r}: use YYYY-MM-DD HH:MM", field)
    raw = text.strip()
    if len(raw) > MAX_LENGTH or "\x00" in raw:
        raise ValidationError(f"invalid date/time {raw[:MAX_LENGTH]!r}: use YYYY-MM-DD HH:MM", field)
    for fmt in _DATE_ONLY:
        try:
            return raw, datetime.strptime(raw, fmt), True
        except ValueError:
            continue
    try:
        return raw, datetime.fromisoformat(raw), False
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return raw, datetime.strptime(raw, fmt), False
        except ValueError:
            continue
    raise ValidationError(f"invalid date/time {raw!r}{_no_such_day(raw)}: use YYYY-MM-DD HH:MM", field)


def _no_such_day(raw: str) -> str:
    """' (February 2026 has 28 days)' for '2026-02-30', else ''."""
    if not _ISO_DATE.match(raw):
        return ""
    year, month, number = (int(part) for part in raw[:10].split("-"))
    if not (1 <= year and 1 <= month <= 12 and 1 <= number <= 31):
        return ""
    days = calendar.monthrange(year, month)[1]
    return f" ({calendar.month_name[month]} {year} has {days} days)" if number > days else ""


def _in_range(raw: str, value: datetime, field: str) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            f"{raw!r} is out of range: give a date between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31", field
        )


def read(text: str, tz: str, field: str = "when") -> Reading:
    """'2026-03-12 14:00' in ``tz`` (or an ISO time with its own offset) -> UTC, with a note
    when the local time happens twice. Raises `ValidationError` (naming ``field``) for text
    that is not a time, a year out of range, or a local time skipped by a clock change."""
    raw, value, date_only = _text(text, field)
    _in_range(raw, value, field)
    return _convert(value, date_only, tz, field)


def _convert(value: datetime, date_only: bool, tz: str, field: str) -> Reading:
    if value.tzinfo is not None:
        return Reading(value.astimezone(timezone.utc))
    place = zone(tz)
    first = value.replace(tzinfo=place, fold=0).astimezone(timezone.utc)
    second = value.replace(tzinfo=place, fold=1).astimezone(timezone.utc)
    if first == second:
        return Reading(first)
    if first.astimezone(place).replace(tzinfo=None) == value:  # happens twice: take the first
        if date_only:
            return Reading(min(first, second))
        early, late = sorted((first, second))
        change = _transition(place, early, late)
        back_from = _hm(change.astimezone(place).replace(tzinfo=None, fold=0) + (late - early))
        back_to = _hm(change.astimezone(place).replace(tzinfo=None))
        shown = early.astimezone(place)
        note = (f"{field}: {_wall(value)} happens twice in {tz} (clocks go back from {back_from} to {back_to} "
                f"that night); taking the first, {_hm(shown)} {shown.tzname()} ({_hm(early)} UTC)")
        return Reading(early, note)
    # Skipped by the clock change: fold=0 reads it with the offset before, fold=1 after.
    change = _transition(place, second, first)
    gap = first - second
    gap_start = change.astimezone(place).replace(tzinfo=None) - gap
    gap_end = change.astimezone(place).replace(tzinfo=None)
    if date_only:  # the day starts when the clocks have gone forward
        return Reading(change)
    instead = value + gap
    shown = _hm(instead) if instead.date() == value.date() else _wall(instead)
    raise ValidationError(
        f"{_wall(value)} does not exist in {tz}: clocks go from {_hm(gap_start)} to {_hm(gap_end)} "
        f"that night; use {shown}", field
    )


def parse(text: str, tz: str, field: str = "when") -> datetime:
    """'2026-03-12 14:00' in ``tz`` (or an ISO time with its own offset) -> UTC.

    The rule of `read`; the note about an ambiguous time goes to the log (one line on stderr
    when nothing configured logging)."""
    reading = read(text, tz, field)
    if reading.note:
        log.warning("crm: note: %s", reading.note)
    return reading.value


def local(value: datetime | str, tz: str) -> str:
    """A stored time (aware, or its ISO text from a service's JSON) as local wall time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


def until(text: str, tz: str, field: str = "until") -> datetime:
    """An exclusive upper bound: a date alone means "to the end of that day" (next midnight)."""
    raw, value, date_only = _text(text, field)
    if not date_only:
        return parse(raw, tz, field)
    _in_range(raw, value, field)
    return _convert(value + timedelta(days=1), True, tz, field).value
