"""`crm interactions …`: log a visit, a meeting, a call …; list them."""

from __future__ import annotations

import click

from crm import interactions as service
from crm import times
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, table
from crm.db import utcnow
from crm.settings import get_settings


@click.group("interactions")
def group() -> None:
    """Visits, meetings, debates, calls with contacts."""


@group.command()
@click.option("--kind", required=True, help="visit, monthly_meeting, call, 'visite' …")
@click.option("--when", help='local time "YYYY-MM-DD HH:MM" (CRM_TIMEZONE); default now')
@click.option("--contact", "contacts", multiple=True, help="participant's email or id (repeatable)")
@click.option("--org", "organisation", metavar="NAME|#ID",
              help="organisation: '#5' is the one with id 5, anything else a name (default: the first participant's)")
@click.option("--by", "led_by", help="who from the cluster team led it")
@click.option("--event", "event_id", type=int, help="id of the calendar event it belongs to")
@click.option("--subject")
@click.option("--notes")
@click.option("--outcome")
@json_option
@pass_ctx
def log(ctx: Context, kind: str, when: str | None, contacts: tuple[str, ...], organisation: str | None,
        led_by: str | None, event_id: int | None, subject: str | None, notes: str | None,
        outcome: str | None, as_json: bool) -> None:
    """Log an interaction."""
    tz = get_settings().timezone
    occurred_at = times.parse(when, tz, "when") if when else utcnow()
    with ctx.store.transaction() as session:
        interaction = service.log(
            session, service.kind(kind), occurred_at, contacts=contacts, organisation=organisation,
            led_by=led_by, event_id=event_id, subject=subject, notes=notes, outcome=outcome,
        )
        data = service.summary(interaction)
    if as_json:
        emit_json(data)
        return
    click.echo(f"interaction #{data['id']} logged: {data['kind']} on {times.local(occurred_at, tz)}")


@group.command("list")
@click.option("--contact", help="only those with this participant (email or id)")
@click.option("--kind", help="only this kind")
@click.option("--since", help="from this local date/time (inclusive)")
@click.option("--until", help="to this local date (inclusive) or date/time (exclusive)")
@click.option("--limit", type=click.IntRange(min=1, max=100_000), default=100, show_default=True)
@json_option
@pass_ctx
def list_(ctx: Context, contact: str | None, kind: str | None, since: str | None, until: str | None,
          limit: int, as_json: bool) -> None:
    """List interactions, most recent first."""
    tz = get_settings().timezone
    start = times.parse(since, tz, "since") if since else None
    end = times.until(until, tz, "until") if until else None
    with ctx.store.transaction() as session:
        rows = service.overview(session, contact=contact, kind=service.kind(kind) if kind else None,
                                since=start, until=end, limit=limit)
    if as_json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} interactions",
        ["id", "when", "kind", "organisation", "contacts", "by", "subject"],
        [
            (r["id"], times.local(r["occurred_at"], tz), r["kind"], r["organisation"],
             ", ".join(r["contacts"]), r["led_by"], r["subject"])
            for r in rows
        ],
    )


def register(cli: click.Group) -> None:
    cli.add_command(group)
