"""The send pipeline on real databases, a real SMTP server on loopback and the .eml outbox."""

from __future__ import annotations

import email
import re
import threading
import time
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm import consent, links
from crm.campaigns import runner
from crm.campaigns import service as campaigns
from crm.mail.message import message_id_for
from crm.mail.outbox import OutboxTransport
from crm.mail.smtp import SMTPTransport
from crm.models import ConsentAction, ConsentSource, ConsentTopic, Contact
from crm.models.deliveries import Delivery, Suppression, SuppressionReason
from tests.support import delivery as h
from tests.support.smtp_server import SMTPServer


def test_outbox_sends_everyone_once_in_their_language_and_suppresses(store, tmp_path: Path) -> None:  # noqa: ANN001
    ids = h.add_contacts(store, 30)
    h.add_contacts(store, 5, start=100, consent=False)  # in the segment "all", but no consent
    with store.transaction() as session:  # a hard bounce and an address that is no longer valid
        session.add(Suppression(address="r1@example.org", reason=SuppressionReason.HARD_BOUNCE))
        session.execute(update(Contact).where(Contact.id == ids[2]).values(email="broken@@example.org"))
    campaign_id = h.newsletter(store, segment="all")
    assert h.start(store, campaign_id)["added"] == 35
    report = runner.run(h.engine(store, OutboxTransport(tmp_path)), campaign_id)
    assert report.stopped == "done"
    status = h.counts(store, campaign_id)
    assert status | {"id": 0} == {"id": 0, "status": "finished", "total": 35, "sent": 28, "failed": 0, "suppressed": 7,
                                  "pending": 0, "unknown": 0, "cancelled": 0, "resent_after_crash": 0}
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 28
    with store.transaction() as session:
        rows = {d.contact_id: d for d in session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id))}
    reasons = sorted(d.suppression_reason for d in rows.values() if d.suppression_reason)
    assert reasons == ["invalid_address", "no_consent", "no_consent", "no_consent", "no_consent", "no_consent", "suppressed_address"]
    sent = [d for d in rows.values() if d.status.value == "sent"]
    for delivery in sent:
        assert delivery.message_id == message_id_for(delivery.id, campaign_id, "cluster.example.org")
    arabic = next(d for d in sent if d.language == "ar")
    parsed = {m["Message-ID"]: m for m in (email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files)}
    message = parsed[arabic.message_id]
    assert message["To"].addresses[0].addr_spec == arabic.address
    assert message["Subject"] == "أخبار المجموعة"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(f"<{h.BASE_URL}/u/")
    html = message.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html
    # Each link reads back to this person and its own purpose: unsubscribe (this campaign's
    # topic) in the header and both parts, preferences (/p/) in both parts.
    text = message.get_body(("plain",)).get_content()
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    token = unsubscribe.rsplit("/", 1)[1]
    assert links.read_unsubscribe_token(h.SECRET, token) == {
        "contact_id": arabic.contact_id, "campaign_id": campaign_id, "topic": "newsletter"}
    preferences = re.findall(rf"{re.escape(h.BASE_URL)}/p/[A-Za-z0-9_.-]+", text)
    assert len(preferences) == 1 and f'href="{preferences[0]}"' in html
    assert links.read_preferences_token(h.SECRET, preferences[0].rsplit("/", 1)[1]) == {"contact_id": arabic.contact_id}
    assert unsubscribe in text and f'href="{unsubscribe}"' in html


@pytest.mark.parametrize("pipelining", [False, True], ids=["step-by-step", "pipelined"])
def test_smtp_451_retries_550_fails_drop_after_data_is_unknown(store, pipelining: bool) -> None:  # noqa: ANN001
    h.add_contacts(store, 12, languages=("fr",))
    with SMTPServer() as server:
        server.recorder.pipelining = pipelining
        server.recorder.rules.update({"r2@example.org": "451", "r5@example.org": "550", "r7@example.org": "drop"})
        campaign_id = h.newsletter(store, languages=("fr",))
        h.start(store, campaign_id)
        transport = SMTPTransport(server.url)
        engine = h.engine(store, transport, retry_base_seconds=0.2)
        report = runner.run(engine, campaign_id)
        deadline = time.monotonic() + 20
        while report.stopped == "waiting" and time.monotonic() < deadline:  # the 451 is retried after its backoff
            time.sleep(0.25)
            report = runner.run(engine, campaign_id)
        transport.close()
        status = h.counts(store, campaign_id)
        assert (status["status"], status["sent"], status["failed"], status["unknown"], status["pending"]) == ("finished", 10, 1, 1, 0)
        received = server.recorder.by_recipient()
        assert received["r2@example.org"] == 1 and server.recorder.attempts["r2@example.org"] == 2
        assert "r5@example.org" not in received
        assert received["r7@example.org"] == 1  # the server has it; we could not know: never resent
        assert all(received[f"r{i}@example.org"] == 1 for i in (0, 1, 3, 4, 6, 8, 9, 10, 11))
    with store.transaction() as session:
        by_address = {d.address or "": d for d in session.scalars(select(Delivery))}
        failed = session.scalars(select(Delivery).where(Delivery.status == "failed")).one()
    assert failed.last_error.startswith("550")
    assert by_address["r7@example.org"].status.value == "unknown"


def test_double_send_and_two_workers_send_each_message_once(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 300)
    campaign_id = h.newsletter(store)
    assert h.start(store, campaign_id)["added"] == 300
    assert h.start(store, campaign_id)["added"] == 0  # a double send adds nobody
    with SMTPServer() as server:
        reports = []

        def work(name: str) -> None:
            transport = SMTPTransport(server.url)
            reports.append(h.engine(store, transport, worker=name, batch_size=20).run(campaign_id))
            transport.close()

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        counts = server.recorder.by_recipient()
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert h.counts(store, campaign_id)["sent"] == 300
    assert sum(r.counts.get("sent", 0) for r in reports) == 300


def test_pause_resume_and_cancel(store, tmp_path: Path) -> None:  # noqa: ANN001
    h.add_contacts(store, 60)
    campaign_id = h.newsletter(store)
    h.start(store, campaign_id)
    engine = h.engine(store, OutboxTransport(tmp_path), batch_size=10)
    assert engine.run_batch(campaign_id).counts == {"sent": 10}
    with store.transaction() as session:
        campaigns.pause(session, campaign_id)
    assert engine.run(campaign_id).stopped == "paused"
    assert h.counts(store, campaign_id)["sent"] == 10
    with store.transaction() as session:
        campaigns.resume(session, campaign_id)
    engine.run_batch(campaign_id)
    with store.transaction() as session:
        result = campaigns.cancel(session, campaign_id)
    assert result["cancelled"] == 40
    assert engine.run(campaign_id).stopped == "cancelled"
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["cancelled"], status["status"]) == (20, 40, "cancelled")
    assert len(list(tmp_path.glob("*.eml"))) == 20


class _CancelDuringSend:
    """The outbox, but the campaign is cancelled while its first message is being sent."""

    def __init__(self, inner: OutboxTransport, store, campaign_id: int) -> None:  # noqa: ANN001
        self.inner, self.store, self.campaign_id, self.cancelled = inner, store, campaign_id, None

    def send(self, sender: str, recipient: str, message: bytes):  # noqa: ANN201
        if self.cancelled is None:
            with self.store.transaction() as session:
                self.cancelled = campaigns.cancel(session, self.campaign_id)["cancelled"]
        return self.inner.send(sender, recipient, message)

    def close(self) -> None:
        self.inner.close()


def test_cancel_while_a_message_is_in_flight_records_it_as_sent(store, tmp_path: Path) -> None:  # noqa: ANN001
    h.add_contacts(store, 12)
    campaign_id = h.newsletter(store)
    h.start(store, campaign_id)
    transport = _CancelDuringSend(OutboxTransport(tmp_path), store, campaign_id)
    assert h.engine(store, transport, batch_size=5).run(campaign_id).stopped == "cancelled"
    status = h.counts(store, campaign_id)
    # the message that went out is recorded as sent, not cancelled; nobody else gets one
    assert (status["sent"], status["cancelled"], status["pending"]) == (1, 11, 0)
    assert transport.cancelled == 12 and len(list(tmp_path.glob("*.eml"))) == 1


def test_unsubscribed_while_sending_receives_nothing_after(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 40, languages=("en",))
    campaign_id = h.newsletter(store, languages=("en",))
    h.start(store, campaign_id)
    with store.transaction() as session:  # the last one the batch will reach
        late, late_address = session.execute(
            select(Delivery.contact_id, Contact.email).join(Contact, Contact.id == Delivery.contact_id).order_by(Delivery.id.desc()).limit(1)
        ).one()
    with SMTPServer() as server:
        real = SMTPTransport(server.url)

        class UnsubscribeAfterFive:
            """The real SMTP transport; after the 5th message the last contact opts out."""

            sent = 0

            def send(self, sender: str, recipient: str, message: bytes):  # noqa: ANN201
                self.sent += 1
                if self.sent == 5:
                    with store.transaction() as session:
                        consent.record(session, late, ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
                return real.send(sender, recipient, message)

            def close(self) -> None:
                real.close()

        h.engine(store, UnsubscribeAfterFive(), batch_size=100).run(campaign_id)  # one batch, claimed before the opt-out
        real.close()
        assert server.recorder.count_to(late_address) == 0
        assert len(server.recorder.by_recipient()) == 39
    with store.transaction() as session:
        row = session.scalars(select(Delivery).where(Delivery.contact_id == late)).one()
    assert (row.status.value, row.suppression_reason) == ("suppressed", "unsubscribed")


@pytest.mark.parametrize("legacy_sending_mark", [False, True])
def test_dead_worker_claims_are_taken_back(store, tmp_path: Path, legacy_sending_mark: bool) -> None:  # noqa: ANN001
    h.add_contacts(store, 30)
    campaign_id = h.newsletter(store)
    h.start(store, campaign_id)
    from datetime import timedelta

    from crm.db import utcnow
    from crm.delivery import queries

    with store.transaction() as session:  # two batches: one whose worker sent 3 and died sending the 4th, one untouched
        campaign = campaigns.get(session, campaign_id)
        dead = queries.claim_batch(session, campaign, worker="dead#1", size=10, lease=timedelta(seconds=-1), now=utcnow())
        idle = queries.claim_batch(session, campaign, worker="dead#2", size=10, lease=timedelta(seconds=-1), now=utcnow())
        session.execute(update(Delivery).where(Delivery.id.in_([r.id for r in dead[:3]])).values(status="sent", lease_owner=None))
        if legacy_sending_mark:  # an older version marked the message in flight `sending`
            session.execute(update(Delivery).where(Delivery.id == dead[3].id).values(status="sending"))
    report = h.engine(store, OutboxTransport(tmp_path)).run(campaign_id)
    assert report.stopped == "done"
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["resent_after_crash"]) == (30, 2)  # the lowest open row of each dead batch
    with store.transaction() as session:
        flagged = set(session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign_id, Delivery.resent_after_crash)))
    assert flagged == {dead[3].id, idle[0].id}


def test_watchdog_starts_due_schedules_and_finds_stalled_campaigns(store, tmp_path: Path) -> None:  # noqa: ANN001
    from datetime import timedelta

    from crm.db import utcnow
    from crm.delivery import queries
    from crm.errors import ValidationError

    h.add_contacts(store, 10)
    campaign_id = h.newsletter(store)
    with store.transaction() as session:
        with pytest.raises(ValidationError, match="past"):
            campaigns.schedule(session, campaign_id, utcnow() - timedelta(minutes=1))
    with store.transaction() as session:
        campaigns.schedule(session, campaign_id, utcnow() + timedelta(hours=1))
        assert campaigns.start_due(session) == []  # not yet
    later = utcnow() + timedelta(hours=2)
    with store.transaction() as session:
        assert campaigns.start_due(session, later) == [campaign_id]
        assert campaigns.get(session, campaign_id).status.value == "sending"
        assert campaigns.start_due(session, later) == []  # started once
        assert queries.needing_workers(session, utcnow()) == [campaign_id]  # due work, nobody on it
        campaign = campaigns.get(session, campaign_id)
        queries.claim_batch(session, campaign, worker="alive", size=10, lease=timedelta(seconds=60), now=utcnow())
    with store.transaction() as session:
        assert queries.needing_workers(session, utcnow()) == []  # a live lease: somebody is working
        assert queries.needing_workers(session, utcnow() + timedelta(seconds=120)) == [campaign_id]  # it died
    report = h.engine(store, OutboxTransport(tmp_path), lease=timedelta(seconds=60)).run(campaign_id)
    assert report.stopped == "waiting"  # the other worker's lease still runs
    assert h.counts(store, campaign_id)["pending"] == 10
