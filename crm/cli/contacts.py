"""`crm contacts …`: list, show, add, edit, import, export."""

from __future__ import annotations

import click

from crm import contacts as service
from crm import fields, tags
from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, pairs, progress_counter, table
from crm.db import MAX_ID
from crm.errors import ValidationError

_FIELD_OPTIONS = [
    ("--first-name", "first_name"), ("--last-name", "last_name"), ("--email", "email"),
    ("--phone", "phone"), ("--language", "language"), ("--position", "position"),
    ("--city", "city"), ("--target", "target"), ("--membership", "membership"),
    ("--member-since", "member_since"), ("--member-until", "member_until"), ("--notes", "notes"),
]


def _field_options(fn):  # noqa: ANN001, ANN202
    for flag, name in reversed(_FIELD_OPTIONS):
        fn = click.option(flag, name, default=None, help=f"{name.replace('_', ' ')}")(fn)
    fn = click.option("--organisation", "--org", "organisation", default=None, metavar="NAME|#ID",
                      help="organisation: '#5' is the one with id 5; anything else is a name (created if new)")(fn)
    fn = click.option("--tag", "add_tags", multiple=True, help="add a tag (repeatable)")(fn)
    fn = click.option("--field", "custom", multiple=True, metavar="LABEL=VALUE", help="custom field value (repeatable)")(fn)
    return fn


def _custom(pairs_: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in pairs_:
        label, sep, value = item.partition("=")
        if not sep or not label.strip():
            raise ValidationError(f"{item!r}: write LABEL=VALUE", "--field")
        result[label.strip()] = value
    return result


def _values(kwargs: dict) -> dict[str, str | None]:
    return {name: kwargs.pop(name) for _, name in _FIELD_OPTIONS}


_OPTION_OF = {name: flag for flag, name in _FIELD_OPTIONS} | {"organisation": "--org", "tags": "--tag", "field": "--field"}


def _as_option(exc: ValidationError) -> ValidationError:
    """The service names a field ('first_name'); the person typed an option ('--first-name')."""
    return ValidationError(exc.message, _OPTION_OF.get(exc.where or "", exc.where))


@click.group("contacts")
def group() -> None:
    """The contact base."""


@group.command("list")
@click.option("--search", help="part of a name or address")
@click.option("--target", help="target group (member_company, 'entreprise membre' …)")
@click.option("--tag", help="only contacts with this tag")
@click.option("--organisation", "--org", "organisation", metavar="NAME|#ID",
              help="organisation: '#5' is the one with id 5; anything else is a name")
@click.option("--limit", type=click.IntRange(min=1, max=service.MAX_PAGE), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0, max=MAX_ID), default=0)
@json_option
@pass_ctx
def list_(ctx: Context, search, target, tag, organisation, limit, offset, as_json) -> None:  # noqa: ANN001
    """List contacts."""
    with ctx.store.transaction() as session:
        rows = service.overview(session, search=search, target=fields.target(target) if target else None, tag=tag,
                                organisation=organisation, limit=limit, offset=offset)
    if as_json:
        emit_json(rows)
        return
    table(
        f"{len(rows)} contacts",
        ["id", "name", "email", "organisation", "target", "lang", "tags"],
        [
            (r["id"], " ".join(p for p in (r["first_name"], r["last_name"]) if p), r["email"],
             r["organisation"], r["target"], r["language"], ", ".join(r["tags"]))
            for r in rows
        ],
    )


@group.command()
@click.argument("ref")
@json_option
@pass_ctx
def show(ctx: Context, ref: str, as_json: bool) -> None:
    """Show one contact (by id or email): fields, consent, perception."""
    with ctx.store.transaction() as session:
        data = service.describe(session, service.get(session, ref))
    emit_json(data) if as_json else pairs(data)


@group.command()
@_field_options
@json_option
@pass_ctx
def add(ctx: Context, organisation, add_tags, custom, as_json, **kwargs) -> None:  # noqa: ANN001
    """Add a contact."""
    values = _values(kwargs)
    with ctx.store.transaction() as session:
        try:
            contact = service.add(
                session, values, organisation=organisation,
                add_tags=[t for raw in add_tags for t in tags.split(raw)], custom=_custom(custom),
            )
        except ValidationError as exc:
            raise _as_option(exc) from None
        data = service.describe(session, contact)
    emit_json(data) if as_json else click.echo(f"contact #{data['id']} added: {data['email'] or ''}")


@group.command()
@click.argument("ref")
@_field_options
@click.option("--remove-tag", "remove_tags", multiple=True, help="remove a tag (repeatable)")
@click.option("--clear", multiple=True, help="empty a field (repeatable): --clear phone")
@json_option
@pass_ctx
def edit(ctx: Context, ref, organisation, add_tags, custom, remove_tags, clear, as_json, **kwargs) -> None:  # noqa: ANN001
    """Change a contact (by id or email)."""
    values = _values(kwargs)
    with ctx.store.transaction() as session:
        try:
            contact = service.edit(
                session, ref, values, organisation=organisation,
                add_tags=[t for raw in add_tags for t in tags.split(raw)],
                remove_tags=remove_tags, custom=_custom(custom), clear=clear,
            )
        except ValidationError as exc:
            raise _as_option(exc) from None
        data = service.describe(session, contact)
    emit_json(data) if as_json else click.echo(f"contact #{data['id']} updated")


def register(cli: click.Group) -> None:
    cli.add_command(group)


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="validate and count; write nothing")
@click.option("--consent", "consent_topics", default="", metavar="TOPIC,…",
              help="record an opt-in for every imported row (file and line as proof)")
@click.option("--extra-columns", type=click.Choice(["keep", "ignore"]), default="keep", show_default=True,
              help="unknown columns become custom fields, or are ignored")
@click.option("--strict", is_flag=True, help="any rejected row aborts the whole import")
@click.option("--encoding", default=None,
              help="force an encoding (default: decided from the file: UTF-8, else Windows-1252; "
                   "lines in the other one are rejected by number)")
@click.option("--delimiter", default=None, help="force a delimiter (default: guessed from the header)")
@click.option("--by", "recorded_by", default=None, help="who records the consent")
@json_option
@pass_ctx
def import_(ctx: Context, file, dry_run, consent_topics, extra_columns, strict, encoding, delimiter, recorded_by, as_json) -> None:  # noqa: ANN001
    """Import contacts from a CSV file (French or English headers; comma or semicolon)."""
    from crm import consent
    from crm.csvfiles.imports import import_contacts

    from crm.csvfiles.dialect import delimiter as typed_delimiter

    topics = consent.topics(consent_topics) if consent_topics else []
    delimiter = typed_delimiter(delimiter) if delimiter is not None else None
    with progress_counter("reading rows", enabled=not as_json) as tick, ctx.store.transaction() as session:
        result = import_contacts(
            session, file, dry_run=dry_run, keep_extra_columns=extra_columns == "keep",
            consent_topics=topics, recorded_by=recorded_by, strict=strict,
            encoding=encoding, delimiter=delimiter, on_progress=tick,
        )
    if as_json:
        emit_json(result.as_dict())
        return
    verb = "would be" if dry_run else "were"
    click.echo(
        f"{result.file}: {result.created} created, {result.updated} updated, {result.skipped} skipped, "
        f"{len(result.rejected)} rejected ({result.encoding}, '{result.delimiter}'){' - dry run, nothing written' if dry_run else ''}"
    )
    if result.new_custom_fields:
        click.echo(f"custom fields that {verb} added: {', '.join(result.new_custom_fields)}")
    if topics:
        click.echo(f"opt-ins recorded: {result.consent_recorded}; kept out (opted out before): {result.consent_kept_out}")
    if result.rejected:
        table("rejected rows", ["line", "reason"], [(r["line"], r["reason"]) for r in result.rejected])


@group.command()
@click.argument("output", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--delimiter", default=",", show_default=True, help="',' or ';' (French Excel), '|', '\\t' (tab)")
@pass_ctx
def export(ctx: Context, output: str, delimiter: str) -> None:
    """Export every contact as CSV (UTF-8 with BOM; formula-safe, headers included; every field
    of the contact and its organisation, custom fields with their type: re-imports exactly)."""
    import sys

    from crm.csvfiles.dialect import delimiter as typed_delimiter
    from crm.csvfiles.exports import export_contacts, target_file

    delimiter = typed_delimiter(delimiter)
    if output == "-":
        with ctx.store.transaction() as session:
            export_contacts(session, sys.stdout, delimiter=delimiter)
            sys.stdout.flush()
        return
    with target_file(output) as out, ctx.store.transaction() as session:
        count = export_contacts(session, out, delimiter=delimiter)
    click.echo(f"{count} contacts written to {output}", err=True)
