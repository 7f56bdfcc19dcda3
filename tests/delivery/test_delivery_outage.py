"""The database goes away mid-send (issue 8): the outcome held for the message the server
just accepted is kept, nothing more is sent until it is written, and it is written first
when the database answers again. Real PostgreSQL (its backends terminated, connections
refused for a while), real SMTP server; the in-process engine."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crm.campaigns import runner
from crm.delivery.outage import retrying
from crm.mail.smtp import SMTPTransport
from crm.mail.transport import SendResult
from tests.support import delivery as h
from tests.support.smtp_server import SMTPServer


@pytest.fixture
def pg_url(databases, pg_reason):  # noqa: ANN001, ANN201
    return databases.url("postgresql")


class Outage:
    """Cuts a PostgreSQL database off: refuses new connections, terminates the open ones,
    and lets them in again after ``seconds`` (from another thread)."""

    def __init__(self, url: str, seconds: float) -> None:
        self.name = make_url(url).database
        self.admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.seconds = seconds
        self.over = threading.Event()

    def _run(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def cut(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self._run(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = '{self.name}' "
                  "AND pid <> pg_backend_pid()")
        threading.Timer(self.seconds, self.restore).start()

    def restore(self) -> None:
        self._run(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        self.over.set()

    def close(self) -> None:
        if not self.over.is_set():
            self.restore()
        self.admin.dispose()


class CutAfter:
    """The real SMTP transport; right after the server accepted the n-th message, the
    database goes away (the fault comes between the 250 and its record)."""

    def __init__(self, real: SMTPTransport, n: int, outage: Outage) -> None:
        self.real, self.n, self.outage, self.sent = real, n, outage, 0

    def connect(self) -> None:
        self.real.connect()

    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        result = self.real.send(sender, recipient, message)
        self.sent += 1
        if self.sent == self.n:
            self.outage.cut()
        return result

    def close(self) -> None:
        self.real.close()


@pytest.mark.parametrize("seconds", [0.0, 2.5])
def test_an_outage_after_a_250_sends_nobody_twice(pg_url: str, seconds: float, caplog: pytest.LogCaptureFixture) -> None:
    store = h.open_store(pg_url)
    h.add_contacts(store, 300)
    campaign_id = h.newsletter(store)
    h.start(store, campaign_id)
    outage = Outage(pg_url, seconds)
    try:
        with SMTPServer() as server, caplog.at_level(logging.WARNING, logger="crm.delivery"):
            transport = CutAfter(SMTPTransport(server.url), 120, outage)  # mid-batch (batches of 50)
            engine = h.engine(store, transport)
            started = time.monotonic()
            while h.counts(store, campaign_id)["status"] != "finished":
                runner.run(engine, campaign_id, max_seconds=30)
                assert time.monotonic() - started < 60, "the campaign did not finish"
            transport.close()
            received = Counter(r for m in server.recorder.received for r in m.recipients)
    finally:
        outage.close()
    assert outage.over.is_set()
    assert len(received) == 300 and max(received.values()) == 1, received.most_common(3)
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["resent_after_crash"], status["unknown"]) == (300, 0, 0), status
    said = [r.getMessage() for r in caplog.records]
    assert sum("database unreachable" in m for m in said) == 1, said
    assert sum("database back" in m for m in said) == 1, said


def test_other_errors_are_not_waited_for() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        retrying(broken, sleep=lambda _s: None)
    assert calls == [1]


def _terminate(store, pid: int) -> None:  # noqa: ANN001
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})  # waits until it is gone


@pytest.mark.parametrize("meanwhile", ["sent by another worker", "taken back, not yet sent"])
def test_a_held_250_after_the_lease_ran_out(pg_url: str, meanwhile: str) -> None:
    """The outage outlasted the lease: the row went back to the queue, or another worker
    already sent it again. The held 250 still wins where it comes first, and a second copy
    is marked."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from crm.db import utcnow
    from crm.delivery import queries
    from crm.delivery.ledger import Fate, Ledger, Outcome
    from crm.models.campaigns import Campaign
    from crm.models.deliveries import Delivery, DeliveryStatus

    store = h.open_store(pg_url)
    h.add_contacts(store, 3)
    campaign_id = h.newsletter(store)
    h.start(store, campaign_id)
    with store.transaction() as session:
        campaign = session.get(Campaign, campaign_id)
        batch = queries.claim_batch(session, campaign, worker="a#1", size=10, lease=timedelta(seconds=30), now=utcnow())
        session.expunge(campaign)
    ledger = Ledger(store.engine, campaign, worker="a#1", max_attempts=3, retry_base_seconds=1)
    row = batch[0]
    assert ledger.start(row)
    ledger.finish(row, Outcome(Fate.SENT, "250 ok", "<m1@x>", "r0@example.org", "fr"))
    other = {"status": DeliveryStatus.PENDING, "lease_owner": None}
    if meanwhile == "sent by another worker":
        other = {"status": DeliveryStatus.SENT, "sent_at": utcnow() - timedelta(seconds=5), "lease_owner": None,
                 "resent_after_crash": False}
    with store.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == row.id).values(**other))
    pid = ledger._connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    _terminate(store, pid)
    ledger.close()
    with store.transaction() as session:
        after = session.scalar(select(Delivery).where(Delivery.id == row.id))
        assert after.status is DeliveryStatus.SENT
        assert after.resent_after_crash is (meanwhile == "sent by another worker")
