"""Local time at the edges: a person's date/time text -> aware UTC, and back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.errors import ValidationError

_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
            "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r} (use an IANA name: Europe/Paris)", "timezone") from None


def parse(text: str, tz: str, field: str = "when") -> datetime:
    """'2026-03-12 14:00' in ``tz`` (or an ISO time with its own offset) -> UTC."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
        for fmt in _FORMATS:
            try:
                value = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
    if value is None:
        raise ValidationError(f"invalid date/time {raw!r}: use YYYY-MM-DD HH:MM", field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(timezone.utc)


def local(value: datetime, tz: str) -> str:
    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


def until(text: str, tz: str, field: str = "until") -> datetime:
    """An exclusive upper bound: a date alone means "to the end of that day" (next midnight)."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return (day + timedelta(days=1)).replace(tzinfo=zone(tz)).astimezone(timezone.utc)
    return parse(raw, tz, field)
