"""Claiming work under a lease, and taking it back from workers that died.

PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so concurrent
workers take disjoint batches without waiting. SQLite: the same conditional UPDATE; SQLite
runs one writer at a time, so two claims never see the same pending row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery
from crm.models.deliveries import DeliveryStatus as D

_T = Delivery.__table__


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int
    attempts: int
    resent_after_crash: bool


RESTART_GRACE = timedelta(seconds=15)  # > the ledger's longest pause between reconnects (3 s)


def due(now: datetime) -> ColumnElement[bool]:
    """SQL: a pending row whose (retry) time has come — what `claim_batch` takes."""
    return and_(_T.c.status == D.PENDING, or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= now))


def lease_expired(now: datetime) -> ColumnElement[bool]:
    """SQL: a leased row whose worker let its lease run out — what `reclaim_expired` takes back."""
    return and_(_T.c.status.in_([D.CLAIMED, D.SENDING]), _T.c.lease_expires_at <= now)


def reclaim_expired(session: Session, campaign_id: int, now: datetime, *, lease: timedelta | None = None,
                    unrecorded: int = 1) -> tuple[int, int]:
    """Take back the rows of batches whose worker let the lease run out (it died).

    A batch is sent in id order and each row stays `claimed` until its result is written,
    so the lowest open row of a dead batch (its lease owner) is the one message that may
    have been in flight: it may or may not have reached the server, and every recipient
    must get the message, so it is sent again and marked `resent_after_crash` — the only
    way a recipient can get two copies. (A worker that died before sending anything of the
    batch leaves that mark on a row never sent: the mark means "may have two copies".)
    The other rows were never attempted: back to pending. Returns (taken back, resent).
    `sending` rows come from versions that marked the message in flight explicitly; the
    same rule covers them.

    PostgreSQL: nothing is taken back in the first `RESTART_GRACE` after the server started,
    so that workers that held outcomes through the outage write them first. A batch whose
    worker died while the server itself crashed (its lease, ``lease`` long, was set before
    the server started) may have lost its last ``unrecorded`` results, committed without
    waiting for the disk (`Ledger`): its lowest ``unrecorded`` open rows are marked.
    """
    expired = and_(_T.c.campaign_id == campaign_id, _T.c.lease_expires_at < now, _T.c.status.in_([D.CLAIMED, D.SENDING]))
    marked: ColumnElement[int] = literal(1)
    if session.get_bind().dialect.name == "postgresql":
        started = func.pg_postmaster_start_time()
        expired = and_(expired, started < now - RESTART_GRACE)
        if lease is not None and unrecorded > 1:
            marked = case((_T.c.lease_expires_at < started + lease, unrecorded), else_=1)
    rank = func.row_number().over(partition_by=_T.c.lease_owner, order_by=_T.c.id)
    ranked = select(_T.c.id, rank.label("rank"), marked.label("marked")).where(expired).subquery()
    may_have_gone = select(ranked.c.id).where(ranked.c.rank <= ranked.c.marked)
    in_flight = session.execute(
        update(_T)
        .where(_T.c.id.in_(may_have_gone.scalar_subquery()), expired)
        .values(status=D.PENDING, lease_owner=None, lease_expires_at=None, resent_after_crash=True,
                attempts=_T.c.attempts + 1)
    ).rowcount
    others = session.execute(
        update(_T).where(expired).values(status=D.PENDING, lease_owner=None, lease_expires_at=None)
    ).rowcount
    return others + in_flight, in_flight


def claim_batch(
    session: Session, campaign: Campaign, *, worker: str, size: int, lease: timedelta, now: datetime
) -> list[Claimed]:
    """Lease up to ``size`` due rows to ``worker``, in id order.

    Whether each row may still be sent is not decided here but in the statement that
    starts its message (`Ledger.start`), the latest possible moment: an opt-out committed
    while the batch is being sent stops the messages after it. (A bulk check here, a CASE of
    EXISTS tests over the batch, cost PostgreSQL 26–85 ms a batch, as much as sending it.)
    """
    batch = select(_T.c.id).where(_T.c.campaign_id == campaign.id, due(now)).order_by(_T.c.id).limit(size)
    if session.get_bind().dialect.name == "postgresql":
        batch = batch.with_for_update(skip_locked=True)
    rows = session.execute(
        update(_T)
        .where(_T.c.id.in_(batch.scalar_subquery()))
        .values(status=D.CLAIMED, lease_owner=worker, lease_expires_at=now + lease)
        .returning(_T.c.id, _T.c.contact_id, _T.c.attempts, _T.c.resent_after_crash)
    ).all()
    if not rows:
        return []
    return sorted((Claimed(r.id, r.contact_id, r.attempts, r.resent_after_crash) for r in rows), key=lambda c: c.id)


def extend_lease(session: Session | Connection, worker: str, ids: list[int], until: datetime) -> None:
    if ids:
        session.execute(
            update(_T).where(_T.c.id.in_(ids), _T.c.lease_owner == worker, _T.c.status.in_([D.CLAIMED, D.SENDING])).values(lease_expires_at=until)
        )


def release(session: Session | Connection, worker: str, ids: list[int]) -> int:
    """Give unattempted rows back (pause, cancel, shutdown)."""
    if not ids:
        return 0
    return session.execute(
        update(_T)
        .where(_T.c.id.in_(ids), _T.c.lease_owner == worker, _T.c.status == D.CLAIMED)
        .values(status=D.PENDING, lease_owner=None, lease_expires_at=None)
    ).rowcount


def undelay(session: Session, campaign_id: int, last_error: str) -> int:
    """Make the rows given back because the server could not be reached (``last_error``)
    due again now: they were never attempted, and the campaign is resumed by hand."""
    return session.execute(
        update(_T)
        .where(_T.c.campaign_id == campaign_id, _T.c.status == D.PENDING, _T.c.last_error == last_error)
        .values(next_attempt_at=None)
    ).rowcount
