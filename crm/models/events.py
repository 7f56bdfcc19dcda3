"""The cluster's calendar."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, created_at, intpk, name_str, str_enum, utc_datetime


class EventKind(enum.StrEnum):
    THEMATIC_DEBATE = "thematic_debate"
    MONTHLY_MEETING = "monthly_meeting"
    ANNUAL_MEETING = "annual_meeting"
    GENERAL_ASSEMBLY = "general_assembly"
    COMPANY_VISIT = "company_visit"
    REGIONAL_MEETING = "regional_meeting"
    AWARD_CEREMONY = "award_ceremony"
    WORKSHOP = "workshop"
    TEAM_BUILDING = "team_building"
    PRESS_CONFERENCE = "press_conference"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="positive_capacity"),
    )

    id: Mapped[intpk]
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    title: Mapped[name_str]
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[utc_datetime] = mapped_column(index=True)  # stored UTC
    ends_at: Mapped[utc_datetime]
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name the times were given in
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    organiser: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[created_at]
