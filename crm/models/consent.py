"""The consent log: every opt-in and opt-out, never edited in place."""

from __future__ import annotations

import enum


from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, bigintpk, str_enum, utc_datetime, utcnow


class ConsentTopic(enum.StrEnum):
    NEWSLETTER = "newsletter"
    EVENTS = "events"
    PRESS = "press"
    CALLS = "calls"  # calls for projects
    SURVEYS = "surveys"


class ConsentAction(enum.StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


class ConsentSource(enum.StrEnum):
    FORM = "form"  # public form + confirmation (double opt-in)
    IMPORT = "import"  # a file, with its name and line as proof
    ANIMATOR = "animator"  # recorded by a person of the cluster
    UNSUBSCRIBE = "unsubscribe"  # a List-Unsubscribe link or one-click POST
    API = "api"


class ConsentEvent(Base):
    __tablename__ = "consent_events"
    __table_args__ = (
        # The current consent is the latest event per (contact, topic): this index serves it.
        Index("ix_consent_events_latest", "contact_id", "topic", "at", "id"),
    )

    id: Mapped[bigintpk]
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    topic: Mapped[ConsentTopic] = mapped_column(str_enum(ConsentTopic))
    action: Mapped[ConsentAction] = mapped_column(str_enum(ConsentAction))
    at: Mapped[utc_datetime] = mapped_column(default=utcnow)
    source: Mapped[ConsentSource] = mapped_column(str_enum(ConsentSource))
    # What proves it: "contacts.csv:12", "form 2026-10-01 confirmed 2026-10-02", an animator's name.
    proof: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(120))

    def __repr__(self) -> str:
        return f"<ConsentEvent {self.contact_id} {self.topic} {self.action} {self.at:%Y-%m-%d}>"



