"""Campaigns: what is sent, to which segment, in which languages, and where it stands."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Base, UTCDateTime, created_at, intpk, name_str, str_enum, updated_at
from crm.models.consent import ConsentTopic


class CampaignKind(enum.StrEnum):
    NEWSLETTER = "newsletter"
    INVITATION = "invitation"  # event invitation, with RSVP links
    PRESS_RELEASE = "press_release"
    CALL_FOR_PROJECTS = "call_for_projects"
    SURVEY = "survey"  # satisfaction survey invitation

    @property
    def topic(self) -> ConsentTopic:
        return _TOPICS[self]


_TOPICS = {
    CampaignKind.NEWSLETTER: ConsentTopic.NEWSLETTER,
    CampaignKind.INVITATION: ConsentTopic.EVENTS,
    CampaignKind.PRESS_RELEASE: ConsentTopic.PRESS,
    CampaignKind.CALL_FOR_PROJECTS: ConsentTopic.CALLS,
    CampaignKind.SURVEY: ConsentTopic.SURVEYS,
}


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[intpk]
    name: Mapped[name_str]
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind))
    topic: Mapped[ConsentTopic] = mapped_column(str_enum(ConsentTopic))
    # Consent required: only contacts whose latest choice for the topic is an opt-in.
    # Off for statutory mailings (general assembly convocations): opt-outs still apply.
    consent_required: Mapped[bool] = mapped_column(Boolean, default=True)
    segment: Mapped[str] = mapped_column(Text)  # a segment name or a rule, resolved at send time
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.DRAFT, index=True)
    # Why the campaign stopped by itself (paused: "cannot reach SMTP …"); cleared when it goes on.
    status_reason: Mapped[str | None] = mapped_column(Text)
    from_name: Mapped[str | None] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str | None] = mapped_column(String(320))
    default_language: Mapped[str] = mapped_column(String(35))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    survey_url: Mapped[str | None] = mapped_column(String(500))
    rate_limit: Mapped[float | None] = mapped_column(Float)  # messages per second, all workers together
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    contents: Mapped[list[CampaignContent]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignContent.language"
    )


class CampaignContent(Base):
    """The animator's text for one language: subject and body (Markdown or HTML)."""

    __tablename__ = "campaign_contents"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(35), primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10), default="markdown")

    campaign: Mapped[Campaign] = relationship(back_populates="contents")
