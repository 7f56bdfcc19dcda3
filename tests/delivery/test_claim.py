"""Claiming under a lease, extending it, giving rows back and taking them back from dead
workers; and who may still receive a campaign (eligibility). The claim functions are
called directly on real databases (SQLite and PostgreSQL), with the times they are given."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import false, func, select, text, update
from sqlalchemy.orm import Session

from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.delivery import eligibility, queries
from crm.mail.outbox import OutboxTransport
from crm.mail.transport import SendResult
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact
from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery, DeliveryStatus, Suppression, SuppressionReason
from crm.store import Store
from tests.support import delivery as h

_domains = itertools.count(1)


@pytest.fixture(scope="module")
def shared(backend: str, databases: Any) -> Any:  # noqa: ANN401
    """One migrated database per backend for the whole module; each test makes its own campaign."""
    s = h.open_store(databases.url(backend))
    yield s
    s.close()


def _campaign(store: Store, contacts: int, **options: Any) -> tuple[int, list[int]]:
    """A sending newsletter to ``contacts`` new consenting contacts; returns (campaign id,
    delivery ids in id order)."""
    ids = h.add_contacts(store, contacts, domain=f"c{next(_domains)}-{time.monotonic_ns()}.example.org")
    campaign_id = h.newsletter(store, **options)
    with store.transaction() as session:
        campaigns.send(session, campaign_id)
        # other tests' contacts are in the segment too: keep only this test's rows open
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id, Delivery.contact_id.not_in(ids))
                        .values(status="cancelled"))
        rows = list(session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign_id,
                                                              Delivery.contact_id.in_(ids)).order_by(Delivery.id)))
    return campaign_id, rows


def _rows(session: Session, ids: list[int]) -> list[Delivery]:
    session.expire_all()
    return list(session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)))


def _claim(store: Store, campaign_id: int, worker: str, size: int, *, now: datetime,
           lease: timedelta = timedelta(seconds=30)) -> list[queries.Claimed]:
    with store.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        return queries.claim_batch(session, campaign, worker=worker, size=size, lease=lease, now=now)


# ---- materialise ------------------------------------------------------------------------------

def test_materialise_adds_each_member_once_and_only_the_new_ones_again(store: Store) -> None:
    """One pending row per member, stamped with the time given (in any zone: stored as its
    UTC instant); run again, it adds only the members who have no row yet (a contact who
    joined the segment), never a second row. Its suppression touches only this campaign's
    pending rows: not a row already sent to somebody who has opted out since, nor another
    campaign's row (that campaign may need no consent)."""
    from zoneinfo import ZoneInfo

    from crm import consent
    from crm.segments import service as segments

    first = h.add_contacts(store, 3, domain="m.example.org")
    statutory = h.newsletter(store, segment="email_domain = o.example.org", consent_required=False)
    h.add_contacts(store, 1, start=10, domain="o.example.org", consent=False)
    h.start(store, statutory)
    campaign_id = h.newsletter(store, segment="email_domain = m.example.org")
    now = utcnow().astimezone(ZoneInfo("Europe/Paris")) - timedelta(minutes=7)
    members = segments.contact_ids_query("email_domain = m.example.org", now=now)
    with store.transaction() as session:
        assert queries.materialise(session, session.get(Campaign, campaign_id), members, now) == 3
        assert queries.materialise(session, session.get(Campaign, campaign_id), members, now) == 0
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id, Delivery.contact_id == first[0])
                        .values(status=DeliveryStatus.SENT))
        consent.record(session, first[0], ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
    later = h.add_contacts(store, 1, start=3, domain="m.example.org")
    with store.transaction() as session:
        assert queries.materialise(session, session.get(Campaign, campaign_id), members, now + timedelta(minutes=1)) == 1
        rows = session.execute(select(Delivery.contact_id, Delivery.status, Delivery.attempts, Delivery.resent_after_crash,
                                      Delivery.created_at).where(Delivery.campaign_id == campaign_id)
                               .order_by(Delivery.contact_id)).all()
        other = session.scalars(select(Delivery.status).where(Delivery.campaign_id == statutory)).all()
    pending = DeliveryStatus.PENDING
    assert [tuple(r) for r in rows] == [(first[0], DeliveryStatus.SENT, 0, False, now)] + [
        (c, pending, 0, False, now) for c in first[1:]] + [(later[0], pending, 0, False, now + timedelta(minutes=1))]
    assert other == [pending]


# ---- claim_batch ------------------------------------------------------------------------------

def test_claim_batch_leases_the_lowest_due_rows_in_id_order(shared: Store, backend: str) -> None:
    campaign_id, ids = _campaign(shared, 6)
    now = utcnow()
    with shared.transaction() as session:
        # row 0: a retry not due yet; row 1: due exactly now; row 2: already sent
        session.execute(update(Delivery).where(Delivery.id == ids[0]).values(next_attempt_at=now + timedelta(seconds=1)))
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(next_attempt_at=now, attempts=2,
                                                                             resent_after_crash=True))
        session.execute(update(Delivery).where(Delivery.id == ids[2]).values(status="sent"))
    with shared.transaction() as session:
        if backend == "postgresql":  # whatever plan is chosen: here a plain scan, rows in storage order
            session.execute(text("SET LOCAL enable_indexscan = off"))
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
        batch = queries.claim_batch(session, session.get(Campaign, campaign_id), worker="w#1", size=2,
                                  lease=timedelta(seconds=30), now=now)
    assert batch == [queries.Claimed(ids[1], batch[0].contact_id, 2, True), queries.Claimed(ids[3], batch[1].contact_id, 0, False)]
    with shared.transaction() as session:
        rows = _rows(session, ids)
        contacts = {r.id: r.contact_id for r in rows}
        assert [b.contact_id for b in batch] == [contacts[ids[1]], contacts[ids[3]]]
        assert [(r.status.value, r.lease_owner, r.lease_expires_at) for r in rows] == [
            ("pending", None, None),
            ("claimed", "w#1", now + timedelta(seconds=30)),
            ("sent", None, None),
            ("claimed", "w#1", now + timedelta(seconds=30)),
            ("pending", None, None),
            ("pending", None, None),
        ]
    rest = _claim(shared, campaign_id, "w#2", 10, now=now)
    assert [c.id for c in rest] == [ids[4], ids[5]]  # the leased rows are not claimed again
    assert _claim(shared, campaign_id, "w#3", 10, now=now) == []
    # the retry comes due
    assert [c.id for c in _claim(shared, campaign_id, "w#4", 10, now=now + timedelta(seconds=1))] == [ids[0]]


def test_claim_batch_takes_only_its_campaigns_rows(shared: Store) -> None:
    first, first_ids = _campaign(shared, 2)
    second, second_ids = _campaign(shared, 2)
    assert [c.id for c in _claim(shared, second, "w#1", 10, now=utcnow())] == second_ids
    assert [c.id for c in _claim(shared, first, "w#2", 10, now=utcnow())] == first_ids


def test_two_workers_claim_disjoint_batches_without_waiting(shared: Store, backend: str) -> None:
    """PostgreSQL: a batch claimed in a transaction not yet committed is skipped by the next
    claim (SKIP LOCKED), which neither waits for it nor takes the same rows."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    campaign_id, ids = _campaign(shared, 4)
    with shared.sessions() as first, shared.sessions() as second:
        campaign = first.get(Campaign, campaign_id)
        a = queries.claim_batch(first, campaign, worker="a#1", size=2, lease=timedelta(seconds=30), now=utcnow())
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        b = queries.claim_batch(second, second.get(Campaign, campaign_id), worker="b#1", size=2,
                              lease=timedelta(seconds=30), now=utcnow())
        first.commit()
        second.commit()
    assert ([c.id for c in a], [c.id for c in b]) == (ids[:2], ids[2:])


# ---- due, lease_expired -----------------------------------------------------------------------

def test_due_and_lease_expired_select_exactly_the_rows_that_can_move(shared: Store) -> None:
    campaign_id, ids = _campaign(shared, 7)
    now = utcnow()
    second = timedelta(seconds=1)
    states = [
        {"status": "pending", "next_attempt_at": None},
        {"status": "pending", "next_attempt_at": now},
        {"status": "pending", "next_attempt_at": now + second},
        {"status": "claimed", "lease_expires_at": now},
        {"status": "sending", "lease_expires_at": now - second},
        {"status": "claimed", "lease_expires_at": now + second},
        {"status": "sent", "lease_expires_at": now - second},
    ]
    with shared.transaction() as session:
        for row_id, values in zip(ids, states, strict=True):
            session.execute(update(Delivery).where(Delivery.id == row_id).values(**values))
        mine = Delivery.id.in_(ids)
        due = set(session.scalars(select(Delivery.id).where(mine, queries.due(now))))
        expired = set(session.scalars(select(Delivery.id).where(mine, queries.lease_expired(now))))
    assert due == {ids[0], ids[1]}
    assert expired == {ids[3], ids[4]}


def test_needing_workers_finds_the_sending_campaigns_nobody_is_on(store: Store) -> None:
    """The watchdog's question, one campaign per answer: due work and no live lease (A: its
    queue message was lost; C: its worker died), or nothing open left (D: done, not yet
    marked finished). Not B (a worker holds a live lease), not E (nothing due before its
    retries), not F (paused). A lease end left on a row that is no longer leased (A's sent
    row) is no live lease; one campaign's live lease does not hide another's need."""
    h.add_contacts(store, 3)
    names = "ABCDEF"
    ids = {}
    for name in names:
        ids[name] = h.newsletter(store)
        h.start(store, ids[name])
    now = utcnow()
    with store.transaction() as session:
        def rows(name: str) -> list[int]:
            return list(session.scalars(select(Delivery.id).where(Delivery.campaign_id == ids[name]).order_by(Delivery.id)))

        def set_rows(row_ids: list[int], **values: Any) -> None:
            session.execute(update(Delivery).where(Delivery.id.in_(row_ids)).values(**values))

        set_rows(rows("A")[:1], status="sent", lease_expires_at=now + timedelta(hours=1))
        set_rows(rows("B")[:1], status="claimed", lease_owner="w#1", lease_expires_at=now + timedelta(seconds=30))
        set_rows(rows("C"), status="claimed", lease_owner="dead#1", lease_expires_at=now - timedelta(seconds=1))
        set_rows(rows("D"), status="sent")
        set_rows(rows("E"), next_attempt_at=now + timedelta(hours=1))
        campaigns.pause(session, ids["F"])
    with store.transaction() as session:
        assert queries.needing_workers(session, now) == [ids["A"], ids["C"], ids["D"]]


# ---- extend_lease, release, undelay -----------------------------------------------------------

def test_extend_lease_moves_only_the_workers_open_rows(shared: Store) -> None:
    campaign_id, ids = _campaign(shared, 5)
    now = utcnow()
    mine = _claim(shared, campaign_id, "w#1", 4, now=now, lease=timedelta(seconds=10))
    other = _claim(shared, campaign_id, "w#2", 1, now=now, lease=timedelta(seconds=10))
    until = now + timedelta(minutes=5)
    with shared.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(status="sending"))  # older versions' mark
        session.execute(update(Delivery).where(Delivery.id == ids[2]).values(status="sent"))
        queries.extend_lease(session, "w#1", [c.id for c in mine + other], until)
        queries.extend_lease(session, "w#1", [], until + timedelta(hours=1))  # nothing to extend: nothing changes
        leases = [r.lease_expires_at for r in _rows(session, ids)]
        assert leases == [until, until, now + timedelta(seconds=10), until, now + timedelta(seconds=10)]
        # only the rows named: the batch's rows still to send, not those it has done with
        queries.extend_lease(session, "w#1", [ids[3]], until + timedelta(minutes=1))
        leases = [r.lease_expires_at for r in _rows(session, ids)]
    assert leases == [until, until, now + timedelta(seconds=10), until + timedelta(minutes=1), now + timedelta(seconds=10)]


def test_release_gives_back_only_the_workers_claimed_rows(shared: Store) -> None:
    campaign_id, ids = _campaign(shared, 5)
    now = utcnow()
    _claim(shared, campaign_id, "w#1", 3, now=now)
    _claim(shared, campaign_id, "w#2", 1, now=now)
    with shared.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(status="sent"))
        assert queries.release(session, "w#1", []) == 0
        assert queries.release(session, "w#1", [ids[2]]) == 1  # only the rows named
        assert [r.status.value for r in _rows(session, ids[:3])] == ["claimed", "sent", "pending"]
        assert queries.release(session, "w#1", ids) == 1
        rows = _rows(session, ids)
    assert [(r.status.value, r.lease_owner, r.lease_expires_at) for r in rows] == [
        ("pending", None, None), ("sent", "w#1", now + timedelta(seconds=30)), ("pending", None, None),
        ("claimed", "w#2", now + timedelta(seconds=30)), ("pending", None, None)]


def test_undelay_makes_the_rows_given_back_for_that_reason_due_now(shared: Store) -> None:
    campaign_id, ids = _campaign(shared, 4)
    other_campaign, other_ids = _campaign(shared, 1)
    later = utcnow() + timedelta(hours=1)
    down = "smtp.example.org:25 unreachable"
    with shared.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id.in_(ids + other_ids)).values(next_attempt_at=later, last_error=down))
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(last_error="451 try later"))
        session.execute(update(Delivery).where(Delivery.id == ids[2]).values(status="failed"))
        assert queries.undelay(session, campaign_id, down) == 2
        rows = _rows(session, ids + other_ids)
    assert [(r.status.value, r.next_attempt_at) for r in rows] == [
        ("pending", None), ("pending", later), ("failed", later), ("pending", None), ("pending", later)]


# ---- reclaim_expired --------------------------------------------------------------------------

def _state(session: Session, ids: list[int]) -> list[tuple[str, str | None, bool, int]]:
    return [(r.status.value, r.lease_owner, r.resent_after_crash, r.attempts) for r in _rows(session, ids)]


def test_reclaim_takes_back_dead_batches_and_marks_the_lowest_open_row_of_each(shared: Store) -> None:
    campaign_id, ids = _campaign(shared, 8)
    now = utcnow()
    lease = timedelta(seconds=30)
    dead = _claim(shared, campaign_id, "dead#1", 3, now=now - timedelta(minutes=5), lease=lease)
    edge = _claim(shared, campaign_id, "edge#1", 2, now=now - lease + timedelta(microseconds=1), lease=lease)  # just after now
    idle = _claim(shared, campaign_id, "dead#2", 2, now=now - timedelta(minutes=5), lease=lease)
    assert [c.id for c in dead + edge + idle] == ids[:7]
    with shared.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == ids[0]).values(status="sent", lease_owner=None, attempts=1))
        session.execute(update(Delivery).where(Delivery.id == ids[1]).values(status="sending"))
        session.execute(update(Delivery).where(Delivery.id == ids[5]).values(attempts=2))
    other, other_ids = _campaign(shared, 1)
    _claim(shared, other, "dead#9", 1, now=now - timedelta(minutes=5), lease=lease)
    with shared.transaction() as session:
        assert queries.reclaim_expired(session, campaign_id, now) == (4, 2)
        assert _state(session, ids) == [
            ("sent", None, False, 1),
            ("pending", None, True, 1),  # dead#1's lowest open row: may have gone, sent again, marked
            ("pending", None, False, 0),
            ("claimed", "edge#1", False, 0),  # its lease runs out just after now
            ("claimed", "edge#1", False, 0),
            ("pending", None, True, 3),  # dead#2 sent nothing: its lowest row is marked all the same
            ("pending", None, False, 0),
            ("pending", None, False, 0),
        ]
        assert [(r.lease_expires_at, r.next_attempt_at) for r in _rows(session, [ids[1], ids[2], ids[5], ids[6]])] == [
            (None, None)] * 4
        assert _state(session, other_ids) == [("claimed", "dead#9", False, 0)]  # another campaign's: left alone
        assert queries.reclaim_expired(session, campaign_id, now) == (0, 0)
        assert queries.reclaim_expired(session, campaign_id, now + timedelta(microseconds=1)) == (2, 1)
        assert _state(session, ids[3:5]) == [("pending", None, True, 1), ("pending", None, False, 0)]


def test_a_lease_that_ends_exactly_now_has_expired_for_every_query(shared: Store) -> None:
    """``lease_expires_at == now``: the lease has run out (as a retry whose time is now is due).
    Every query that compares with a lease's end agrees: `lease_expired` and `reclaim_expired`
    take the row, `needing_workers` sees no live lease, and the time `open_work` gives to look
    again is the very instant the rows can be taken back."""
    campaign_id, ids = _campaign(shared, 2)
    now = utcnow()
    just_before = now - timedelta(microseconds=1)
    lease = timedelta(seconds=30)
    _claim(shared, campaign_id, "edge#1", 2, now=now - lease, lease=lease)
    with shared.transaction() as session:
        assert {r.lease_expires_at for r in _rows(session, ids)} == {now}
        mine = Delivery.id.in_(ids)
        assert set(session.scalars(select(Delivery.id).where(mine, queries.lease_expired(now)))) == set(ids)
        assert set(session.scalars(select(Delivery.id).where(mine, queries.lease_expired(just_before)))) == set()
        assert campaign_id not in queries.needing_workers(session, just_before)  # a live lease: its worker is on it
        assert campaign_id in queries.needing_workers(session, now)
        assert queries.open_work(session, campaign_id, just_before) == (2, now)
        assert queries.reclaim_expired(session, campaign_id, just_before) == (0, 0)
        assert queries.reclaim_expired(session, campaign_id, now) == (2, 1)
        assert _state(session, ids) == [("pending", None, True, 1), ("pending", None, False, 0)]


def test_reclaim_on_sqlite_marks_one_row_per_batch_whatever_may_be_unrecorded(shared: Store, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL: see the test of a batch that lived through a server restart")
    campaign_id, ids = _campaign(shared, 3)
    now = utcnow()
    _claim(shared, campaign_id, "dead#1", 3, now=now - timedelta(minutes=5), lease=timedelta(seconds=30))
    with shared.transaction() as session:
        assert queries.reclaim_expired(session, campaign_id, now, lease=timedelta(hours=1), unrecorded=3) == (3, 1)
        assert [r.resent_after_crash for r in _rows(session, ids)] == [True, False, False]


def _postmaster_started(store: Store) -> datetime:
    with store.transaction() as session:
        return session.scalar(select(func.pg_postmaster_start_time()))


def test_reclaim_waits_for_the_restart_grace_after_postgresql_started(shared: Store, backend: str) -> None:
    """Nothing is taken back in the first RESTART_GRACE (15 s) after the server started: the
    workers that held outcomes through the outage write them first. (Times are given relative
    to the server's real start time.)"""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL rule")
    campaign_id, ids = _campaign(shared, 2)
    started = _postmaster_started(shared)
    _claim(shared, campaign_id, "dead#1", 2, now=started - timedelta(seconds=10), lease=timedelta(seconds=1))
    with shared.transaction() as session:
        assert queries.reclaim_expired(session, campaign_id, started + timedelta(seconds=1)) == (0, 0)
        assert queries.reclaim_expired(session, campaign_id, started + queries.RESTART_GRACE) == (0, 0)
        assert queries.reclaim_expired(session, campaign_id, started + queries.RESTART_GRACE + timedelta(milliseconds=1)) == (2, 1)
        assert _state(session, ids) == [("pending", None, True, 1), ("pending", None, False, 0)]


@pytest.mark.parametrize("unrecorded", [2, 3])
def test_reclaim_marks_the_results_a_server_crash_may_have_lost(shared: Store, backend: str, unrecorded: int) -> None:
    """PostgreSQL: a batch whose lease (``lease`` long) was set before the server started was
    cut off by the crash; its lowest ``unrecorded`` open rows may have gone without their
    result being durable, and are marked. A batch leased after the start: only its lowest."""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL rule")
    campaign_id, ids = _campaign(shared, 12)
    started = _postmaster_started(shared)
    lease = timedelta(seconds=60)
    _claim(shared, campaign_id, "crashed#1", 4, now=started - timedelta(seconds=30), lease=lease)  # set before the start
    _claim(shared, campaign_id, "edge#1", 4, now=started, lease=lease)  # set exactly at the start
    _claim(shared, campaign_id, "after#1", 4, now=started + timedelta(minutes=5), lease=lease)
    with shared.transaction() as session:
        now = started + timedelta(hours=1)
        marked = [r.resent_after_crash for r in _rows(session, ids)]
        assert marked == [False] * 12
        assert queries.reclaim_expired(session, campaign_id, now, lease=lease, unrecorded=unrecorded) == (12, unrecorded + 2)
        marked = [r.resent_after_crash for r in _rows(session, ids)]
    crashed = [True] * unrecorded + [False] * (4 - unrecorded)
    assert marked == crashed + [True, False, False, False] * 2


def test_reclaim_without_a_lease_or_with_one_unrecorded_marks_one_row(shared: Store, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("a PostgreSQL rule")
    started = _postmaster_started(shared)
    lease = timedelta(seconds=60)
    for kwargs in ({"unrecorded": 3}, {"lease": lease, "unrecorded": 1}, {"lease": lease}):  # by default: one
        campaign_id, ids = _campaign(shared, 3)
        _claim(shared, campaign_id, "crashed#1", 3, now=started - timedelta(seconds=30), lease=lease)
        with shared.transaction() as session:
            assert queries.reclaim_expired(session, campaign_id, started + timedelta(hours=1), **kwargs) == (3, 1)
            assert [r.resent_after_crash for r in _rows(session, ids)] == [True, False, False]


def test_reclaim_leaves_a_row_its_late_worker_records_meanwhile(shared: Store, backend: str) -> None:
    """PostgreSQL: a worker whose lease ran out records its 250 while another worker takes the
    batch back. The taking back waits for that row, then sees it sent and leaves it so: it
    is not queued again (a second copy), nor marked as one."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    import threading

    campaign_id, ids = _campaign(shared, 2)
    now = utcnow()
    _claim(shared, campaign_id, "late#1", 2, now=now - timedelta(minutes=5), lease=timedelta(seconds=30))
    result: list[tuple[int, int]] = []
    with shared.sessions() as late:
        late.execute(update(Delivery).where(Delivery.id == ids[0]).values(status="sent", lease_owner=None,
                                                                          lease_expires_at=None, attempts=1))

        def take_back() -> None:
            with shared.transaction() as session:
                result.append(queries.reclaim_expired(session, campaign_id, now))

        taker = threading.Thread(target=take_back)
        taker.start()
        deadline = time.monotonic() + 10
        with shared.sessions() as watcher:  # until the taking back waits for the late worker's row
            while not watcher.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'")):
                assert time.monotonic() < deadline, "the taking back never waited for the row"
                watcher.rollback()
                time.sleep(0.02)
        late.commit()
        taker.join(10)
    assert result == [(1, 0)]
    with shared.transaction() as session:
        assert _state(session, ids) == [("sent", None, False, 1), ("pending", None, False, 0)]


# ---- a long batch extends its lease -----------------------------------------------------------

class SlowOutbox:
    """The .eml outbox, answering each message after ``delay`` seconds; at the ``at``-th
    message another worker looks for dead batches (as a second engine's batch would)."""

    def __init__(self, store: Store, folder: Path, campaign_id: int, delay: float, at: int) -> None:
        self.real = OutboxTransport(folder)
        self.store, self.campaign_id, self.delay, self.at = store, campaign_id, delay, at
        self.sent = 0
        self.taken_back: tuple[int, int] | None = None

    def connect(self) -> None:
        self.real.connect()

    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        time.sleep(self.delay)
        self.sent += 1
        if self.sent == self.at:
            with self.store.transaction() as session:
                self.taken_back = queries.reclaim_expired(session, self.campaign_id, utcnow())
        return self.real.send(sender, recipient, message)

    def close(self) -> None:
        self.real.close()


def test_a_batch_longer_than_its_lease_keeps_its_rows(shared: Store, tmp_path: Path) -> None:
    """A batch that takes longer than the lease extends it as it goes, so no other worker
    takes its rows back and nobody gets two copies."""
    campaign_id, ids = _campaign(shared, 10)
    transport = SlowOutbox(shared, tmp_path, campaign_id, delay=0.1, at=9)  # ~0.9 s in: 1.5 leases
    report = h.engine(shared, transport, lease=timedelta(seconds=0.6), batch_size=10).run(campaign_id)
    assert transport.taken_back == (0, 0)
    assert report.stopped == "done" and report.counts == {"sent": 10}
    with shared.transaction() as session:
        assert _state(session, ids) == [("sent", None, False, 1)] * 10


# ---- eligibility ------------------------------------------------------------------------------

def _event(session: Session, contact_id: int, action: ConsentAction, at: datetime,
           topic: ConsentTopic = ConsentTopic.NEWSLETTER) -> None:
    session.add(ConsentEvent(contact_id=contact_id, topic=topic, action=action, source=ConsentSource.FORM, at=at, proof="test"))
    session.flush()


def _contact(session: Session, email: str | None) -> int:
    now = utcnow() - timedelta(days=2)
    contact = Contact(first_name="A", last_name="B", email=email, language="fr", created_at=now, updated_at=now)
    session.add(contact)
    session.flush()
    return contact.id


CASES = {
    # name: (email, consent events (oldest first), suppressed) -> reason when consent is required, when not
    "opted_in": ("ok@example.org", [ConsentAction.OPT_IN], False, None, None),
    "never_asked": ("never@example.org", [], False, eligibility.NO_CONSENT, None),
    "opted_out": ("out@example.org", [ConsentAction.OPT_IN, ConsentAction.OPT_OUT], False,
                  eligibility.UNSUBSCRIBED, eligibility.UNSUBSCRIBED),
    "opted_in_again": ("again@example.org", [ConsentAction.OPT_OUT, ConsentAction.OPT_IN], False, None, None),
    "no_address": (None, [ConsentAction.OPT_IN], False, eligibility.NO_ADDRESS, eligibility.NO_ADDRESS),
    "no_address_opted_out": (None, [ConsentAction.OPT_OUT], False, eligibility.NO_ADDRESS, eligibility.NO_ADDRESS),
    "suppressed": ("Bounced@Example.org", [ConsentAction.OPT_IN], True, eligibility.SUPPRESSED_ADDRESS,
                   eligibility.SUPPRESSED_ADDRESS),
    "suppressed_opted_out": ("gone@example.org", [ConsentAction.OPT_OUT], True, eligibility.SUPPRESSED_ADDRESS,
                             eligibility.SUPPRESSED_ADDRESS),
    "suppressed_never_asked": ("gone2@example.org", [], True, eligibility.SUPPRESSED_ADDRESS,
                               eligibility.SUPPRESSED_ADDRESS),
}


@pytest.mark.parametrize("consent_required", [True, False])
def test_eligible_and_reason_agree_on_every_kind_of_contact(session: Session, consent_required: bool) -> None:
    """`eligible` (checked before each message) is true exactly when `reason` (written on the
    rows that may not go) is NULL, and the reason is the first that applies: no address,
    then a suppressed address, then an opt-out, then no consent (when it is required).
    Another topic's consent counts for nothing; suppression matches the address in any case."""
    campaign = Campaign(id=0, topic=ConsentTopic.NEWSLETTER, consent_required=consent_required)
    start = utcnow() - timedelta(days=1)
    contacts: dict[str, int] = {}
    for name, (email, actions, suppressed, *_) in CASES.items():
        contact_id = contacts[name] = _contact(session, email)
        for n, action in enumerate(actions):
            _event(session, contact_id, action, start + timedelta(minutes=n))
        if suppressed:
            session.add(Suppression(address=email.lower(), reason=SuppressionReason.HARD_BOUNCE))
    other_topic = contacts["other_topic"] = _contact(session, "other@example.org")
    other = next(t for t in ConsentTopic if t is not ConsentTopic.NEWSLETTER)
    _event(session, other_topic, ConsentAction.OPT_IN, start, topic=other)
    _event(session, contacts["opted_out"], ConsentAction.OPT_IN, start + timedelta(hours=1), topic=other)
    session.flush()
    missing = max(contacts.values()) + 1000  # a contact deleted since
    expected = {name: case[3] if consent_required else case[4] for name, case in CASES.items()}
    expected["other_topic"] = eligibility.NO_CONSENT if consent_required else None
    expected["deleted"] = eligibility.NO_ADDRESS
    contacts["deleted"] = missing
    got = {name: (session.scalar(select(eligibility.eligible(campaign, cid))),
                  session.scalar(select(eligibility.reason(campaign, cid)))) for name, cid in contacts.items()}
    assert got == {name: (why is None, why) for name, why in expected.items()}


def test_a_contact_eligible_refuses_for_no_named_reason_is_suppressed_not_left_claimed(
        shared: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules are written twice, in `eligible` and in `reason`. Should they ever disagree —
    here a rule only `eligible` knows, refusing everybody — the rows `eligible` refuses are
    suppressed as "ineligible" and the campaign finishes, instead of rows left `claimed` for
    want of a reason and a campaign that never ends."""
    campaign_id, ids = _campaign(shared, 3)
    monkeypatch.setattr(eligibility, "_consent_ok", lambda campaign, contact_id: false())
    report = h.engine(shared, OutboxTransport(tmp_path)).run(campaign_id)
    assert report.stopped == "done" and report.counts == {"suppressed": 3}
    with shared.transaction() as session:
        rows = _rows(session, ids)
        assert [(r.status.value, r.suppression_reason, r.lease_owner) for r in rows] == [
            ("suppressed", eligibility.INELIGIBLE, None)] * 3
        campaign = session.get(Campaign, campaign_id)
        assert session.scalar(select(eligibility.reason(campaign, rows[0].contact_id))) == "ineligible"
    assert list(tmp_path.iterdir()) == []  # nothing was sent
