"""The demo's campaigns: the newsletter to its subscribers and an invitation to the next
debate, in French, English and Arabic, created like any animator's campaign."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.demo.data import CLUSTER
from crm.models import Event, EventKind
from crm.models.campaigns import Campaign
from crm.rendering import Renderer
from crm.settings import Settings

NEWSLETTER = {
    "fr": ("La lettre du cluster — {{ contact.first_name or 'bonjour' }}",
           "Bonjour {{ contact.first_name }},\n\nCe trimestre, **trois projets collaboratifs** ont été retenus "
           "et le prochain débat thématique porte sur l'eau en agriculture.\n\n"
           "- Appel à projets « Agri-Innov » : dépôt avant le 30 avril\n- Prix de l'innovation : candidatures ouvertes\n\n"
           "L'équipe d'animation"),
    "en": ("The cluster's newsletter — {{ contact.first_name or 'hello' }}",
           "Hello {{ contact.first_name }},\n\nThis quarter **three collaborative projects** were selected and the next "
           "thematic debate is about water in agriculture.\n\n- Call for projects \"Agri-Innov\": apply before 30 April\n"
           "- Innovation award: applications open\n\nThe animation team"),
    "ar": ("نشرة المجموعة",
           "مرحبا {{ contact.first_name }}،\n\nتم اختيار **ثلاثة مشاريع تعاونية** هذا الفصل، والنقاش الموضوعي القادم "
           "حول الماء في الزراعة.\n\n- دعوة لتقديم المشاريع: قبل 30 أبريل\n- جائزة الابتكار: الترشيحات مفتوحة\n\nفريق التنشيط"),
}

INVITATION = {
    "fr": ("Invitation : {{ event.title }}",
           "Bonjour {{ contact.first_name }},\n\nNous avons le plaisir de vous inviter au prochain rendez-vous du cluster. "
           "Merci de nous dire si vous serez des nôtres."),
    "en": ("Invitation: {{ event.title }}",
           "Hello {{ contact.first_name }},\n\nWe are pleased to invite you to the cluster's next meeting. "
           "Please let us know whether you will join us."),
    "ar": ("دعوة: {{ event.title }}",
           "مرحبا {{ contact.first_name }}،\n\nيسعدنا دعوتكم إلى الموعد القادم للمجموعة. نرجو إعلامنا بحضوركم."),
}


def _contents(texts: dict[str, tuple[str, str]]) -> list[campaigns.ContentInput]:
    return [campaigns.ContentInput(lang, subject, body) for lang, (subject, body) in texts.items()]


def create(session: Session, *, renderer: Any, from_address: str, from_name: str) -> list[int]:
    """Create (once) the demo's two campaigns; returns their ids."""
    existing = list(session.scalars(select(Campaign.id).where(Campaign.name.like("Demo:%")).order_by(Campaign.id)))
    if existing:
        return existing
    common = {"renderer": renderer, "from_address": from_address, "from_name": from_name, "default_language": "fr"}
    newsletter = campaigns.create(session, name="Demo: quarterly newsletter", kind=campaigns.kind("newsletter"),
                                  segment="newsletter_subscribers", contents=_contents(NEWSLETTER), **common)
    upcoming = session.scalar(
        select(Event).where(Event.starts_at > utcnow(), Event.kind == EventKind.THEMATIC_DEBATE).order_by(Event.starts_at)
    ) or session.scalar(select(Event).where(Event.starts_at > utcnow()).order_by(Event.starts_at))
    ids = [newsletter.id]
    if upcoming is not None:
        invitation = campaigns.create(
            session, name=f"Demo: invitation to {upcoming.title}"[:200], kind=campaigns.kind("invitation"),
            segment="(internal or target in (research, project_holder)) and consent(events)",
            contents=_contents(INVITATION), event_id=upcoming.id, **common,
        )
        ids.append(invitation.id)
    return ids


def settings_for(settings: Settings) -> Settings:
    """The settings the demo sends with: the name of the cluster it builds (messages' footer,
    and the sender's name), unless the person set CRM_CLUSTER_NAME (in the environment or
    ./.env) themselves. CRM_FROM_NAME, when set, still names the sender."""
    if "cluster_name" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"cluster_name": CLUSTER})


def prepare(session: Session, settings: Settings) -> tuple[list[int], list[int]]:
    """Create (once) and start the demo's campaigns, checked and signed as ``settings`` say
    (give it `settings_for`'s); returns every demo campaign and those now sending."""
    ids = create(session, renderer=Renderer.for_settings(settings), from_address=settings.from_address,
                 from_name=settings.sender_name)
    return ids, start(session, ids)


def start(session: Session, ids: list[int]) -> list[int]:
    """Start the demo campaigns not sent yet (a second `crm demo` sends nothing twice);
    returns those now sending, for the workers."""
    started = []
    for campaign_id in ids:
        if campaigns.get(session, campaign_id).status.value in ("finished", "cancelled"):
            continue
        campaigns.send(session, campaign_id)
        started.append(campaign_id)
    return started


def summary(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    return [campaigns.counts(session, i) | {"name": campaigns.get(session, i).name} for i in ids]
