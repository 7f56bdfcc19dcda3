"""`crm events …`: the cluster's calendar."""

from __future__ import annotations

import click

from crm import calendar_events as service
from crm import times
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, table
from crm.errors import ValidationError
from crm.settings import get_settings


def _capacity(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise ValidationError(f"{raw!r} is not a whole number", "capacity") from None


@click.group("events")
def group() -> None:
    """Debates, meetings, visits, ceremonies."""


@group.command()
@click.option("--kind", required=True, help="thematic_debate, monthly_meeting, company_visit, …")
@click.option("--title", required=True)
@click.option("--start", required=True, help='local time "YYYY-MM-DD HH:MM"')
@click.option("--end", required=True, help='local time "YYYY-MM-DD HH:MM"')
@click.option("--timezone", "tz", help="IANA time zone of --start/--end (default CRM_TIMEZONE)")
@click.option("--place")
@click.option("--online-url")
@click.option("--capacity", help="number of seats (positive)")
@click.option("--organiser")
@click.option("--description")
@json_option
@pass_ctx
def add(ctx: Context, kind: str, title: str, start: str, end: str, tz: str | None, place: str | None,
        online_url: str | None, capacity: str | None, organiser: str | None, description: str | None,
        as_json: bool) -> None:
    """Add an event to the calendar."""
    tz = tz or get_settings().timezone
    times.zone(tz)
    starts_at, ends_at = times.parse(start, tz, "start"), times.parse(end, tz, "end")
    with ctx.store.transaction() as session:
        event = service.add(
            session, service.kind(kind), title, starts_at, ends_at, tz, place=place, online_url=online_url,
            capacity=_capacity(capacity), organiser=organiser, description=description,
        )
        data = service.summary(event)
    emit_json(data) if as_json else click.echo(f"event #{data['id']} added: {data['title']} on {data['local_start']}")


@group.command("list")
@click.option("--since", help="starting from this local date/time")
@click.option("--until", help="up to this local date (inclusive) or date/time (exclusive)")
@json_option
@pass_ctx
def list_(ctx: Context, since: str | None, until: str | None, as_json: bool) -> None:
    """List events by start time."""
    tz = get_settings().timezone
    start = times.parse(since, tz, "since") if since else None
    end = times.until(until, tz, "until") if until else None
    with ctx.store.transaction() as session:
        rows = service.overview(session, start, end)
    if as_json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} events",
        ["id", "start", "kind", "title", "place", "capacity"],
        [(r["id"], r["local_start"], r["kind"], r["title"], r["place"] or r["online_url"], r["capacity"]) for r in rows],
    )


def register(cli: click.Group) -> None:
    cli.add_command(group)
