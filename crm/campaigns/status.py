"""The one function that moves a campaign from one status to another (listmonk style).

Every change of `Campaign.status` goes through `transition`, which locks the row, checks
the move against `ALLOWED`, stamps the times, and returns the previous status. A move to
the status the campaign already has is a no-op (a double `send` is harmless).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.db import utcnow
from crm.errors import Conflict, NotFound
from crm.models.campaigns import Campaign, CampaignStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.SENDING, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.DRAFT, S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.PAUSED, S.FINISHED, S.CANCELLED}),
    S.PAUSED: frozenset({S.SENDING, S.CANCELLED}),
    S.FINISHED: frozenset(),
    S.CANCELLED: frozenset(),
}


def lock(session: Session, campaign_id: int) -> Campaign:
    """The campaign row, locked for this transaction (PostgreSQL; SQLite serialises writers)."""
    if not 0 < campaign_id < 2**63:  # names nothing; the database would refuse the query
        raise NotFound(f"no campaign {campaign_id}")
    campaign = session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def transition(session: Session, campaign_id: int, to: S, *, now: datetime | None = None) -> tuple[Campaign, S]:
    campaign = lock(session, campaign_id)
    before = campaign.status
    if before is to:
        return campaign, before
    if to not in ALLOWED[before]:
        raise Conflict(f"campaign {campaign_id} is {before.value}: it cannot become {to.value}")
    now = now or utcnow()
    campaign.status = to
    if to is S.SENDING and campaign.started_at is None:
        campaign.started_at = now
    if to in (S.FINISHED, S.CANCELLED):
        campaign.finished_at = now
    if to is S.DRAFT:
        campaign.scheduled_at = None
    session.flush()
    return campaign, before
