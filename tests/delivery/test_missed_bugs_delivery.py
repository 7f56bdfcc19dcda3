"""Delivery bugs no test caught before (issue 9), each on real databases (SQLite and
PostgreSQL) and a real SMTP server on loopback:

- a statutory mailing (`consent_required=False`, `--no-consent-required`) still leaves out
  whoever opted out — when the deliveries are materialised and, per message, while it runs —
  and does reach those who never consented;
- a recipient whose server always answers 4xx is tried exactly `max_attempts` times;
- a message retried after a 4xx, or sent again after a worker died, keeps its Message-ID;
- an ambiguous SMTP result (connection lost after DATA) is recorded as `unknown` even when
  the campaign was cancelled while the message was in flight.
"""

from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm import consent
from crm.campaigns import runner
from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.mail.message import message_id_for
from crm.mail.smtp import SMTPTransport
from crm.mail.transport import SendResult
from crm.models import ConsentAction, ConsentSource, ConsentTopic, Contact
from crm.models.deliveries import Delivery, DeliveryStatus
from tests.support import delivery as h
from tests.support.cli import CrmRunner
from tests.support.smtp_server import Received, Recorder, SMTPServer

DOMAIN = "cluster.example.org"  # of h.newsletter's sender


def _opt_out(store, contact_id: int) -> None:  # noqa: ANN001
    with store.transaction() as session:
        consent.record(session, contact_id, ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)


def _rows(store, campaign_id: int) -> dict[str, Delivery]:  # noqa: ANN001
    """The campaign's deliveries by the contact's address."""
    with store.transaction() as session:
        found = session.execute(
            select(Contact.email, Delivery).join(Contact, Contact.id == Delivery.contact_id)
            .where(Delivery.campaign_id == campaign_id)
        ).all()
        for _, row in found:
            session.expunge(row)
    return {address: row for address, row in found}


def _run_until_done(engine, campaign_id: int, timeout: float = 20):  # noqa: ANN001, ANN202
    """Batches until the campaign stops waiting for retries (their backoff is short here),
    run as a worker runs them (finished when the work is done)."""
    deadline = time.monotonic() + timeout
    report = runner.run(engine, campaign_id)
    while report.stopped == "waiting" and time.monotonic() < deadline:
        time.sleep(0.05)
        report = runner.run(engine, campaign_id)
    return report


# ---- 1. statutory mailings: no consent needed, but an opt-out still counts -------------------

def test_statutory_mailing_reaches_the_never_asked_and_suppresses_opt_outs_when_materialised(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 2, languages=("fr",))  # r0, r1
    h.add_contacts(store, 2, start=10, consent=False, languages=("fr",))  # r10, r11: never asked
    withdrew = h.add_contacts(store, 1, start=20, languages=("fr",))  # r20: opted in, then out
    refused = h.add_contacts(store, 1, start=30, consent=False, languages=("fr",))  # r30: only ever opted out
    for contact_id in withdrew + refused:
        _opt_out(store, contact_id)
    campaign_id = h.newsletter(store, segment="all", languages=("fr",), consent_required=False)
    assert h.start(store, campaign_id)["added"] == 6
    rows = _rows(store, campaign_id)  # right after the materialisation, before any message
    why = {address: (row.status.value, row.suppression_reason) for address, row in rows.items()}
    assert why == {"r0@example.org": ("pending", None), "r1@example.org": ("pending", None),
                   "r10@example.org": ("pending", None), "r11@example.org": ("pending", None),
                   "r20@example.org": ("suppressed", "unsubscribed"), "r30@example.org": ("suppressed", "unsubscribed")}
    with SMTPServer() as server:
        transport = SMTPTransport(server.url)
        assert h.engine(store, transport).run(campaign_id).stopped == "done"
        transport.close()
        received = server.recorder.by_recipient()
    # consent is not required: those never asked get it, once; those who opted out do not
    assert received == {f"r{i}@example.org": 1 for i in (0, 1, 10, 11)}
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["suppressed"], status["pending"]) == (4, 2, 0), status


def test_statutory_mailing_opt_out_while_it_runs_gets_nothing(store) -> None:  # noqa: ANN001
    """Deliveries materialised, the campaign running, its batch claimed: two contacts opt out
    (one had opted in, one was never asked). The check of each message just before it goes
    stops theirs."""
    h.add_contacts(store, 4, languages=("fr",))
    h.add_contacts(store, 4, start=10, consent=False, languages=("fr",))
    campaign_id = h.newsletter(store, segment="all", languages=("fr",), consent_required=False)
    assert h.start(store, campaign_id)["added"] == 8
    with store.transaction() as session:  # the contact with an opt-in, and the last one, never asked
        late = dict(session.execute(
            select(Contact.email, Contact.id).join(Delivery, Delivery.contact_id == Contact.id)
            .where(Delivery.campaign_id == campaign_id, Contact.email.in_(["r3@example.org", "r13@example.org"]))
        ).all())
    with SMTPServer() as server:
        real = SMTPTransport(server.url)

        class OptOutAfterTwo:
            """The real SMTP transport; after the 2nd message the two late contacts opt out."""

            sent = 0

            def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
                self.sent += 1
                if self.sent == 2:
                    for contact_id in late.values():
                        _opt_out(store, contact_id)
                return real.send(sender, recipient, message)

            def close(self) -> None:
                real.close()

        report = h.engine(store, OptOutAfterTwo(), batch_size=50).run(campaign_id)  # one batch, claimed before
        real.close()
        received = server.recorder.by_recipient()
    assert report.stopped == "done"
    assert {a: received.get(a, 0) for a in late} == {a: 0 for a in late}  # opted out: nothing after
    assert received == {f"r{i}@example.org": 1 for i in (0, 1, 2, 10, 11, 12)}
    rows = _rows(store, campaign_id)
    assert {(rows[a].status.value, rows[a].suppression_reason) for a in late} == {("suppressed", "unsubscribed")}


@pytest.mark.cli
def test_no_consent_required_through_crm(tmp_path: Path) -> None:
    """`crm campaigns create … --no-consent-required` then `send` (in process, the .eml outbox).
    SQLite only: two runs of `crm`; the engine tests above cover both databases."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    store = h.open_store(url)
    crm = CrmRunner(tmp_path, url)
    try:
        h.add_contacts(store, 1, languages=("fr",))  # r0: opted in
        h.add_contacts(store, 1, start=10, consent=False, languages=("fr",))  # r10: never asked
        _opt_out(store, h.add_contacts(store, 1, start=20, languages=("fr",))[0])  # r20: opted in, then out
        (tmp_path / "avis.md").write_text("Bonjour {{ contact.first_name }},\n\nConvocation à l'assemblée générale.",
                                          encoding="utf-8")
        created = crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "Convocation",
                      "--content", "avis.md", "--language", "fr", "--no-consent-required", "--json").json()
        assert created["consent_required"] is False
        status = crm("campaigns", "send", str(created["id"]), "--json", timeout=30).json()
        assert {k: status[k] for k in ("status", "total", "sent", "suppressed", "pending")} == {
            "status": "finished", "total": 3, "sent": 2, "suppressed": 1, "pending": 0}
        outbox = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in (tmp_path / "outbox").glob("*.eml")]
        assert sorted(m["To"].addresses[0].addr_spec for m in outbox) == ["r0@example.org", "r10@example.org"]
        row = _rows(store, created["id"])["r20@example.org"]
        assert (row.status.value, row.suppression_reason) == ("suppressed", "unsubscribed")
    finally:
        store.close()


# ---- 5. a server that always answers 4xx: exactly max_attempts tries -------------------------

@pytest.mark.parametrize("max_attempts", [1, 3])
def test_a_recipient_always_refused_4xx_is_tried_exactly_max_attempts_times(store, max_attempts: int) -> None:  # noqa: ANN001
    h.add_contacts(store, 3, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    with SMTPServer() as server:
        server.recorder.rules["r1@example.org"] = "451"
        server.recorder.fail_times = 1000  # always
        transport = SMTPTransport(server.url)
        engine = h.engine(store, transport, max_attempts=max_attempts, retry_base_seconds=0.05)
        report = _run_until_done(engine, campaign_id)
        transport.close()
        tries = server.recorder.attempts["r1@example.org"]  # RCPT TO on the real server
        assert tries == max_attempts, f"tried {tries} times with max_attempts={max_attempts}"
        assert server.recorder.by_recipient() == {"r0@example.org": 1, "r2@example.org": 1}
    assert report.stopped == "done"
    row = _rows(store, campaign_id)["r1@example.org"]
    assert (row.status.value, row.attempts) == ("failed", max_attempts)
    assert row.last_error.startswith("451")
    status = h.counts(store, campaign_id)
    assert (status["status"], status["sent"], status["failed"], status["pending"]) == ("finished", 2, 1, 0)


# ---- 6. one Message-ID per delivery, whatever the attempt -------------------------------------

@dataclass
class RefusesAfterData(Recorder):
    """A server that takes the message of each address in ``refuse_data`` and answers 451
    after it, the first ``data_refusals`` times; ``every_copy`` keeps each message that came,
    refused or not."""

    refuse_data: set[str] = field(default_factory=set)
    data_refusals: int = 1
    every_copy: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        with self.lock:
            self.every_copy.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                            time.monotonic(), session.peer))
            refuse = any(r in self.refuse_data and sum(r in c.recipients for c in self.every_copy) <= self.data_refusals
                         for r in envelope.rcpt_tos)
        if refuse:
            return "451 4.3.0 Temporary failure after the data, try later"
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self, address: str) -> list[str]:
        with self.lock:
            return [c.message["Message-ID"] for c in self.every_copy if address in c.recipients]


def test_a_message_retried_after_a_4xx_keeps_its_message_id(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 3, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    recorder = RefusesAfterData(refuse_data={"r1@example.org"}, data_refusals=2)
    with SMTPServer(recorder) as server:
        transport = SMTPTransport(server.url)
        report = _run_until_done(h.engine(store, transport, max_attempts=5, retry_base_seconds=0.05), campaign_id)
        transport.close()
    assert report.stopped == "done"
    row = _rows(store, campaign_id)["r1@example.org"]
    assert (row.status.value, row.attempts) == ("sent", 3)
    ids = recorder.message_ids("r1@example.org")
    assert len(ids) == 3  # refused twice after the data, then accepted
    assert ids == [message_id_for(row.id, campaign_id, DOMAIN)] * 3 == [row.message_id] * 3


class _WorkerDied(Exception):
    """Stands for a worker killed right after the server accepted a message."""


def test_a_message_sent_again_after_a_worker_died_keeps_its_message_id(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 3, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    with SMTPServer() as server:
        real = SMTPTransport(server.url)

        class DiesAfterTheSecond:
            sent = 0

            def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
                result = real.send(sender, recipient, message)
                self.sent += 1
                if self.sent == 2:  # accepted, never recorded
                    raise _WorkerDied(recipient)
                return result

            def close(self) -> None:
                real.close()

        with pytest.raises(_WorkerDied):
            h.engine(store, DiesAfterTheSecond(), worker="dead").run(campaign_id)
        with store.transaction() as session:  # its lease runs out
            session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id,
                                                   Delivery.status == DeliveryStatus.CLAIMED)
                            .values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        assert h.engine(store, real, worker="alive").run(campaign_id).stopped == "done"
        real.close()
        copies = [(m.recipients, m.message["Message-ID"]) for m in server.recorder.received]
    row = _rows(store, campaign_id)["r1@example.org"]
    assert (row.status.value, row.resent_after_crash) == ("sent", True)
    twice = [mid for recipients, mid in copies if recipients == ["r1@example.org"]]
    assert twice == [message_id_for(row.id, campaign_id, DOMAIN)] * 2 == [row.message_id] * 2
    assert sorted(r[0] for r, _ in copies) == ["r0@example.org", "r1@example.org", "r1@example.org", "r2@example.org"]


# ---- 7. an ambiguous result while the campaign is cancelled: recorded `unknown` ---------------

def test_cancelled_while_in_flight_then_the_connection_drops_records_unknown(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 4, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    server = SMTPServer()
    server.recorder.hold_at = 2  # the second message hangs after its data
    reports = []
    with server:
        transport = SMTPTransport(server.url, timeout=20)
        engine = h.engine(store, transport, batch_size=10)
        sender = threading.Thread(target=lambda: reports.append(engine.run(campaign_id)))
        sender.start()
        try:
            assert server.recorder.held.wait(20), "the second message never came"
            with store.transaction() as session:  # cancelled while it is in flight
                assert campaigns.cancel(session, campaign_id)["cancelled"] == 3  # the one in flight and two more
            server.kill()  # the connection drops before the reply: delivered or not, nobody knows
        finally:
            sender.join(30)
        transport.close()
    assert not sender.is_alive() and reports and reports[0].stopped == "cancelled"
    (in_flight,) = server.recorder.held_recipients
    assert in_flight == "r1@example.org"
    rows = _rows(store, campaign_id)
    held = rows[in_flight]
    assert (held.status.value, held.attempts) == ("unknown", 1), (held.status, held.last_error)
    assert held.message_id == message_id_for(held.id, campaign_id, DOMAIN)
    assert held.last_error and "after DATA" in held.last_error
    assert {a: r.status.value for a, r in rows.items()} == {
        "r0@example.org": "sent", "r1@example.org": "unknown", "r2@example.org": "cancelled", "r3@example.org": "cancelled"}
    status = h.counts(store, campaign_id)
    assert (status["status"], status["sent"], status["unknown"], status["cancelled"]) == ("cancelled", 1, 1, 2)
