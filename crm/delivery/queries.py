"""Every statement on the deliveries table, each named with why it exists (as listmonk names
its queries in queries.sql).

A row's life: `materialise` inserts it pending (or suppressed); `claim_batch` leases it to a
worker's batch; the ledger writes its outcome (`may_send`, `suppress_ineligible`,
`mark_sent`, `write_outcome`); `reclaim_expired` takes it back from a worker that died;
`cancel_unsent` closes it when the campaign is cancelled. The counts that say where a
campaign stands (`tally`, `open_work`, `needing_workers`) read the same statuses.

A lease ends at ``lease_expires_at``: from that instant on it has expired (`lease_expired`
is ``<= now``, as a retry is due at ``next_attempt_at <= now``), and a lease is live only
while ``lease_expires_at > now``. Every statement here that asks about leases uses these two.

PostgreSQL: `claim_batch` is `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so
concurrent workers take disjoint batches without waiting. SQLite: the same conditional
UPDATE; SQLite runs one writer at a time, so two claims never see the same pending row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (Boolean, Integer, String, and_, bindparam, case, exists, func, insert, literal, or_, select,
                        update)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select, Update

from crm.db import UTCDateTime
from crm.delivery import eligibility
from crm.models.campaigns import Campaign, CampaignStatus
from crm.models.deliveries import Delivery
from crm.models.deliveries import DeliveryStatus as D

_T = Delivery.__table__

LEASED = (D.CLAIMED, D.SENDING)  # held by a worker's batch (`sending`: the in-flight mark of earlier versions)
OPEN = (D.PENDING, *LEASED)  # no outcome yet: the campaign's work is not done
# What the server did with a message is recorded even if the campaign was cancelled while it
# was in flight (`cancel_unsent` leaves the row's lease owner): it was sent, or may have been.
HEARD_BACK = (D.CLAIMED, D.CANCELLED)
# After a database outage the lease may have run out and the row gone back to the queue
# (`pending`) or to another worker (`claimed` by it): a 250 or an unknown outcome we hold
# is recorded all the same, so that nobody sends it again.
AFTER_OUTAGE = (D.CLAIMED, D.CANCELLED, D.PENDING)
RESTART_GRACE = timedelta(seconds=15)  # > the ledger's longest pause between reconnects (3 s)


@dataclass(frozen=True)
class Claimed:
    id: int
    contact_id: int
    attempts: int
    resent_after_crash: bool


# ---- a campaign's rows ------------------------------------------------------------------------

def materialise(session: Session, campaign: Campaign, members: Select[Any], now: datetime) -> int:
    """Insert one pending row per contact id of ``members`` (the compiled segment) who has
    none for this campaign yet, then suppress, with their reason, the rows that may not be
    sent; returns how many rows were added.

    Set-based: the database evaluates the segment, nobody is looped over in Python. Contacts
    who already have a row are left alone, so running it twice (a double `send`) adds nobody
    twice — the unique (campaign, contact) index would refuse it anyway. The send re-checks
    every row again, in the statement that starts its message (`may_send`).
    """
    campaign_id = campaign.id
    people = members.subquery()
    already = aliased(Delivery)
    source = select(
        literal(campaign_id, Integer()),
        people.c[0],
        literal(D.PENDING.value, String()),
        literal(0, Integer()),
        literal(False, Boolean()),
        literal(now, UTCDateTime()),
    ).where(~exists().where(and_(already.campaign_id == campaign_id, already.contact_id == people.c[0]))).order_by(people.c[0])
    before = _count(session, campaign_id)
    session.execute(
        insert(_T).from_select(["campaign_id", "contact_id", "status", "attempts", "resent_after_crash", "created_at"], source)
    )
    why = eligibility.reason(campaign, _T.c.contact_id)
    session.execute(
        update(_T).where(_T.c.campaign_id == campaign_id, _T.c.status == D.PENDING, why.is_not(None))
        .values(status=D.SUPPRESSED, suppression_reason=why)
    )
    return _count(session, campaign_id) - before  # psycopg reports no rowcount for INSERT … SELECT


def _count(session: Session, campaign_id: int) -> int:
    """How many rows the campaign has (materialise's before and after)."""
    return session.scalar(select(func.count()).select_from(_T).where(_T.c.campaign_id == campaign_id)) or 0


def tally(session: Session, campaign_id: int) -> tuple[dict[D, int], int]:
    """The campaign's rows per status, and how many were resent after a crash: `status`'s figures."""
    by_status = dict(session.execute(
        select(_T.c.status, func.count()).where(_T.c.campaign_id == campaign_id).group_by(_T.c.status)).all())
    resent = session.scalar(
        select(func.count()).select_from(_T).where(_T.c.campaign_id == campaign_id, _T.c.resent_after_crash.is_(True))
    ) or 0
    return by_status, resent


def cancel_unsent(session: Session, campaign_id: int) -> int:
    """Cancel every row not sent yet. A leased row keeps its lease owner: the one message a
    worker may have in flight still gets its result recorded (`HEARD_BACK`)."""
    return session.execute(
        update(_T).where(_T.c.campaign_id == campaign_id, _T.c.status.in_([D.PENDING, D.CLAIMED]))
        .values(status=D.CANCELLED, lease_expires_at=None)
    ).rowcount


def open_count(session: Session, campaign_id: int) -> int:
    """How many rows have no outcome yet: none means the campaign's work is done."""
    return session.scalar(
        select(func.count()).select_from(_T).where(_T.c.campaign_id == campaign_id, _T.c.status.in_(OPEN))
    ) or 0


def open_work(session: Session, campaign_id: int, now: datetime) -> tuple[int, datetime | None]:
    """How many rows are still open, and when the earliest of them can move again (a retry's
    time, or the end of another worker's lease): when a worker with nothing to claim looks again."""
    retry_due = session.scalar(
        select(func.min(_T.c.next_attempt_at)).where(
            _T.c.campaign_id == campaign_id, _T.c.status == D.PENDING, _T.c.next_attempt_at > now)
    )
    lease_due = session.scalar(
        select(func.min(_T.c.lease_expires_at)).where(_T.c.campaign_id == campaign_id, _T.c.status.in_(LEASED))
    )
    dues = [d for d in (retry_due, lease_due) if d is not None]
    return open_count(session, campaign_id), min(dues) if dues else None


def needing_workers(session: Session, now: datetime) -> list[int]:
    """Sending campaigns with work due now and no live lease (nobody on them: their queue
    message was lost), or with no open row left (finished, not yet marked so)."""
    live = exists().where(_T.c.campaign_id == Campaign.id, _T.c.status.in_(LEASED), _T.c.lease_expires_at > now)
    due_now = exists().where(_T.c.campaign_id == Campaign.id, or_(due(now), lease_expired(now)))
    finished_unmarked = ~exists().where(_T.c.campaign_id == Campaign.id, _T.c.status.in_(OPEN))
    query = select(Campaign.id).where(Campaign.status == CampaignStatus.SENDING,
                                      or_(and_(due_now, ~live), finished_unmarked))
    return list(session.scalars(query.order_by(Campaign.id)))


# ---- leases -----------------------------------------------------------------------------------

def due(now: datetime) -> ColumnElement[bool]:
    """SQL: a pending row whose (retry) time has come — what `claim_batch` takes."""
    return and_(_T.c.status == D.PENDING, or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= now))


def lease_expired(now: datetime) -> ColumnElement[bool]:
    """SQL: a leased row whose worker let its lease run out — what `reclaim_expired` takes back."""
    return and_(_T.c.status.in_(LEASED), _T.c.lease_expires_at <= now)


def claim_batch(
    session: Session, campaign: Campaign, *, worker: str, size: int, lease: timedelta, now: datetime
) -> list[Claimed]:
    """Lease up to ``size`` due rows to ``worker``, in id order.

    Whether each row may still be sent is not decided here but in the statement that
    starts its message (`may_send`), the latest possible moment: an opt-out committed
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
    expired = and_(_T.c.campaign_id == campaign_id, lease_expired(now))
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


def extend_lease(session: Session | Connection, worker: str, ids: list[int], until: datetime) -> None:
    """Push the lease of a batch's rows still to send, so no other worker takes them meanwhile."""
    if ids:
        session.execute(
            update(_T).where(_T.c.id.in_(ids), _T.c.lease_owner == worker, _T.c.status.in_(LEASED)).values(lease_expires_at=until)
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


# ---- one message's outcome (the ledger builds these once per batch) ---------------------------

def _ours() -> tuple[ColumnElement[bool], ...]:
    """The row ``row_id``, still in flight in the batch of ``owner``."""
    return _T.c.id == bindparam("row_id"), _T.c.status == D.CLAIMED, _T.c.lease_owner == bindparam("owner")


def _still_sending(campaign: Campaign) -> ColumnElement[bool]:
    """The campaign has not been paused or cancelled meanwhile: its messages may still go."""
    return exists().where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.SENDING)


def may_send(campaign: Campaign) -> Select[Any]:
    """SELECT: may ``row_id`` go now — still the batch's, the campaign still sending, the
    contact still eligible? A read, not a write: the row stays `claimed` (in flight) until
    its result is written."""
    return select(_T.c.id).where(*_ours(), _still_sending(campaign), eligibility.eligible(campaign, _T.c.contact_id))


def suppress_ineligible(campaign: Campaign) -> Update:
    """UPDATE: ``row_id``, refused by `may_send`, is suppressed with the reason (unsubscribed,
    bounced … since the materialisation); a row no longer the batch's, or of a campaign that
    stopped sending, is left as it is."""
    why = eligibility.reason(campaign, _T.c.contact_id)
    return (update(_T).where(*_ours(), why.is_not(None), _still_sending(campaign))
            .values(status=D.SUPPRESSED, suppression_reason=why, lease_owner=None, lease_expires_at=None))


def mark_sent(id_param: str, *, after_outage: bool = False) -> Update:
    """UPDATE: the row ``id_param`` (ours, in flight) got its 250; ``after_outage``: whoever
    holds it now (`AFTER_OUTAGE`), so that nobody sends it again."""
    # not IN (…): an expanding parameter cannot go through the prepared DBAPI statement
    which = (or_(*(_T.c.status == status for status in AFTER_OUTAGE)),) if after_outage else (
        _T.c.lease_owner == bindparam("owner"), or_(*(_T.c.status == status for status in HEARD_BACK)))
    return (
        update(_T)
        .where(_T.c.id == bindparam(id_param), *which)
        .values(status=D.SENT, sent_at=bindparam("at"), message_id=bindparam("mid"), address=bindparam("addr"),
                language=bindparam("lang"), attempts=_T.c.attempts + 1, last_error=None, lease_owner=None,
                lease_expires_at=None)
    )


def sent_twice() -> Update:
    """UPDATE: after an outage, a 250 we hold for ``row_id``, which someone else has meanwhile
    sent too (another time): two copies went, the row says so."""
    return (update(_T).where(_T.c.id == bindparam("row_id"), _T.c.status == D.SENT,
                             or_(_T.c.sent_at.is_(None), _T.c.sent_at != bindparam("at")))
            .values(resent_after_crash=True))


def sent_then_may_send(check: Select[Any], dialect: Any) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: one statement that records ``prev_id`` as sent and asks ``check`` (the
    batch's `may_send`) about ``row_id`` (a data-modifying WITH runs whether or not it is
    read): one round trip per message. Compiled once, with its constant parameters (statuses,
    topic …), for the ledger to run as a prepared statement on the DBAPI cursor, skipping
    SQLAlchemy's per-call work."""
    combined = check.add_cte(mark_sent("prev_id").returning(_T.c.id).cte("recorded"))
    compiled = combined.compile(dialect=dialect)
    return str(compiled), compiled.construct_params(_check=False)


def write_outcome(row_id: int, values: dict[str, Any], *, owner: str | None, heard_back: bool = False) -> Update:
    """UPDATE: any outcome but a 250 (a retry, a failure, an unknown, a suppression, a row given
    back) for ``row_id``, while the batch of ``owner`` still holds it (``heard_back``: or the
    campaign was cancelled under it). ``owner`` None: an unknown outcome after an outage,
    written whoever holds the row now (`AFTER_OUTAGE`), so that nobody sends it blindly again."""
    if owner is None:
        which: tuple[ColumnElement[bool], ...] = (_T.c.status.in_(AFTER_OUTAGE),)
    else:
        which = (_T.c.lease_owner == owner, _T.c.status.in_(HEARD_BACK if heard_back else (D.CLAIMED,)))
    return update(_T).where(_T.c.id == row_id, *which).values(**values)


# One synchronous commit flushes the write-ahead log up to it, and with it every earlier
# asynchronous commit. PostgreSQL waits for the disk only for a transaction that wrote to
# the log, so it rewrites one row (the last outcome's, unchanged); a transaction that only
# took an id (txid_current()) commits without waiting, which would make this a no-op.
CHECKPOINT = ("BEGIN; SET LOCAL synchronous_commit TO ON; "
              "UPDATE deliveries SET attempts = attempts WHERE id = {row_id:d}; COMMIT")
