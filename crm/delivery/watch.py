"""Keeping campaigns moving when queue messages are lost (a Redis restart without
persistence, a worker killed with its message): find the campaigns that have due work and
nobody on them, and start the scheduled campaigns whose time has come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.delivery import claim
from crm.models.campaigns import Campaign, CampaignStatus
from crm.models.deliveries import Delivery, DeliveryStatus as D

_LEASED = (D.CLAIMED, D.SENDING)


def needing_workers(session: Session, now: datetime | None = None) -> list[int]:
    """Sending campaigns with work due now and no live lease (no worker on them)."""
    now = now or utcnow()
    live = exists().where(Delivery.campaign_id == Campaign.id, Delivery.status.in_(_LEASED), Delivery.lease_expires_at > now)
    due = exists().where(Delivery.campaign_id == Campaign.id, or_(claim.due(now), claim.lease_expired(now)))
    finished_unmarked = ~exists().where(Delivery.campaign_id == Campaign.id, Delivery.status.in_((D.PENDING, *_LEASED)))
    query = select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING, or_(and_(due, ~live), finished_unmarked))
    return list(session.scalars(query.order_by(Campaign.id)))


def start_scheduled(session: Session, now: datetime | None = None) -> list[int]:
    """Send the scheduled campaigns that are due (idempotent: `send` is a no-op twice)."""
    now = now or utcnow()
    started = []
    for campaign_id in campaigns.due(session, now):
        campaigns.send(session, campaign_id, now=now)
        started.append(campaign_id)
    return started
