"""`crm demo`: build a demo cluster in an empty database and show what it made."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import click

from crm.demo import cluster as service
from crm.cli.main import Context, pass_ctx
from crm.cli.output import console, emit_json, json_option, table

if TYPE_CHECKING:
    from crm.settings import Settings


@click.command("demo")
@click.option("--seed", type=int, default=2026, show_default=True, help="same seed, same cluster")
@click.option("--contacts", "size", type=click.IntRange(service.MIN_CONTACTS, service.MAX_CONTACTS),
              default=300, show_default=True, help="how many contacts")
@json_option
@pass_ctx
def demo(ctx: Context, seed: int, size: int, as_json: bool) -> None:
    """Build a realistic demo cluster: organisations, contacts, a year of activity.

    Works in an empty folder with no configuration (SQLite file ./crm.db). Run again, it
    shows the demo already there; a database holding other data is refused.
    """
    from crm.cli import sending
    from crm.demo import campaigns as demo_campaigns
    from crm.settings import get_settings

    settings = demo_campaigns.settings_for(get_settings())
    sending.check_ready(settings)  # a mail or broker setting that cannot work stops here, before anything is built
    busy = console.status("building the demo cluster…") if console.is_terminal and not as_json else nullcontext()
    with busy, ctx.store.transaction() as session:
        result = service.build(session, seed=seed, contacts=size)
    result["campaigns"] = _send_campaigns(ctx, settings)
    if as_json:
        emit_json(result)
    else:
        show(result)
        table("Campaigns sent (outbox: CRM_OUTBOX_DIR, or CRM_SMTP_URL)",
              ["id", "campaign", "status", "total", "sent", "suppressed", "failed", "pending"],
              [(c["id"], c["name"], c["status"], c["total"], c["sent"], c["suppressed"], c["failed"], c["pending"])
               for c in result["campaigns"]])


def _send_campaigns(ctx: Context, settings: Settings) -> list[dict[str, Any]]:
    """The whole cycle: the demo newsletter and an invitation, sent like any campaign."""
    from crm.cli import sending
    from crm.demo import campaigns as demo_campaigns

    with ctx.store.transaction() as session:
        ids, started = demo_campaigns.prepare(session, settings)
    for campaign_id in started:
        sending.dispatch(ctx, campaign_id, watch=lambda until: None, settings=settings)
    with ctx.store.transaction() as session:
        return demo_campaigns.summary(session, ids)


def _counts(title: str, label: str, counts: Mapping[str, int]) -> None:
    table(title, [label, "count"], [(k.replace("_", " "), v) for k, v in counts.items()])


def show(result: dict[str, Any]) -> None:
    """The summary as tables, for people."""
    contacts, events, interactions = result["contacts"], result["events"], result["interactions"]
    moves = result["perception_movements"]
    state = "already there" if result["already_existed"] else f"built in {result['seconds']} s"
    click.echo(f"Demo cluster {result['cluster']}: {state}, in {result['database']}")
    click.echo(
        f"{result['organisations']['total']} organisations, {contacts['total']} contacts, "
        f"{events['total']} events ({events['upcoming']} upcoming), {interactions['total']} interactions "
        f"from {(interactions['first'] or '')[:10]} to {(interactions['last'] or '')[:10]}, "
        f"{moves['count']} perception movements over the year"
    )
    click.echo(f"Animators: {', '.join(interactions['led_by'])}")
    _counts("Organisations", "kind", result["organisations"]["by_kind"])
    _counts("Contacts by target group", "target", contacts["by_target"])
    _counts("Contacts by language", "language", contacts["by_language"])
    _counts("Contacts by membership", "membership", contacts["by_membership"])
    _counts("Contacts by perception segment (now)", "segment", contacts["by_perception"])
    consent = result["consent"]
    table("Consent (current)", ["topic", "opted in", "opted out"],
          [(t, n, consent["opted_out"].get(t, 0)) for t, n in consent["opted_in"].items()])
    _counts("Events", "kind", events["by_kind"])
    _counts("Interactions", "kind", interactions["by_kind"])
    _counts("Perception movements over the year", "from → to",
            {k.replace("->", " → "): v for k, v in moves["by_change"].items()})
    click.echo("Next: crm contacts list --tag water, crm contacts show <email>")


def register(cli: click.Group) -> None:
    cli.add_command(demo)
