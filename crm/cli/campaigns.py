"""`crm campaigns …`: create, preview, test-send, send, schedule, pause, resume, cancel, status, list."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from crm.cli.main import Context, pass_ctx
from crm.cli.output import emit_json, json_option, pairs, table
from crm.errors import NotFound, UsageError, ValidationError
from crm.settings import get_settings


def _by_language(values: tuple[str, ...], default: str, what: str) -> dict[str, str]:
    """'fr=x' / 'x' (the default language) -> {language: x}."""
    result: dict[str, str] = {}
    for value in values:
        lang, sep, rest = value.partition("=")
        if not (sep and 1 < len(lang) <= 8 and lang.replace("-", "").isalpha()):
            lang, rest = default, value
        if lang in result:  # the last one silently won
            raise ValidationError(f"{lang} is given twice ({result[lang]!r:.60} and {rest!r:.60}): give one "
                                  f"--{what} per language (LANG=…)", f"--{what}")
        result[lang] = rest
    if not result:
        raise ValidationError(f"give --{what}", what)
    return result


@click.group("campaigns")
def group() -> None:
    """Newsletters, invitations, press releases, calls for projects and surveys."""


@group.command()
@click.option("--kind", required=True, help="newsletter|invitation|press_release|call_for_projects|survey")
@click.option("--segment", required=True, help="a segment name or a rule: \"target in (member_company) and consent(newsletter)\"")
@click.option("--subject", "subjects", multiple=True, required=True, metavar="[LANG=]TEXT", help="subject (per language: fr=…)")
@click.option("--content", "contents", multiple=True, required=True, metavar="[LANG=]FILE", help="Markdown or HTML file (per language: en=news.en.md)")
@click.option("--name", default=None, help="a name for the list of campaigns (default: the subject)")
@click.option("--language", default=None, help="the campaign's default language (default: CRM_DEFAULT_LANGUAGE)")
@click.option("--event", "event_id", type=int, default=None, help="the event an invitation is for")
@click.option("--survey-url", default=None)
@click.option("--from", "from_address", default=None, help="sender address (default: CRM_FROM_ADDRESS)")
@click.option("--from-name", default=None)
@click.option("--reply-to", default=None)
@click.option("--rate", "rate_limit", type=float, default=None, help="messages per second for this campaign")
@click.option("--no-consent-required", is_flag=True, help="statutory mailing: send to everyone in the segment except opt-outs")
@json_option
@pass_ctx
def create(ctx: Context, kind, segment, subjects, contents, name, language, event_id, survey_url, from_address,
           from_name, reply_to, rate_limit, no_consent_required, as_json) -> None:  # noqa: ANN001
    """Create a draft campaign (segment and templates are checked now)."""
    from crm.campaigns import files, service
    from crm.rendering import Renderer

    settings = get_settings()
    for option, value in (("--from", from_address), ("--from-name", from_name), ("--language", language),
                          ("--reply-to", reply_to), ("--name", name), ("--survey-url", survey_url)):
        if value is not None and not value.strip():  # a blank value never means "the default"
            raise UsageError(f"{option} is empty: give a value, or leave the option out for the default")
    default = language or settings.default_language
    subject_of = _by_language(subjects, default, "subject")
    file_of = _by_language(contents, default, "content")
    if set(subject_of) != set(file_of):
        raise ValidationError(f"subjects for {sorted(subject_of)} but contents for {sorted(file_of)}", "subject")
    items, notes = [], []
    for lang, path in file_of.items():
        content = files.read(path, f"--content {lang}={path}")
        notes += [content.note] if content.note else []
        items.append(service.ContentInput(lang, subject_of[lang], content.text, content.format))
    with ctx.store.transaction() as session:
        campaign = service.create(
            session, renderer=Renderer.for_settings(settings), name=name,
            kind=service.kind(kind), segment=segment, contents=items,
            from_address=from_address or settings.from_address, from_name=from_name or settings.sender_name,
            default_language=default, reply_to=reply_to, event_id=event_id, survey_url=survey_url,
            rate_limit=rate_limit, consent_required=not no_consent_required,
        )
        data = service.describe(session, campaign)
    for note in notes:  # said once the campaign exists: a failed create prints its one error line only
        click.echo(f"crm: note: {note}", err=True)
    emit_json(data) if as_json else click.echo(f"campaign #{data['id']} created (draft): {data['name']}")


@group.command("list")
@json_option
@pass_ctx
def list_(ctx: Context, as_json: bool) -> None:
    """List campaigns, newest first."""
    from crm.campaigns import service

    with ctx.store.transaction() as session:
        rows = service.overview(session)
    if as_json:
        emit_json(rows)
        return
    table(f"{len(rows)} campaigns", ["id", "name", "kind", "status", "total", "sent", "failed", "suppressed", "pending"],
          [(r["id"], r["name"], r["kind"], r["status"], r["total"], r["sent"], r["failed"], r["suppressed"], r["pending"]) for r in rows])


def _print_status(data: dict, as_json: bool) -> None:
    emit_json(data) if as_json else pairs(data)


@group.command()
@click.argument("campaign_id", type=int)
@click.option("--watch", is_flag=True, help="follow the progress until the campaign stops")
@json_option
@pass_ctx
def status(ctx: Context, campaign_id: int, watch: bool, as_json: bool) -> None:
    """Where a campaign stands: {status, total, sent, failed, suppressed, pending, unknown},
    and the reasons of failures, suppressions and unknowns, grouped with their counts."""
    from crm.campaigns import reasons, service
    if watch:
        _watch(ctx, campaign_id)
    with ctx.store.transaction() as session:
        data = service.counts(session, campaign_id)
        why = reasons.grouped(session, campaign_id)
    if as_json:
        emit_json(data | {"reasons": why})
        return
    pairs(data)
    for key, entries in why.items():  # plain lines: a server's text is not rich markup
        for entry in entries:
            click.echo(f"{key}: {entry['reason']} ×{entry['count']}")


def _watch(ctx: Context, campaign_id: int, until=None) -> None:  # noqa: ANN001
    from rich.progress import BarColumn, Progress, TextColumn

    from crm.campaigns import service

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  transient=False, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(f"campaign #{campaign_id}", total=None)
        while True:
            with ctx.store.transaction() as session:
                data = service.counts(session, campaign_id)
            done = data["total"] - data["pending"]
            bar.update(task, total=data["total"] or None, completed=done, description=f"campaign #{campaign_id} {data['status']}")
            if (until and until()) or (until is None and data["status"] != "sending"):
                return
            time.sleep(0.5)


@group.command()
@click.argument("campaign_id", type=int)
@json_option
@pass_ctx
def send(ctx: Context, campaign_id: int, as_json: bool) -> None:
    """Send now: enqueue for `crm worker` (with a broker), or send to completion here (without)."""
    from crm.campaigns import service
    from crm.cli import sending

    # Checked first (mail server or broker, secret), started and enqueued in one transaction:
    # on any failure the campaign is as it was. Without a broker it is sent here, to the end.
    started = sending.start(ctx, campaign_id, lambda session: service.send(session, campaign_id),
                            watch=lambda until: _watch(ctx, campaign_id, until))
    with ctx.store.transaction() as session:
        data = service.counts(session, campaign_id) | {"added": started["added"]}
    _print_status(data, as_json)


@group.command()
@click.argument("campaign_id", type=int)
@click.option("--at", "at", required=True, help="local time (CRM_TIMEZONE): 'YYYY-MM-DD HH:MM'")
@json_option
@pass_ctx
def schedule(ctx: Context, campaign_id: int, at: str, as_json: bool) -> None:
    """Send at a given time: `crm worker` starts it then (with or without a broker)."""
    from crm.campaigns import service
    from crm import times

    when = times.parse(at, get_settings().timezone, "--at")
    with ctx.store.transaction() as session:
        data = service.describe(session, service.schedule(session, campaign_id, when))
    emit_json(data) if as_json else click.echo(
        f"campaign #{campaign_id} scheduled for {times.local(when, get_settings().timezone)}: `crm worker` starts it "
        "then (keep one running; one started later sends it at once)")


def _simple(name: str, fn: str, doc: str) -> None:
    @group.command(name, help=doc)
    @click.argument("campaign_id", type=int)
    @json_option
    @pass_ctx
    def command(ctx: Context, campaign_id: int, as_json: bool) -> None:
        from crm.campaigns import service

        if name == "resume":  # as `send`: checked, resumed and enqueued at once, or not at all
            from crm.cli import sending

            sending.start(ctx, campaign_id, lambda session: service.resume(session, campaign_id),
                          watch=lambda until: _watch(ctx, campaign_id, until))
            with ctx.store.transaction() as session:
                data = service.counts(session, campaign_id)
            _print_status(data, as_json)
            return
        with ctx.store.transaction() as session:
            result = getattr(service, fn)(session, campaign_id)
            data = service.counts(session, campaign_id) | (result if isinstance(result, dict) else {})
        _print_status(data, as_json)


_simple("pause", "pause", "Pause a sending campaign (workers stop after the message in flight).")
_simple("resume", "resume", "Resume a paused campaign.")
_simple("cancel", "cancel", "Cancel: nothing more is sent.")


@group.command()
@click.argument("campaign_id", type=int)
@click.option("--contact", "contact_ref", required=True, help="id or email of the contact to render for")
@click.option("--language", default=None, help="show it in this one of the campaign's languages (default: the contact's)")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="write the .eml here (default: stdout)")
@pass_ctx
def preview(ctx: Context, campaign_id: int, contact_ref: str, language: str | None, output: str | None) -> None:
    """Write the message exactly as this contact would get it (.eml)."""
    from crm.campaigns import preview as previews

    with ctx.store.transaction() as session:
        result = previews.show(session, get_settings(), campaign_id, contact_ref, language=language)
    if output:
        try:
            Path(output).write_bytes(result.message)
        except OSError as exc:
            raise NotFound(f"--output {output}: cannot write it ({exc.strerror or exc}); give a file in a folder you can write to") from None
        click.echo(f"{output}: message in {result.language} for {result.address}", err=True)
    else:
        sys.stdout.buffer.write(result.message)


@group.command("test-send")
@click.argument("campaign_id", type=int)
@click.option("--to", "to", required=True, multiple=True,
              help="address to send a test copy to (repeat it for several, at most 50)")
@click.option("--language", default=None)
@click.option("--contact", "contact_ref", default=None, help="render as this contact would see it")
@json_option
@pass_ctx
def test_send(ctx: Context, campaign_id: int, to: tuple[str, ...], language: str | None, contact_ref: str | None,
              as_json: bool) -> None:
    """Send one copy to each test address (nothing is recorded as sent)."""
    from crm.campaigns import preview as previews

    with ctx.store.transaction() as session:
        data = previews.send_copies(session, get_settings(), campaign_id, list(to), language=language,
                                    contact_ref=contact_ref)
    if as_json:
        emit_json(data[0] if len(data) == 1 else data)  # one --to: the object alone (kept as it was)
        return
    for item in data:
        click.echo(f"test message sent to {item['to']} ({item['language']})")


def register(cli: click.Group) -> None:
    cli.add_command(group)
