"""`crm perception …`: assess a contact, read its history, count the segments."""

from __future__ import annotations

import click

from crm import contacts, times
from crm import perception as service
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, pairs, table
from crm.settings import get_settings


@click.group("perception")
def group() -> None:
    """Credibility x interest: opponents, indifferent, skeptics, acquired, no opinion."""


@group.command("set")
@click.argument("contact")
@click.option("--credibility", required=True, help="high, low or unknown")
@click.option("--interest", required=True, help="high, low or unknown")
@click.option("--source", default="animator", show_default=True, help="survey, visit, meeting or animator")
@click.option("--by", "author", help="who assessed")
@click.option("--note")
@click.option("--at", help='local time "YYYY-MM-DD HH:MM" of the assessment; default now')
@json_option
@pass_ctx
def set_(ctx: Context, contact: str, credibility: str, interest: str, source: str, author: str | None,
         note: str | None, at: str | None, as_json: bool) -> None:
    """Record an assessment of CONTACT (email or id); prints the segment before and after."""
    when = times.parse(at, get_settings().timezone, "at") if at else None
    with ctx.store.transaction() as session:
        data = contacts.reassess(
            session, contact, service.level(credibility, "credibility"), service.level(interest, "interest"),
            service.source(source), author=author, note=note, at=when,
        )
    if as_json:
        emit_json(data)
        return
    moved = "unchanged" if data["previous"] == data["segment"] else f"was {data['previous']}"
    click.echo(f"contact #{data['contact_id']}: {data['segment']} ({moved})")


@group.command()
@click.argument("contact")
@json_option
@pass_ctx
def history(ctx: Context, contact: str, as_json: bool) -> None:
    """Every assessment of CONTACT with its segment, oldest first."""
    tz = get_settings().timezone
    with ctx.store.transaction() as session:
        data = contacts.perception_history(session, contact)
    rows = data["assessments"]
    if as_json:
        emit_json(rows)
        return
    table(
        f"contact #{data['contact_id']}: {len(rows)} assessments",
        ["when", "credibility", "interest", "segment", "source", "by", "note"],
        [
            (times.local(r["assessed_at"], tz), r["credibility"], r["interest"], r["segment"],
             r["source"], r["author"], r["note"])
            for r in rows
        ],
    )


@group.command()
@click.option("--as-of", "as_of", help="state at the end of this local date (default now)")
@json_option
@pass_ctx
def summary(ctx: Context, as_of: str | None, as_json: bool) -> None:
    """Contacts per segment, and the movements of the 12 months before."""
    moment = times.until(as_of, get_settings().timezone, "as-of") if as_of else None
    with ctx.store.transaction() as session:
        data = service.overview(session, moment)
    if as_json:
        emit_json(data)
        return
    pairs({"as of": data["as_of"], **data["segments"], "total": data["total"]})
    moves = data["movements"]
    table(
        f"{moves['count']} movements ({moves['contacts']} contacts) since {moves['since'][:10]}",
        ["from", "to", "count"],
        [(f["from"], f["to"], f["count"]) for f in moves["flows"]],
    )


def register(cli: click.Group) -> None:
    cli.add_command(group)
