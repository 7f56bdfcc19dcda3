"""`crm segments …`: preview a rule or a named segment, save rules under names, list and delete them."""

from __future__ import annotations

import click

from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, table
from crm.segments import allowlist, service

_RULE_HELP = """RULE is a segment's name or a rule, e.g.

\b
  skeptics
  'language = fr and target in (member_company, partner)'
  'perception = skeptic and not interaction(kind=visit, within=180d)'
  'tag = agrifood and consent(newsletter)'

Several words are joined with spaces, so quotes are only needed for the shell
(parentheses) or for values with spaces: city = "Saint Malo". Combine with and, or,
not and parentheses; compare with =, !=, in (…), not in (…).

\b
""" + "\n".join(allowlist.summary())


def _rule(words: tuple[str, ...]) -> str:
    return " ".join(words)


@click.group("segments")
def group() -> None:
    """Who a campaign reaches: rules over contacts, named segments, counts."""


@group.command(epilog=_RULE_HELP)
@click.argument("rule", nargs=-1, required=True)
@click.option("--sample", type=click.IntRange(min=0, max=1000), default=10, show_default=True,
              help="how many matching contacts to show")
@json_option
@pass_ctx
def preview(ctx: Context, rule: tuple[str, ...], sample: int, as_json: bool) -> None:
    """Count the contacts a rule or segment selects now, and show the first few."""
    with ctx.store.transaction() as session:
        data = service.preview(session, _rule(rule), sample=sample)
    if as_json:
        emit_json(data)
        return
    table(
        f"{data['count']} contacts: {data['rule']}",
        ["id", "name", "email", "language", "target"],
        [(p["id"], p["name"], p["email"], p["language"], p["target"]) for p in data["sample"]],
    )


@group.command(epilog=_RULE_HELP)
@click.argument("name")
@click.argument("rule", nargs=-1, required=True)
@click.option("--description", help="what the segment is for")
@json_option
@pass_ctx
def create(ctx: Context, name: str, rule: tuple[str, ...], description: str | None, as_json: bool) -> None:
    """Save RULE under NAME (validated now, evaluated each time it is used)."""
    with ctx.store.transaction() as session:
        data = service.create_saved(session, name, _rule(rule), description)
    if as_json:
        emit_json(data)
        return
    click.echo(f"segment {data['name']} saved: {data['rule']} ({data['count']} contacts now)")


@group.command("list")
@click.option("--count", "with_counts", is_flag=True, help="count the contacts in each segment now")
@json_option
@pass_ctx
def list_(ctx: Context, with_counts: bool, as_json: bool) -> None:
    """Saved segments, then the built-in ones (perception segments, target groups …)."""
    with ctx.store.transaction() as session:
        rows = service.list_all(session, counts=with_counts)
    if as_json:
        emit_json(rows)
        return
    columns = ["name", "kind", "rule", "description"] + (["count"] if with_counts else [])
    for row in rows:
        if "error" in row:
            row["count"] = f"error: {row['error']}"
    table(f"{len(rows)} segments", columns, [[r.get(c) for c in columns] for r in rows])
    broken = [r["name"] for r in rows if "error" in r]
    if broken:
        click.echo(f"crm: {len(broken)} segment(s) could not be counted: {', '.join(broken)} "
                   f"(fix or delete them: crm segments delete NAME)", err=True)


@group.command()
@click.argument("name")
@json_option
@pass_ctx
def delete(ctx: Context, name: str, as_json: bool) -> None:
    """Delete the saved segment NAME (built-in segments stay; a campaign that may still send
    and names the segment keeps it: cancel the campaign first)."""
    with ctx.store.transaction() as session:
        data = service.delete_saved(session, name)
    emit_json(data) if as_json else click.echo(f"segment {data['name']} deleted: {data['rule']}")


def register(cli: click.Group) -> None:
    cli.add_command(group)
