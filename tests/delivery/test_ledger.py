"""The ledger on its own: what each outcome writes, what `start` lets go, and what an outage
changes. Real SQLite and PostgreSQL rows (a campaign materialised and a batch claimed the way
the engine does), a fixed clock; an outage is a terminated PostgreSQL backend or, on SQLite,
another connection holding the write lock past the ledger's busy timeout."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from crm.campaigns import service as campaigns
from crm.delivery.queries import Claimed
from crm.delivery.ledger import CHECKPOINT_EVERY, Fate, Outcome, backoff
from crm.models import ConsentAction
from crm.models.deliveries import DeliveryStatus as D
from crm.store import Store
from tests.support.ledger_batch import AT, OTHER, WORKER, Batch, assert_sent, module_store, sent


@pytest.fixture(scope="module")
def store(backend: str, databases: Any) -> Iterator[Store]:
    yield from module_store(backend, databases)


# ---- backoff ---------------------------------------------------------------------------------

@pytest.mark.parametrize("attempt, base, seconds", [
    (0, 0.5, 0.5),  # never below the base
    (1, 0.5, 0.5),
    (2, 0.5, 1.0),
    (3, 0.5, 2.0),
    (4, 10.0, 80.0),
    (15, 1.0, 16384.0),  # 2**14: still under six hours
    (16, 1.0, 6 * 3600.0),  # 2**15 = 32768 s: capped
    (60, 0.7, 6 * 3600.0),
])
def test_backoff_doubles_from_the_base_and_stops_at_six_hours(attempt: int, base: float, seconds: float) -> None:
    assert backoff(attempt, base) == timedelta(seconds=seconds)


def test_a_250_is_written_with_the_next_start_and_at_the_flush(store: Store) -> None:
    b = Batch(store, 3, attempts=1, last_error="421 try again later")
    r0, r1, r2 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    assert b.row(r0)["status"] is D.CLAIMED  # held until the next statement
    assert b.ledger.start(r1)  # PostgreSQL: the combined statement
    assert_sent(b.row(r0), r0, attempts=2)
    assert (b.row(r1)["status"], b.row(r1)["lease_owner"]) == (D.CLAIMED, WORKER)
    b.ledger.finish(r1, sent(r1))
    b.ledger.flush()
    assert_sent(b.row(r1), r1, attempts=2)
    assert b.ledger.start(r2)
    b.ledger.finish(r2, sent(r2))
    b.close()
    assert_sent(b.row(r2), r2, attempts=2)
    assert store.engine.pool.checkedout() == 0  # the ledger gave its connection back


def test_two_250s_held_together_are_both_written(store: Store) -> None:
    b = Batch(store, 3)
    r0, r1, r2 = b.rows
    b.ledger.finish(r0, sent(r0))
    b.ledger.finish(r1, sent(r1))
    assert b.ledger.start(r2)  # two held: not the combined statement, both written
    assert_sent(b.row(r0), r0)
    assert_sent(b.row(r1), r1)
    b.close()


# fate, attempts before, detail -> (status, attempts, last_error, next attempt after AT, suppression_reason)
FATES = {
    "retry": (Fate.RETRY, 1, "452 mailbox full", (D.PENDING, 2, "452 mailbox full", timedelta(seconds=20), None)),
    "retry, first attempt": (Fate.RETRY, 0, "421 later", (D.PENDING, 1, "421 later", timedelta(seconds=10), None)),
    "retry, the last attempt": (Fate.RETRY, 2, "452 mailbox full", (D.FAILED, 3, "452 mailbox full", None, None)),
    "failed": (Fate.FAILED, 1, "550 no such user", (D.FAILED, 2, "550 no such user", None, None)),
    "unknown": (Fate.UNKNOWN, 1, "connection lost after DATA", (D.UNKNOWN, 2, "connection lost after DATA", None, None)),
    "suppressed": (Fate.SUPPRESSED, 1, "invalid_address", (D.SUPPRESSED, 1, "earlier", None, "invalid_address")),
    "release": (Fate.RELEASE, 1, "server unreachable", (D.PENDING, 1, "server unreachable", timedelta(seconds=10), None)),
}


@pytest.mark.parametrize("case", FATES)
def test_each_fate_is_written_as(store: Store, case: str) -> None:
    fate, attempts, detail, expected = FATES[case]
    b = Batch(store, 2, attempts=attempts, last_error="earlier", max_attempts=3, retry_base=10.0)
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    outcome = Outcome(fate, detail, "<m@cluster>", "r0@example.org", "en")
    b.ledger.finish(r0, outcome)
    assert b.ledger.start(r1)  # written with the next message's start (the flush: see the cancelled case)
    after = b.row(r0)
    status, attempts_after, last_error, delay, reason = expected
    assert (after["status"], after["attempts"], after["last_error"], after["suppression_reason"]) == (
        status, attempts_after, last_error, reason)
    assert after["next_attempt_at"] == (None if delay is None else AT + delay)
    assert (after["lease_owner"], after["lease_expires_at"], after["sent_at"]) == (None, None, None)
    # only a message that may have reached someone keeps where it went
    kept = (outcome.message_id, outcome.address, outcome.language) if fate is Fate.UNKNOWN else (None, None, None)
    assert (after["message_id"], after["address"], after["language"]) == kept
    b.close()


def test_start_suppresses_a_contact_who_opted_out_since_the_batch_was_claimed(store: Store) -> None:
    b = Batch(store, 3)
    r0, r1, r2 = b.rows
    b.opt_out(r1)
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    assert not b.ledger.start(r1)  # PostgreSQL: the combined statement, which still records r0
    assert_sent(b.row(r0), r0)
    after = b.row(r1)
    assert (after["status"], after["suppression_reason"], after["lease_owner"], after["lease_expires_at"],
            after["attempts"]) == (D.SUPPRESSED, "unsubscribed", None, None, 0)
    assert b.ledger.start(r2)
    b.close()


def test_a_contact_who_opts_in_again_between_the_check_and_the_suppression_is_not_suppressed(store: Store) -> None:
    """A row is suppressed only with its reason: if the contact is eligible again by the time
    the suppression runs (a new opt-in right after the check), the row is left as it is."""
    b = Batch(store, 1, own_engine=True)
    (r0,) = b.rows
    b.opt_out(r0)

    def meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SELECT deliveries.id"):  # the check has just run
            b.opt_out(r0, ConsentAction.OPT_IN)

    event.listen(b.engine, "after_cursor_execute", meanwhile)
    try:
        assert not b.ledger.start(r0)
    finally:
        event.remove(b.engine, "after_cursor_execute", meanwhile)
    after = b.row(r0)
    assert (after["status"], after["suppression_reason"], after["lease_owner"]) == (D.CLAIMED, None, WORKER)
    b.close()


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize("change", ["taken by another worker", "campaign paused", "campaign cancelled"])
def test_start_lets_nothing_go_that_is_no_longer_this_batchs(store: Store, change: str, opted_out: bool) -> None:
    """Not ours, or the campaign stopped: False, and the row is left as it is — not
    suppressed, even for a contact who opted out meanwhile."""
    Batch(store, 1).close()  # another campaign, still sending
    b = Batch(store, 2)
    r0, r1 = b.rows
    if opted_out:
        b.opt_out(r1)
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    if change == "taken by another worker":
        b.set(r1, lease_owner=OTHER)
    else:
        with store.transaction() as session:
            if change == "campaign paused":
                campaigns.pause(session, b.campaign_id)
            else:
                campaigns.cancel(session, b.campaign_id)
    before = b.row(r1)
    assert not b.ledger.start(r1)
    assert b.row(r1) == before
    assert_sent(b.row(r0), r0)  # the 250 in flight is recorded all the same (cancelled: over it)
    b.close()


@pytest.mark.parametrize("fate, status", [
    (Fate.SENT, D.SENT), (Fate.UNKNOWN, D.UNKNOWN), (Fate.FAILED, D.CANCELLED), (Fate.RETRY, D.CANCELLED),
    (Fate.RELEASE, D.CANCELLED), (Fate.SUPPRESSED, D.CANCELLED),
])
def test_a_campaign_cancelled_in_flight_keeps_what_the_server_did(store: Store, fate: Fate, status: D) -> None:
    """`cancel` leaves the in-flight row its lease owner: a 250 or an unknown outcome is
    written over the cancellation, anything else leaves it cancelled."""
    b = Batch(store, 1)
    (r0,) = b.rows
    assert b.ledger.start(r0)
    with store.transaction() as session:
        campaigns.cancel(session, b.campaign_id)
    b.ledger.finish(r0, Outcome(fate, "detail", "<m@cluster>", "r0@example.org", "fr"))
    b.close()
    after = b.row(r0)
    assert after["status"] is status
    assert after["attempts"] == (1 if status in (D.SENT, D.UNKNOWN) else 0)


@pytest.mark.parametrize("fate", list(Fate))
def test_an_outcome_for_a_row_another_worker_holds_is_not_written(store: Store, fate: Fate) -> None:
    b = Batch(store, 2)
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, Outcome(fate, "detail", "<m@cluster>", "r0@example.org", "fr"))
    b.set(r0, lease_owner=OTHER)
    before = b.row(r0)
    assert b.ledger.start(r1)  # PostgreSQL, for a 250: the combined statement
    assert b.row(r0) == before
    b.close()


def test_an_outcome_for_a_row_taken_back_to_the_queue_is_not_written(store: Store) -> None:
    """Without an outage, a row whose lease ran out (pending again, no owner) is not ours."""
    b = Batch(store, 3)
    r0, r1, r2 = b.rows
    for row in (r0, r1):
        b.set(row, status=D.PENDING, lease_owner=None, lease_expires_at=None)
    b.ledger.finish(r0, sent(r0))
    assert b.ledger.start(r2)
    b.ledger.finish(r1, Outcome(Fate.UNKNOWN, "lost", "<m@cluster>", "r1@example.org", "fr"))
    b.close()
    for row in (r0, r1):
        assert (b.row(row)["status"], b.row(row)["attempts"]) == (D.PENDING, 0)


# ---- a database outage ------------------------------------------------------------------------

def test_a_250_held_through_an_outage_is_written_first(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    b = Batch(store, 3, own_engine=True)
    r0, r1, r2 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    b.outage()
    caplog.set_level(logging.WARNING)  # every logger: the outage is told, and nothing else
    assert b.ledger.start(r1)
    assert_sent(b.row(r0), r0)  # our own 250, written once: no mark
    # after the outage, strict again: a 250 for a row another worker took is not written over it
    b.ledger.finish(r1, sent(r1))
    b.set(r1, lease_owner=OTHER)
    assert b.ledger.start(r2)
    assert (b.row(r1)["status"], b.row(r1)["lease_owner"]) == (D.CLAIMED, OTHER)
    b.ledger.finish(r2, sent(r2))
    b.close()
    assert_sent(b.row(r2), r2)
    gc.collect()  # the broken connection was let go (invalidated), not left to the pool to reset
    said = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records]
    assert said == [
        f"WARNING crm.delivery: database unreachable ({b.away}): 1 outcome(s) held by ledger#1; waiting and "
        "reconnecting, nothing more is sent until it is written",
        said[-1],
    ], said
    assert said[-1].startswith("WARNING crm.delivery: database back after "), said


def test_an_outage_while_holding_nothing_says_so(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    b = Batch(store, 2, own_engine=True)
    r0, r1 = b.rows
    b.opt_out(r0)
    b.opt_out(r1)  # on SQLite, the write that meets the lock is r1's suppression
    assert not b.ledger.start(r0)  # suppressed: no outcome held
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        assert not b.ledger.start(r1)
    b.close()
    assert b.row(r1)["status"] is D.SUPPRESSED
    said = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable" in m and ": ledger#1 holds no outcome;" in m for m in said) == 1, said


@pytest.mark.parametrize("meanwhile", ["back in the queue", "claimed by another worker", "sent by another worker",
                                       "sent by another worker, no time", "cancelled"])
def test_a_held_250_after_the_lease_ran_out(store: Store, meanwhile: str) -> None:
    """The outage outlasted the lease: a held 250 is written wherever the row went, so that
    nobody sends it again; where another worker sent it first, the row is marked."""
    b = Batch(store, 2, own_engine=True)
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    other_sent = AT - timedelta(seconds=5)
    b.set(r0, **{
        "back in the queue": {"status": D.PENDING, "lease_owner": None, "lease_expires_at": None},
        "claimed by another worker": {"lease_owner": OTHER},
        "sent by another worker": {"status": D.SENT, "sent_at": other_sent, "message_id": "<other@cluster>",
                                   "lease_owner": None, "lease_expires_at": None, "attempts": 1},
        "sent by another worker, no time": {"status": D.SENT, "sent_at": None, "message_id": "<other@cluster>",
                                            "lease_owner": None, "lease_expires_at": None, "attempts": 1},
        "cancelled": {"status": D.CANCELLED, "lease_owner": None, "lease_expires_at": None},
    }[meanwhile])
    b.outage()
    assert b.ledger.start(r1)
    after = b.row(r0)
    if meanwhile.startswith("sent by another worker"):
        assert (after["status"], after["message_id"], after["resent_after_crash"]) == (D.SENT, "<other@cluster>", True)
        assert after["sent_at"] == (other_sent if meanwhile == "sent by another worker" else None)
    else:
        assert_sent(after, r0)
    b.close()


@pytest.mark.parametrize("fate, status, attempts", [
    (Fate.UNKNOWN, D.UNKNOWN, 1),  # maybe delivered: never sent again blindly
    (Fate.FAILED, D.PENDING, 0),  # not ours any more: left to whoever takes it
    (Fate.RETRY, D.PENDING, 0),
])
def test_other_outcomes_held_through_an_outage_when_the_row_went_back_to_the_queue(
        store: Store, fate: Fate, status: D, attempts: int) -> None:
    b = Batch(store, 2, own_engine=True)
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, Outcome(fate, "detail", "<m@cluster>", "r0@example.org", "fr"))
    b.set(r0, status=D.PENDING, lease_owner=None, lease_expires_at=None)
    b.outage()
    assert b.ledger.start(r1)
    after = b.row(r0)
    assert (after["status"], after["attempts"]) == (status, attempts)
    b.close()


def test_an_outage_at_the_flush_is_waited_out(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    b = Batch(store, 1, own_engine=True)
    (r0,) = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        b.ledger.flush()
    assert_sent(b.row(r0), r0)
    said = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable" in m and ": 1 outcome(s) held by ledger#1;" in m for m in said) == 1, said
    b.close()
    assert b.engine.pool.checkedout() == 0


def _lose(b: Batch, row: Claimed) -> None:
    """What a PostgreSQL crash does to an outcome committed without waiting for the disk."""
    b.set(row, status=D.CLAIMED, lease_owner=WORKER, sent_at=None, message_id=None, address=None, language=None,
          attempts=0)


@pytest.mark.parametrize("written", [CHECKPOINT_EVERY - 1, CHECKPOINT_EVERY])
def test_outcomes_not_yet_checkpointed_are_written_again_after_an_outage(
        store: Store, written: int, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL commits each outcome without waiting for the disk and makes them durable
    every CHECKPOINT_EVERY: after an outage, those since the last checkpoint are written
    again (a crash may have lost them); those before it are not."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits are durable")
    b = Batch(store, written + 2)
    rows = b.rows
    for row in rows[:written]:
        assert b.ledger.start(row)
        b.ledger.finish(row, sent(row))
    assert b.ledger.start(rows[written])  # writes the last of them
    b.ledger.finish(rows[written], sent(rows[written]))
    for row in (rows[0], rows[written - 1]):
        assert_sent(b.row(row), row)
        _lose(b, row)
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        assert b.ledger.start(rows[written + 1])
    held = 1 if written == CHECKPOINT_EVERY else written + 1
    said = [r.getMessage() for r in caplog.records]
    assert sum(f"{held} outcome(s) held by ledger#1" in m for m in said) == 1, said
    for row in (rows[0], rows[written - 1]):
        if written < CHECKPOINT_EVERY:
            assert_sent(b.row(row), row)
        else:
            assert b.row(row)["status"] is D.CLAIMED  # known durable: not written again
    assert_sent(b.row(rows[written]), rows[written])
    b.close()


def test_the_replay_is_checkpointed_and_the_next_outage_does_not_repeat_it(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits are durable")
    b = Batch(store, 4)
    r0, r1, r2, r3 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    assert b.ledger.start(r1)
    b.ledger.finish(r1, sent(r1))
    b.outage()
    assert b.ledger.start(r2)  # r0 and r1 written again, then made durable
    _lose(b, r0)
    _lose(b, r1)
    b.outage()
    assert b.ledger.start(r3)
    assert b.row(r0)["status"] is D.CLAIMED and b.row(r1)["status"] is D.CLAIMED
    b.close()


def test_an_unknown_outcome_not_yet_checkpointed_is_written_again(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits are durable")
    b = Batch(store, 2)
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, Outcome(Fate.UNKNOWN, "lost after DATA", "<m@cluster>", "r0@example.org", "fr"))
    assert b.ledger.start(r1)
    assert b.row(r0)["status"] is D.UNKNOWN
    b.set(r0, status=D.PENDING, lease_owner=None, attempts=0, last_error=None)  # lost, lease ran out
    b.outage()
    b.ledger.finish(r1, sent(r1))
    b.close()
    after = b.row(r0)
    assert (after["status"], after["attempts"], after["last_error"], after["message_id"]) == (
        D.UNKNOWN, 1, "lost after DATA", "<m@cluster>")
    assert_sent(b.row(r1), r1)


def test_an_outage_at_the_end_of_a_batch_writes_what_is_not_yet_durable_again(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """`close` makes the batch's outcomes durable; if the database went away first, those
    written since the last checkpoint are written again."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite commits are durable")
    b = Batch(store, 2)
    r0, r1 = b.rows
    b.opt_out(r1)
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    assert not b.ledger.start(r1)  # r0 written, not yet durable; nothing more held
    _lose(b, r0)
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        b.close()
    assert_sent(b.row(r0), r0)
    said = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable" in m and ": 1 outcome(s) held by ledger#1;" in m for m in said) == 1, said


def test_on_postgresql_a_message_after_a_250_costs_one_prepared_statement(store: Store) -> None:
    """The send path's cost per message (module docstring): recording the previous 250 and
    checking the next row is one prepared statement on the ledger's own cursor, committed
    without waiting for the disk; a flush writes what is held and nothing again; closing the
    batch is one synchronous commit."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("the combined statement is PostgreSQL's")
    b = Batch(store, 4, own_engine=True)
    r0, r1, r2, r3 = b.rows
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(b.engine, "before_cursor_execute", seen)
    try:
        assert b.ledger.start(r0)
        assert len(statements) == 2  # SET synchronous_commit TO OFF, then the check
        for previous, row in ((r0, r1), (r1, r2), (r2, r3)):
            b.ledger.finish(previous, sent(previous))
            assert b.ledger.start(row)
            assert_sent(b.row(previous), previous)
        assert len(statements) == 2  # none through SQLAlchemy: the prepared statement
        conn = b.ledger._connection()
        prepared = conn.exec_driver_sql(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements").all()  # this connection's
        assert [n for (n,) in prepared] == [3]
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        statements.clear()
        b.ledger.finish(r3, sent(r3))
        b.ledger.flush()
        assert len(statements) == 1 and statements[0].startswith("UPDATE deliveries"), statements
        statements.clear()
        b.close()
        assert len(statements) == 1 and "synchronous_commit TO ON" in statements[0], statements
    finally:
        event.remove(b.engine, "before_cursor_execute", seen)
    assert_sent(b.row(r3), r3)


def test_a_database_that_refuses_connections_for_a_while_is_waited_for(store: Store) -> None:
    """As while PostgreSQL restarts: the connection is cut and reconnecting fails a few
    times before it works; the held 250 is written then."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite file does not refuse connections")
    b = Batch(store, 2, own_engine=True)  # no idle connection in its pool: it must connect
    r0, r1 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    b.outage(refusing=0.4)
    assert b.ledger.start(r1)
    assert_sent(b.row(r0), r0)
    b.close()
