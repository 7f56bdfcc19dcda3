"""Perception assessments (credibility x interest); the segment is derived, never stored."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, bigintpk, created_at, str_enum, utc_datetime


class Level(enum.StrEnum):
    HIGH = "high"
    LOW = "low"
    UNKNOWN = "unknown"


class PerceptionSegment(enum.StrEnum):
    """The seeds' four perception segments, plus "no opinion"."""

    OPPONENT = "opponent"  # not credible, no interest
    INDIFFERENT = "indifferent"  # credible, no interest
    SKEPTIC = "skeptic"  # not credible, interesting
    ACQUIRED = "acquired"  # credible and interesting
    NO_OPINION = "no_opinion"

    @classmethod
    def of(cls, credibility: Level, interest: Level) -> PerceptionSegment:
        if Level.UNKNOWN in (credibility, interest):
            return cls.NO_OPINION
        return _SEGMENTS[(credibility, interest)]


_SEGMENTS = {
    (Level.LOW, Level.LOW): PerceptionSegment.OPPONENT,
    (Level.HIGH, Level.LOW): PerceptionSegment.INDIFFERENT,
    (Level.LOW, Level.HIGH): PerceptionSegment.SKEPTIC,
    (Level.HIGH, Level.HIGH): PerceptionSegment.ACQUIRED,
}


class AssessmentSource(enum.StrEnum):
    SURVEY = "survey"
    VISIT = "visit"
    MEETING = "meeting"
    ANIMATOR = "animator"  # the animator's own judgement


class PerceptionAssessment(Base):
    __tablename__ = "perception_assessments"
    __table_args__ = (Index("ix_perception_assessments_latest", "contact_id", "assessed_at", "id"),)

    id: Mapped[bigintpk]
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    credibility: Mapped[Level] = mapped_column(str_enum(Level))
    interest: Mapped[Level] = mapped_column(str_enum(Level))
    assessed_at: Mapped[utc_datetime]
    source: Mapped[AssessmentSource] = mapped_column(str_enum(AssessmentSource))
    author: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    @property
    def segment(self) -> PerceptionSegment:
        return PerceptionSegment.of(self.credibility, self.interest)
