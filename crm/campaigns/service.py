"""Campaigns: create (validated end to end), list, describe, send, schedule, pause, resume,
cancel, finish. Every change of a campaign's status goes through `crm.campaigns.status`;
the deliveries' rows are written and counted by `crm.delivery.queries`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import fields, vocabulary
from crm.campaigns import status as campaign_status
from crm.db import possible_id, utcnow
from crm.delivery import queries, ratelimit
from crm.errors import NotFound, ValidationError
from crm.models import Event
from crm.models.campaigns import Campaign, CampaignContent, CampaignKind, CampaignStatus
from crm.models.deliveries import DeliveryStatus as D
from crm.rendering import Content
from crm.segments import service as segments


class Preparer(Protocol):
    def prepare(self, kind: str, content: Content) -> Any: ...


@dataclass(frozen=True)
class ContentInput:
    language: str
    subject: str
    body: str
    format: str = "markdown"


# A person's word for a kind ('press', 'lettre'), as crm.vocabulary reads it.
kind = vocabulary.words(CampaignKind).parse


def _frame(kind: CampaignKind, sender: str, where: str, *, from_name: str | None = None,
           reply_to: str | None = None) -> None:
    """The headers every message will share, checked now as the send will check them (a
    value refused there would fail every delivery): ValidationError naming the option."""
    from crm.mail import message
    from crm.mail.frame import Frame

    domain = sender.rpartition("@")[2]
    try:
        message.message_id_for(1, 1, domain)
        Frame(from_addr=sender, from_name=from_name, reply_to=reply_to, list_id=f"{kind.value}.{domain}")  # as Composer.frame
    except ValidationError as exc:
        raise ValidationError(f"{exc.message} (in the {exc.where} header)", where) from None


def _sender(kind: CampaignKind, from_address: str, from_name: str | None) -> str:
    """The sender's address as it will be sent (an internationalised domain in its ASCII
    form, which the List-Id and Message-ID headers need); the name checked with it."""
    from crm.mail import message

    message.check_value("--from", from_address)
    try:
        sender = fields.email(from_address)
    except ValidationError as exc:
        raise ValidationError(exc.message, "--from") from None
    local, _, domain = sender.rpartition("@")
    if not domain.isascii():
        try:
            sender = f"{local}@{domain.encode('idna').decode('ascii')}"
        except UnicodeError:
            raise ValidationError(f"{domain!r} has no ASCII form (IDNA): use the domain's xn-- spelling", "--from") from None
    _frame(kind, sender, "--from")
    _frame(kind, sender, "--from-name", from_name=from_name)
    return sender


def _reply_to(kind: CampaignKind, sender: str, reply_to: str | None) -> str | None:
    if not reply_to:
        return None
    from crm.mail import message

    message.check_value("--reply-to", reply_to)
    try:
        reply = fields.email(reply_to)
    except ValidationError as exc:
        raise ValidationError(exc.message, "--reply-to") from None
    _frame(kind, sender, "--reply-to", reply_to=reply)
    return reply


def create(
    session: Session,
    *,
    renderer: Preparer,
    name: str | None,
    kind: CampaignKind,
    segment: str,
    contents: Sequence[ContentInput],
    from_address: str,
    default_language: str,
    from_name: str | None = None,
    reply_to: str | None = None,
    event_id: int | None = None,
    survey_url: str | None = None,
    rate_limit: float | None = None,
    consent_required: bool = True,
) -> Campaign:
    """Validate everything a send will need — segment, every language's template, sender,
    event — so that a campaign that exists can be sent; then store it as a draft."""
    for item in contents:
        if not item.subject.strip():
            raise ValidationError("the subject is empty (give --subject LANG=TEXT)", f"subject[{item.language}]")
    if name is not None:
        if not name.strip():
            raise ValidationError("a campaign needs a name", "--name")
        name = fields.text(name, "--name", limit=_length(Campaign.name))
    from_name = fields.text(from_name, "--from-name", limit=_length(Campaign.from_name)) if from_name else None
    survey_url = fields.web_link(survey_url, "--survey-url", limit=_length(Campaign.survey_url)) if survey_url else None
    segments.count(session, segments.resolve(session, segment))  # compiles and runs the rule once
    if not contents:
        raise ValidationError("give the content of at least one language", "content")
    languages = [fields.language(c.language) for c in contents]
    if len(set(languages)) != len(languages):
        raise ValidationError("the same language is given twice", "content")
    default = fields.language(default_language)
    if default not in languages:
        raise ValidationError(f"no content in the default language {default!r} (have: {', '.join(languages)}): "
                              "give its content, or --language one of these", "--language")
    if name is None:  # the default language's subject, as a label: cut to fit, never refused
        name = _label(contents[languages.index(default)].subject, _length(Campaign.name))
    sender = _sender(kind, from_address, from_name)
    reply = _reply_to(kind, sender, reply_to)
    if kind is CampaignKind.INVITATION:
        if event_id is None:
            raise ValidationError("an invitation needs the event it invites to", "event")
    if event_id is not None and (not possible_id(event_id) or session.get(Event, event_id) is None):
        raise NotFound(f"no event {event_id}")
    _event_ahead(session, kind, event_id, utcnow(), "--event")
    if kind is CampaignKind.SURVEY and not survey_url:
        raise ValidationError("a survey invitation needs the survey's link", "survey_url")
    rate_limit = ratelimit.check_rate(rate_limit)
    from crm.mail.message import check_value

    for language, item in zip(languages, contents, strict=True):
        if not item.body.strip():
            raise ValidationError("the content is empty: write the message in the file", f"content[{language}]")
        if item.format not in ("markdown", "html"):
            raise ValidationError(f"content format must be markdown or html, not {item.format!r}", f"content[{language}]")
        renderer.prepare(kind.value, Content(language, item.subject, item.body, item.format))
        check_value(f"subject[{language}]", item.subject)
    campaign = Campaign(
        name=name.strip(), kind=kind, topic=kind.topic, consent_required=consent_required, segment=segment.strip(),
        from_name=from_name, from_address=sender, reply_to=reply, default_language=default, event_id=event_id,
        survey_url=survey_url, rate_limit=rate_limit,
        contents=[CampaignContent(language=lang, subject=c.subject, body=c.body, format=c.format)
                  for lang, c in zip(languages, contents, strict=True)],
    )
    session.add(campaign)
    session.flush()
    return campaign


def _label(subject: str, limit: int) -> str:
    """A subject as a one-line name of at most ``limit`` characters (the subject itself is
    checked, and kept whole, with the content)."""
    text = " ".join(subject.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _event_ahead(session: Session, kind: CampaignKind, event_id: int | None, at: datetime, where: str) -> None:
    """An invitation goes out before its event ends (RSVP links to a past event help nobody)."""
    from crm import times

    if kind is not CampaignKind.INVITATION or event_id is None:
        return
    event = session.get(Event, event_id)
    if event is not None and event.ends_at <= at:
        raise ValidationError(f"event #{event.id} ({event.title}) ends {times.local(event.ends_at, event.timezone)}, "
                              "before the invitation would go: invite to an event still to come", where)


def _length(column: Any) -> int:
    """The most characters a column holds (PostgreSQL refuses more; SQLite would keep them)."""
    return column.property.columns[0].type.length


def get(session: Session, campaign_id: int) -> Campaign:
    if not possible_id(campaign_id):
        raise NotFound(f"no campaign {campaign_id}")
    campaign = session.scalar(select(Campaign).options(selectinload(Campaign.contents)).where(Campaign.id == campaign_id))
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def list_all(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def overview(session: Session) -> list[dict[str, Any]]:
    """`campaigns list`: every campaign, newest first, described with its delivery counts."""
    return [describe(session, c) | counts(session, c.id) for c in list_all(session)]


def counts(session: Session, campaign_id: int) -> dict[str, Any]:
    """The status contract: status, total, sent, failed, suppressed, pending, unknown (+ cancelled)."""
    campaign = get(session, campaign_id)
    by_status, resent = queries.tally(session, campaign_id)
    n = lambda *statuses: sum(by_status.get(s, 0) for s in statuses)  # noqa: E731
    return {
        "id": campaign.id, "status": campaign.status.value, "total": sum(by_status.values()),
        "sent": n(D.SENT), "failed": n(D.FAILED), "suppressed": n(D.SUPPRESSED),
        "pending": n(*queries.OPEN), "unknown": n(D.UNKNOWN), "cancelled": n(D.CANCELLED),
        "resent_after_crash": resent,
    } | ({"reason": campaign.status_reason} if campaign.status_reason else {})


def send(session: Session, campaign_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Start sending: materialise the deliveries from the segment as it is now (one row per
    contact, set-based; those who may not be sent are suppressed with their reason).

    Idempotent: on a campaign already sending nothing changes (a double `send` sends
    nobody twice). A paused campaign is resumed instead.
    """
    now = now or utcnow()
    campaign = get(session, campaign_id)
    if campaign.status is CampaignStatus.DRAFT:  # a scheduled one was checked for its time
        _event_ahead(session, campaign.kind, campaign.event_id, now, f"campaign #{campaign_id}")
    campaign, before = campaign_status.transition(session, campaign_id, CampaignStatus.SENDING, now=now)
    campaign.status_reason = None
    added = 0
    if before in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
        members = segments.contact_ids_query(segments.resolve(session, campaign.segment), now=now)
        added = queries.materialise(session, campaign, members, now)
    return {"id": campaign.id, "previous": before.value, "status": campaign.status.value, "added": added}


def schedule(session: Session, campaign_id: int, at: datetime, *, now: datetime | None = None) -> Campaign:
    now = now or utcnow()
    if at <= now:
        raise ValidationError("the time is in the past: use `send` to send now", "--at")
    campaign = get(session, campaign_id)
    _event_ahead(session, campaign.kind, campaign.event_id, at, "--at")
    campaign, _ = campaign_status.transition(session, campaign_id, CampaignStatus.SCHEDULED, now=now)
    campaign.scheduled_at = at
    session.flush()
    return campaign


def due(session: Session, now: datetime | None = None) -> list[int]:
    """Scheduled campaigns whose time has come (`start_due` sends them)."""
    now = now or utcnow()
    return list(session.scalars(
        select(Campaign.id).where(Campaign.status == CampaignStatus.SCHEDULED, Campaign.scheduled_at <= now)
    ))


def start_due(session: Session, now: datetime | None = None) -> list[int]:
    """Send the scheduled campaigns that are due; returns their ids (idempotent: `send` is a
    no-op twice). Called by `crm worker` on each look, until a scheduler process does it."""
    now = now or utcnow()
    started = due(session, now)
    for campaign_id in started:
        send(session, campaign_id, now=now)
    return started


def pause(session: Session, campaign_id: int, *, reason: str | None = None) -> Campaign:
    """Pause; ``reason`` says why when the campaign stops by itself (shown by `status`)."""
    campaign = campaign_status.transition(session, campaign_id, CampaignStatus.PAUSED)[0]
    if reason is not None:
        campaign.status_reason = reason
    return campaign


def resume(session: Session, campaign_id: int) -> Campaign:
    campaign = campaign_status.lock(session, campaign_id)
    if campaign.status is not CampaignStatus.PAUSED:
        raise ValidationError(f"campaign {campaign_id} is {campaign.status.value}, not paused", "status")
    campaign = campaign_status.transition(session, campaign_id, CampaignStatus.SENDING)[0]
    campaign.status_reason = None
    return campaign


def cancel(session: Session, campaign_id: int) -> dict[str, Any]:
    """Stop for good: every delivery not sent yet is cancelled. Workers stop before their
    next message; the one a worker may have in flight keeps its lease owner, so its result,
    when the server answers, is still recorded (sent, or unknown) over the cancellation."""
    campaign, _ = campaign_status.transition(session, campaign_id, CampaignStatus.CANCELLED)
    campaign.status_reason = None
    cancelled = queries.cancel_unsent(session, campaign_id)
    return {"id": campaign.id, "status": campaign.status.value, "cancelled": cancelled}


def finish(session: Session, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Mark a sending campaign finished once none of its deliveries is left open: the send
    engine reports its work done, the status is decided here. A paused or cancelled campaign
    is left as it is (a resumed one finishes at its next run). True when it finished now."""
    campaign = campaign_status.lock(session, campaign_id)
    if campaign.status is not CampaignStatus.SENDING or queries.open_count(session, campaign_id):
        return False
    campaign_status.transition(session, campaign_id, CampaignStatus.FINISHED, now=now)
    return True


def describe(session: Session, campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id, "name": campaign.name, "kind": campaign.kind.value, "topic": campaign.topic.value,
        "consent_required": campaign.consent_required, "segment": campaign.segment, "status": campaign.status.value,
        "from": campaign.from_address, "reply_to": campaign.reply_to, "default_language": campaign.default_language,
        "languages": [c.language for c in campaign.contents], "event_id": campaign.event_id,
        "rate_limit": campaign.rate_limit,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "started_at": campaign.started_at.isoformat() if campaign.started_at else None,
        "finished_at": campaign.finished_at.isoformat() if campaign.finished_at else None,
    }
