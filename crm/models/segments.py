"""Saved segments: a name for a rule. Membership is computed at use time, never stored."""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, created_at, intpk, short_str, text


class Segment(Base):
    __tablename__ = "segments"

    id: Mapped[intpk]
    # A lower-case slug ("agrifood_skeptics"): unique, and typed as-is on the command line.
    name: Mapped[short_str] = mapped_column(unique=True)
    rule: Mapped[text]  # the rule's canonical text (crm.segments.to_text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    def __repr__(self) -> str:
        return f"<Segment {self.name!r}: {self.rule}>"
