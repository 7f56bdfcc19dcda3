"""The ledger keeps a batch's rows: it extends their lease while the batch is still on its way
to them, and gives back those it will not try (a pause, a cancel, the server gone). Both
wait out a database outage on the ledger's own connection and say in the log what they are
waiting to write."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from crm.delivery.ledger import Fate, Outcome
from crm.models.deliveries import DeliveryStatus as D
from crm.store import Store
from tests.support.ledger_batch import AT, WORKER, Batch, assert_sent, module_store, sent


@pytest.fixture(scope="module")
def store(backend: str, databases: Any) -> Iterator[Store]:
    yield from module_store(backend, databases)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "database unreachable" in r.getMessage()]


def test_give_back_writes_what_is_held_then_returns_the_rows_to_the_queue(store: Store) -> None:
    b = Batch(store, 4)
    r0, r1, r2, r3 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, sent(r0))
    b.ledger.give_back([r1, r2])  # r3 stays with the batch
    assert_sent(b.row(r0), r0)
    for row in (r1, r2):
        after = b.row(row)
        assert (after["status"], after["lease_owner"], after["lease_expires_at"], after["attempts"]) == (D.PENDING, None, None, 0)
    assert (b.row(r3)["status"], b.row(r3)["lease_owner"]) == (D.CLAIMED, WORKER)
    b.close()


def test_give_back_waits_out_an_outage_and_says_what_it_gives_back(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    b = Batch(store, 3, own_engine=True)
    r0, r1, r2 = b.rows
    assert b.ledger.start(r0)
    b.ledger.finish(r0, Outcome(Fate.RELEASE, "server unreachable"))
    b.ledger.flush()  # nothing held any more: the outage meets the give-back itself
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        b.ledger.give_back([r1, r2])
    said = _warnings(caplog)
    assert len(said) == 1 and said[0].endswith(f": {WORKER} gives back 2 unsent row(s); waiting and reconnecting, "
                                               "nothing more is sent until it is written"), said
    assert [(b.row(r)["status"], b.row(r)["lease_owner"]) for r in (r0, r1, r2)] == [(D.PENDING, None)] * 3
    assert b.row(r0)["last_error"] == "server unreachable"
    b.close()
    assert b.engine.pool.checkedout() == 0


def test_extend_moves_the_lease_from_the_ledgers_clock(store: Store) -> None:
    b = Batch(store, 3)
    r0, r1, r2 = b.rows
    before = b.row(r0)["lease_expires_at"]
    b.ledger.extend([r1, r2], timedelta(minutes=7))
    assert b.row(r0)["lease_expires_at"] == before  # done with, or not named: left alone
    assert [b.row(r)["lease_expires_at"] for r in (r1, r2)] == [AT + timedelta(minutes=7)] * 2
    b.close()


def test_extend_waits_out_an_outage_and_says_what_it_extends(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    b = Batch(store, 3, own_engine=True)
    r0, r1, r2 = b.rows
    assert b.ledger.start(r0)  # the ledger's connection is open: the outage cuts it
    b.outage()
    with caplog.at_level(logging.WARNING, logger="crm.delivery"):
        b.ledger.extend([r0, r1, r2], timedelta(seconds=90))
    said = _warnings(caplog)
    assert len(said) == 1 and said[0].endswith(f": {WORKER} extends the lease of 3 row(s); waiting and reconnecting, "
                                               "nothing more is sent until it is written"), said
    assert [(b.row(r)["status"], b.row(r)["lease_expires_at"]) for r in (r0, r1, r2)] == [
        (D.CLAIMED, AT + timedelta(seconds=90))] * 3
    b.close()
    assert b.engine.pool.checkedout() == 0
