"""Interactions: visits, meetings, debates, calls … with the contacts who took part."""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Base, bigintpk, created_at, str_enum, utc_datetime
from crm.models.contacts import Contact
from crm.models.events import Event
from crm.models.organisations import Organisation


class InteractionKind(enum.StrEnum):
    VISIT = "visit"  # company visit
    MONTHLY_MEETING = "monthly_meeting"
    ANNUAL_MEETING = "annual_meeting"
    GENERAL_ASSEMBLY = "general_assembly"
    COMMISSION = "commission"
    STEERING_COMMITTEE = "steering_committee"
    THEMATIC_DEBATE = "thematic_debate"
    WORKSHOP = "workshop"
    EVENT_ATTENDANCE = "event_attendance"
    CALL = "call"
    EMAIL = "email"
    PRESS_CONTACT = "press_contact"


MEETING_KINDS = frozenset(
    {
        InteractionKind.MONTHLY_MEETING,
        InteractionKind.ANNUAL_MEETING,
        InteractionKind.GENERAL_ASSEMBLY,
        InteractionKind.COMMISSION,
        InteractionKind.STEERING_COMMITTEE,
    }
)

interaction_contacts = Table(
    "interaction_contacts",
    Base.metadata,
    Column("interaction_id", ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[bigintpk]
    kind: Mapped[InteractionKind] = mapped_column(str_enum(InteractionKind), index=True)
    occurred_at: Mapped[utc_datetime] = mapped_column(index=True)
    led_by: Mapped[str | None] = mapped_column(String(120))  # who from the cluster team
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    contacts: Mapped[list[Contact]] = relationship(secondary=interaction_contacts)
    organisation: Mapped[Organisation | None] = relationship()
    event: Mapped[Event | None] = relationship()
