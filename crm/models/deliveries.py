"""Deliveries: one row per (campaign, contact); the send pipeline's ledger."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, UTCDateTime, bigintpk, created_at, str_enum


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting (or waiting for its retry time after a 4xx)
    CLAIMED = "claimed"  # in a worker's batch, under a lease; the batch's lowest may be in flight
    SENDING = "sending"  # written by earlier versions for the message in flight; still understood
    SENT = "sent"  # the server answered 250
    FAILED = "failed"  # 5xx, or 4xx until the attempts ran out
    SUPPRESSED = "suppressed"  # never sent: see suppression_reason
    UNKNOWN = "unknown"  # connection lost after DATA: maybe delivered, never resent blindly
    CANCELLED = "cancelled"  # the campaign was cancelled before this one went out


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        # Claims scan a campaign's open rows in id order.
        Index("ix_deliveries_claim", "campaign_id", "status", "id"),
    )

    id: Mapped[bigintpk]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    language: Mapped[str | None] = mapped_column(String(35))
    address: Mapped[str | None] = mapped_column(String(320))  # where it was sent
    message_id: Mapped[str | None] = mapped_column(String(250))
    suppression_reason: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when the row was resent after its worker died mid-transaction: a possible duplicate.
    resent_after_crash: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"


class Suppression(Base):
    """Addresses never to mail again (hard bounces, complaints), whoever the contact is."""

    __tablename__ = "suppressions"

    id: Mapped[bigintpk]
    address: Mapped[str] = mapped_column(String(320), unique=True)  # lower-cased
    reason: Mapped[SuppressionReason] = mapped_column(str_enum(SuppressionReason))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
