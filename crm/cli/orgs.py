"""`crm orgs …`: list, show, add organisations."""

from __future__ import annotations

import click

from crm import fields
from crm import organisations as service
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, pairs, table


@click.group("orgs")
def group() -> None:
    """Organisations: companies, labs, schools, institutions."""


@group.command("list")
@click.option("--search", help="part of the name")
@click.option("--kind", help="organisation kind (company, university, 'collectivité' …)")
@json_option
@pass_ctx
def list_(ctx: Context, search: str | None, kind: str | None, as_json: bool) -> None:
    """List organisations with their number of contacts."""
    with ctx.store.transaction() as session:
        rows = service.overview(session, search=search, kind=fields.organisation_kind(kind) if kind else None)
    if as_json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} organisations",
        ["id", "name", "kind", "sector", "region", "country", "contacts"],
        [(r["id"], r["name"], r["kind"], r["sector"], r["region"], r["country"], r["contact_count"]) for r in rows],
    )


@group.command()
@click.argument("ref", metavar="NAME|#ID")
@json_option
@pass_ctx
def show(ctx: Context, ref: str, as_json: bool) -> None:
    """Show one organisation and its contacts: '#5' is the one with id 5, anything else a name."""
    with ctx.store.transaction() as session:
        data = service.describe(session, service.get(session, ref))
    if as_json:
        emit_json(data)
        return
    people = data.pop("contacts")
    pairs(data)
    table(
        f"{len(people)} contacts",
        ["id", "name", "email", "position", "target"],
        [(p["id"], p["name"], p["email"], p["position"], p["target"]) for p in people],
    )


@group.command()
@click.argument("name")
@click.option("--kind", help="company (default), research_centre, university, …")
@click.option("--sector")
@click.option("--region")
@click.option("--country", help="two-letter ISO code: FR, MA, TN")
@click.option("--website")
@click.option("--size", help="micro, small, medium or large")
@json_option
@pass_ctx
def add(ctx: Context, name: str, kind: str | None, sector: str | None, region: str | None,
        country: str | None, website: str | None, size: str | None, as_json: bool) -> None:
    """Add an organisation."""
    with ctx.store.transaction() as session:
        org = service.add(
            session, name, kind=kind, sector=sector, region=region, country=country, website=website, size=size
        )
        data = service.summary(org, 0)
    emit_json(data) if as_json else click.echo(f"organisation #{data['id']} added: {data['name']}")


def register(cli: click.Group) -> None:
    cli.add_command(group)
