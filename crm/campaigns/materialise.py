"""One delivery row per (campaign, contact), set-based: INSERT … SELECT from the segment,
then one UPDATE that suppresses, with their reason, the rows that may not be sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from crm.db import UTCDateTime
from crm.delivery import eligibility
from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery, DeliveryStatus
from crm.segments import service as segments


def materialise(session: Session, campaign: Campaign, now: datetime) -> int:
    """Insert the deliveries of everybody in the segment now; returns how many were added.

    The segment is compiled once and evaluated by the database; nobody is looped over in
    Python. Contacts that already have a row for this campaign are left alone, so running
    it twice (a double `send`) adds nobody twice — the unique (campaign, contact) index
    would refuse it anyway.

    Rows that may not be sent now (no address, suppressed address, opted out, no consent)
    are marked suppressed with their reason in one statement for the whole campaign; the
    send re-checks every row again, in the statement that starts its message.
    """
    campaign_id = campaign.id
    rule = segments.resolve(session, campaign.segment)
    members = segments.contact_ids_query(rule, now=now).subquery()
    already = aliased(Delivery)
    source = select(
        literal(campaign_id, Integer()),
        members.c[0],
        literal(DeliveryStatus.PENDING.value, String()),
        literal(0, Integer()),
        literal(False, Boolean()),
        literal(now, UTCDateTime()),
    ).where(~exists().where(and_(already.campaign_id == campaign_id, already.contact_id == members.c[0]))).order_by(members.c[0])
    before = _count(session, campaign_id)
    session.execute(
        insert(Delivery.__table__).from_select(
            ["campaign_id", "contact_id", "status", "attempts", "resent_after_crash", "created_at"], source
        )
    )
    why = eligibility.reason(campaign, Delivery.contact_id)
    session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.PENDING, why.is_not(None))
        .values(status=DeliveryStatus.SUPPRESSED, suppression_reason=why)
        .execution_options(synchronize_session=False)
    )
    return _count(session, campaign_id) - before  # psycopg reports no rowcount for INSERT … SELECT


def _count(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Delivery).where(Delivery.campaign_id == campaign_id)) or 0



