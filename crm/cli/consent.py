"""`crm consent …`: record opt-ins and opt-outs, show a contact's consent."""

from __future__ import annotations

import click

from crm import consent as service
from crm import contacts, times
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, pairs, table
from crm.models import ConsentAction
from crm.settings import get_settings


@click.group("consent")
def group() -> None:
    """Consent per topic (newsletter, events, press, calls, surveys), kept as a log."""


def _change(ctx: Context, action: ConsentAction, contact: str, topic: str, source: str,
            proof: str | None, by: str | None, as_json: bool) -> None:
    topics = service.topics(topic)
    kind = service.source(source)
    with ctx.store.transaction() as session:
        data = contacts.change_consent(session, contact, topics, action, kind, proof=proof, recorded_by=by)
    if as_json:
        emit_json(data)
        return
    verb = "gave" if action is ConsentAction.OPT_IN else "withdrew"
    click.echo(f"contact #{data['contact_id']} {verb} consent: {', '.join(t.value for t in topics)}")


def _options(fn):  # noqa: ANN001, ANN202
    fn = json_option(fn)
    fn = click.option("--by", help="who recorded it")(fn)
    fn = click.option("--proof", help="what proves it (form, letter, meeting …)")(fn)
    fn = click.option("--source", default="animator", show_default=True,
                      help="form, import, animator, unsubscribe or api")(fn)
    fn = click.option("--topic", required=True, help="newsletter, events, press, calls, surveys (comma-separated)")(fn)
    return click.argument("contact")(fn)


@group.command()
@_options
@pass_ctx
def give(ctx: Context, contact: str, topic: str, source: str, proof: str | None, by: str | None,
         as_json: bool) -> None:
    """Record an opt-in of CONTACT (email or id) to each topic."""
    _change(ctx, ConsentAction.OPT_IN, contact, topic, source, proof, by, as_json)


@group.command()
@_options
@pass_ctx
def withdraw(ctx: Context, contact: str, topic: str, source: str, proof: str | None, by: str | None,
             as_json: bool) -> None:
    """Record an opt-out of CONTACT (email or id) from each topic."""
    _change(ctx, ConsentAction.OPT_OUT, contact, topic, source, proof, by, as_json)


@group.command()
@click.argument("contact")
@json_option
@pass_ctx
def show(ctx: Context, contact: str, as_json: bool) -> None:
    """CONTACT's current consent per topic, and the log."""
    tz = get_settings().timezone
    with ctx.store.transaction() as session:
        data = contacts.consent_of(session, contact)
    if as_json:
        emit_json(data)
        return
    pairs({"contact": f"#{data['contact_id']} {data['email'] or ''}",
           **{t: "yes" if given else "no" for t, given in data["current"].items()}})
    table(
        f"{len(data['log'])} consent events",
        ["when", "topic", "action", "source", "proof", "by"],
        [
            (times.local(e["at"], tz), e["topic"], e["action"], e["source"], e["proof"], e["recorded_by"])
            for e in data["log"]
        ],
    )


def register(cli: click.Group) -> None:
    cli.add_command(group)
