"""One batch of the send engine, on real databases and a real SMTP server on loopback.

What a batch claims, what it reports (claimed, the count of each fate, why it stopped, when
to look again), what it leaves in the database (each row's status, reason, message id, and
no row left leased when the batch gives work back): SMTP answers 250/451/550/dropped, a
recipient without a usable address, a message that cannot be built, the server gone before
or during the batch, the campaign paused, cancelled or a contact opting out while the batch
runs, a full batch, retries not due yet, a database that cannot be reached, the lease of a
batch that outlives part of it, and `follow_up_delay` (when a worker looks again).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from crm import consent
from crm.campaigns import service as campaigns
from crm.db import make_engine, make_session_factory, utcnow
from crm.delivery import engine as engine_module
from crm.delivery.engine import BatchReport, Engine, EngineConfig, follow_up_delay
from crm.delivery.queries import open_work
from crm.delivery.ratelimit import LocalRateLimiter
from crm.errors import CRMError
from crm.failures import first_line
from crm.mail.message import message_id_for
from crm.mail.smtp import SMTPTransport
from crm.models import ConsentAction, ConsentSource, ConsentTopic, Contact
from crm.models.campaigns import Campaign
from crm.models.deliveries import Delivery, DeliveryStatus
from tests.support import delivery as h
from tests.support.smtp_server import SMTPServer, free_port

DOMAIN = "cluster.example.org"  # the campaigns' sender domain: message ids end with it


@pytest.fixture
def server():  # noqa: ANN201
    with SMTPServer() as running:
        yield running


def _rows(store, campaign_id: int) -> list[Delivery]:  # noqa: ANN001
    with store.transaction() as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)))
        session.expunge_all()
    return rows


def _status(store, campaign_id: int) -> str:  # noqa: ANN001
    with store.transaction() as session:
        return session.scalar(select(Campaign.status).where(Campaign.id == campaign_id)).value


class Hooked:
    """The real SMTP transport; ``before(n)`` runs before the n-th message (1-based) is sent."""

    def __init__(self, url: str, before: Callable[[int], None]) -> None:
        self.real, self.before, self.sent = SMTPTransport(url, timeout=5), before, 0

    def send(self, sender: str, recipient: str, message: bytes):  # noqa: ANN201
        self.sent += 1
        self.before(self.sent)
        return self.real.send(sender, recipient, message)

    def close(self) -> None:
        self.real.close()


def _campaign(store, count: int, **options) -> tuple[int, list[int]]:  # noqa: ANN001, ANN003
    ids = h.add_contacts(store, count, languages=("fr",))
    campaign_id = h.newsletter(store, languages=("fr",), **options)
    h.start(store, campaign_id)
    return campaign_id, ids


# ---- follow_up_delay ----------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("report", "delay"), [
    (BatchReport(), 0.0),  # the time slice ran out with work left: at once
    (BatchReport(stopped="waiting", next_due=NOW + timedelta(seconds=12.5)), 12.5),
    (BatchReport(stopped="waiting", next_due=NOW + timedelta(seconds=0.2)), 0.5),  # never sooner than half a second
    (BatchReport(stopped="waiting", next_due=NOW - timedelta(seconds=30)), 0.5),
    (BatchReport(stopped="waiting"), None),
    (BatchReport(stopped="transport_down", detail="cannot reach SMTP"), 15.0),
    (BatchReport(stopped="database_down", detail="connection refused"), engine_module.DATABASE_RETRY_SECONDS),
    (BatchReport(stopped="done"), None),
    (BatchReport(stopped="finished"), None),
    (BatchReport(stopped="paused"), None),
    (BatchReport(stopped="cancelled"), None),
], ids=["slice-over", "waiting", "waiting-soon", "waiting-overdue", "waiting-no-time", "transport", "database",
        "done", "finished", "paused", "cancelled"])
def test_follow_up_delay(report: BatchReport, delay: float | None) -> None:
    assert follow_up_delay(report, NOW) == delay


def test_follow_up_delay_counts_from_now_by_default() -> None:
    assert engine_module.DATABASE_RETRY_SECONDS == 2.0
    delay = follow_up_delay(BatchReport(stopped="waiting", next_due=utcnow() + timedelta(seconds=100)))
    assert 99 < delay <= 100


# ---- open_work ----------------------------------------------------------------------------

def test_open_work_counts_open_rows_and_the_earliest_time_one_can_move(store) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 8)
    other_id = h.newsletter(store, languages=("fr",))
    h.start(store, other_id)
    now = utcnow().replace(microsecond=0)
    ids = [r.id for r in _rows(store, campaign_id)]
    s = timedelta(seconds=1)
    with store.transaction() as session:
        def set_row(i: int, **values) -> None:  # noqa: ANN003
            session.execute(update(Delivery).where(Delivery.id == ids[i]).values(**values))
        set_row(0, status=DeliveryStatus.SENT)
        set_row(1, status=DeliveryStatus.FAILED)
        set_row(2, status=DeliveryStatus.PENDING, next_attempt_at=now)  # due now: no wait
        set_row(3, status=DeliveryStatus.PENDING, next_attempt_at=now - 5 * s)
        set_row(4, status=DeliveryStatus.PENDING, next_attempt_at=now + 50 * s)
        set_row(5, status=DeliveryStatus.PENDING, next_attempt_at=now + 20 * s)
        set_row(6, status=DeliveryStatus.CLAIMED, lease_owner="w#1", lease_expires_at=now + 30 * s)
        set_row(7, status=DeliveryStatus.SENDING, lease_owner="w#1", lease_expires_at=now + 40 * s)
        # Another campaign's rows move sooner: they do not count.
        session.execute(update(Delivery).where(Delivery.campaign_id == other_id)
                        .values(status=DeliveryStatus.CLAIMED, lease_owner="x#1", lease_expires_at=now + s))
        session.execute(update(Delivery).where(Delivery.campaign_id == other_id, Delivery.contact_id == min(
            r.contact_id for r in _rows(store, other_id))).values(status=DeliveryStatus.PENDING, next_attempt_at=now + 2 * s))
    with store.transaction() as session:
        assert open_work(session, campaign_id, now) == (6, now + 20 * s)  # the retry in 20 s
        session.execute(update(Delivery).where(Delivery.id == ids[7]).values(lease_expires_at=now + 10 * s))
        assert open_work(session, campaign_id, now) == (6, now + 10 * s)  # a lease that ends sooner
        session.execute(update(Delivery).where(Delivery.id.in_(ids[4:8])).values(status=DeliveryStatus.SENT))
        assert open_work(session, campaign_id, now) == (2, None)  # due now: nothing to wait for
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id).values(status=DeliveryStatus.SUPPRESSED))
        assert open_work(session, campaign_id, now) == (0, None)


# ---- what one batch does ------------------------------------------------------------------

def test_an_unknown_campaign_is_an_error_naming_it(store) -> None:  # noqa: ANN001
    engine = h.engine(store, SMTPTransport(f"smtp://127.0.0.1:{free_port()}?tls=off"))
    with pytest.raises(CRMError) as caught:
        engine.run_batch(4242)
    assert str(caught.value) == "no campaign 4242"
    with pytest.raises(CRMError, match="^no campaign 4242$"):  # not a database outage: `run` lets it out
        engine.run(4242)


def test_a_campaign_not_sending_is_left_alone(store, server) -> None:  # noqa: ANN001
    h.add_contacts(store, 3, languages=("fr",))
    draft = h.newsletter(store, languages=("fr",))
    engine = h.engine(store, SMTPTransport(server.url))
    assert engine.run_batch(draft) == BatchReport(claimed=0, counts={}, stopped="draft")
    campaign_id = h.newsletter(store, languages=("fr",))
    h.start(store, campaign_id)
    with store.transaction() as session:
        campaigns.pause(session, campaign_id)
    assert engine.run_batch(campaign_id) == BatchReport(claimed=0, counts={}, stopped="paused")
    assert engine.run(campaign_id).stopped == "paused"
    assert [(r.status.value, r.lease_owner, r.attempts) for r in _rows(store, campaign_id)] == [("pending", None, 0)] * 3
    assert server.recorder.received == []


def test_a_batch_reports_each_fate_and_records_each_row(store, server) -> None:  # noqa: ANN001
    campaign_id, ids = _campaign(store, 9, rate_limit=None)
    with store.transaction() as session:  # after the start: no address any more, an address no longer valid
        session.execute(update(Contact).where(Contact.id == ids[1]).values(email=None))
        session.execute(update(Contact).where(Contact.id == ids[2]).values(email="broken@@example.org"))
    server.recorder.rules.update({"r3@example.org": "451", "r4@example.org": "550", "r5@example.org": "drop"})
    transport = SMTPTransport(server.url)
    engine = h.engine(store, transport, batch_size=20, retry_base_seconds=30)
    report = engine.run_batch(campaign_id)
    assert report == BatchReport(claimed=9, counts={"sent": 4, "suppressed": 2, "retry": 1, "failed": 1, "unknown": 1},
                                 stopped=None, next_due=None)  # one row is open (the 4xx): not finished
    rows = {r.contact_id: r for r in _rows(store, campaign_id)}
    for i in (0, 6, 7, 8):
        row = rows[ids[i]]
        assert (row.status.value, row.address, row.language, row.lease_owner) == ("sent", f"r{i}@example.org", "fr", None)
        assert row.message_id == message_id_for(row.id, campaign_id, DOMAIN)
    headers = {r.recipients[0]: r.message["Message-ID"] for r in server.recorder.received}
    assert headers["r6@example.org"] == rows[ids[6]].message_id  # the id recorded is the one the message carries
    assert (rows[ids[1]].status.value, rows[ids[1]].suppression_reason) == ("suppressed", "no_address")
    assert (rows[ids[2]].status.value, rows[ids[2]].suppression_reason) == ("suppressed", "invalid_address")
    assert (rows[ids[4]].status.value, rows[ids[4]].last_error[:3]) == ("failed", "550")
    assert rows[ids[5]].status.value == "unknown"
    retry = rows[ids[3]]
    assert (retry.status.value, retry.attempts, retry.last_error[:3], retry.lease_owner) == ("pending", 1, "451", None)
    # Nothing is due before the retry's time: the next batch says when to look again.
    assert engine.run_batch(campaign_id) == BatchReport(claimed=0, counts={}, stopped="waiting", next_due=retry.next_attempt_at)
    assert _status(store, campaign_id) == "sending"
    with store.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == retry.id).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert engine.run_batch(campaign_id) == BatchReport(claimed=1, counts={"sent": 1}, stopped="done")
    transport.close()
    assert _status(store, campaign_id) == "sending"  # the engine reports; crm.campaigns.runner finishes it
    assert server.recorder.by_recipient() == {f"r{i}@example.org": 1 for i in (0, 3, 5, 6, 7, 8)}


def test_the_campaigns_survey_link_reaches_the_message(store, server) -> None:  # noqa: ANN001
    h.add_contacts(store, 1, languages=("fr",))
    with store.transaction() as session:
        campaign = campaigns.create(
            session, renderer=h.renderer(), name="Enquête", kind=campaigns.kind("newsletter"), segment="consent(newsletter)",
            contents=[campaigns.ContentInput("fr", "Enquête", "Répondez ici : {{ extra.survey_url }}")],
            from_address=f"animation@{DOMAIN}", from_name="Cluster Test", default_language="fr",
            survey_url="https://forms.pole-agri-ouest.eu/s/42")
        campaign_id = campaign.id
    h.start(store, campaign_id)
    transport = SMTPTransport(server.url)
    assert h.engine(store, transport).run_batch(campaign_id).counts == {"sent": 1}
    transport.close()
    text = server.recorder.received[0].message.get_body(("plain",)).get_content()
    assert "https://forms.pole-agri-ouest.eu/s/42" in text


def test_a_message_that_cannot_be_built_fails_alone(store, server) -> None:  # noqa: ANN001
    ids = h.add_contacts(store, 3, languages=("fr",))
    with store.transaction() as session:
        session.execute(update(Contact).where(Contact.id == ids[1]).values(first_name=""))
        campaign = campaigns.create(
            session, renderer=h.renderer(), name="Lettre", kind=campaigns.kind("newsletter"), segment="consent(newsletter)",
            contents=[campaigns.ContentInput("fr", "Lettre", "Bonjour, votre part : {{ 100 // (contact.first_name|length) }}.")],
            from_address=f"animation@{DOMAIN}", from_name="Cluster Test", default_language="fr")
        campaign_id = campaign.id
    h.start(store, campaign_id)
    transport = SMTPTransport(server.url)
    report = h.engine(store, transport).run_batch(campaign_id)
    transport.close()
    assert report == BatchReport(claimed=3, counts={"sent": 2, "failed": 1}, stopped="done")
    failed = next(r for r in _rows(store, campaign_id) if r.contact_id == ids[1])
    assert failed.status.value == "failed"
    assert failed.last_error.startswith("cannot build the message: ")
    assert failed.last_error.endswith("integer division or modulo by zero")
    assert sorted(server.recorder.by_recipient()) == ["r0@example.org", "r2@example.org"]


def test_smtp_unreachable_gives_the_whole_batch_back_at_once(store) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 5)
    server = SMTPServer()  # its port; nothing listens
    report = h.engine(store, SMTPTransport(server.url, timeout=5), retry_base_seconds=3600).run_batch(campaign_id)
    assert report == BatchReport(
        claimed=5, counts={"released": 1}, stopped="transport_down",
        detail=f"cannot reach SMTP 127.0.0.1:{server.port} (connection refused): check CRM_SMTP_URL or start the server")
    # no attempt counted, nobody holds a row; the row that found the server gone waits a retry delay
    rows = _rows(store, campaign_id)
    assert [(r.status.value, r.attempts, r.lease_owner, r.lease_expires_at) for r in rows] == [("pending", 0, None, None)] * 5
    assert [r.next_attempt_at is None for r in rows] == [False, True, True, True, True]
    assert rows[0].last_error == report.detail
    assert _status(store, campaign_id) == "sending"


def test_smtp_gone_in_the_middle_of_a_batch_keeps_what_was_sent_and_gives_back_the_rest(store, server) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 7)
    transport = Hooked(server.url, lambda n: server.kill() if n == 4 else None)
    report = h.engine(store, transport, retry_base_seconds=3600).run_batch(campaign_id)
    transport.close()
    # the 4th finds its connection cut (a 4xx-like failure, tried again later), the 5th cannot connect
    assert report.claimed == 7 and report.counts == {"sent": 3, "retry": 1, "released": 1} and report.stopped == "transport_down"
    assert report.detail == f"cannot reach SMTP 127.0.0.1:{server.port} (connection refused): check CRM_SMTP_URL or start the server"
    assert [(r.status.value, r.lease_owner, r.attempts) for r in _rows(store, campaign_id)] == \
        [("sent", None, 1)] * 3 + [("pending", None, 1), ("pending", None, 0), ("pending", None, 0), ("pending", None, 0)]
    assert len(server.recorder.received) == 3


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_paused_or_cancelled_while_a_batch_runs_stops_it_and_gives_back_the_rest(store, server, action: str) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 8)

    def stop(n: int) -> None:
        if n == 3:  # while the third message goes out
            with store.transaction() as session:
                getattr(campaigns, action)(session, campaign_id)

    transport = Hooked(server.url, stop)
    report = h.engine(store, transport).run_batch(campaign_id)
    transport.close()
    state = {"pause": "paused", "cancel": "cancelled"}[action]
    assert report == BatchReport(claimed=8, counts={"sent": 3}, stopped=state)
    rows = _rows(store, campaign_id)
    assert [r.status.value for r in rows] == ["sent"] * 3 + ["pending" if action == "pause" else "cancelled"] * 5
    if action == "pause":  # given back: a resume sends them at once, whoever runs it
        assert {(r.lease_owner, r.lease_expires_at, r.next_attempt_at) for r in rows} == {(None, None, None)}
    assert len(server.recorder.received) == 3 and _status(store, campaign_id) == state


def test_paused_while_the_last_message_goes_out_stays_paused(store, server) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 3)

    def pause(n: int) -> None:
        if n == 3:
            with store.transaction() as session:
                campaigns.pause(session, campaign_id)

    transport = Hooked(server.url, pause)
    report = h.engine(store, transport).run_batch(campaign_id)
    transport.close()
    assert report.counts == {"sent": 3}
    assert _status(store, campaign_id) == "paused"  # nothing open, but a paused campaign is not marked finished here


def test_a_contact_opting_out_while_the_batch_runs_is_suppressed_and_the_batch_goes_on(store, server) -> None:  # noqa: ANN001
    campaign_id, ids = _campaign(store, 6)

    def opt_out(n: int) -> None:
        if n == 2:
            with store.transaction() as session:
                consent.record(session, ids[4], ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)

    transport = Hooked(server.url, opt_out)
    report = h.engine(store, transport).run_batch(campaign_id)
    transport.close()
    assert report == BatchReport(claimed=6, counts={"sent": 5, "suppressed": 1}, stopped="done")
    assert "r4@example.org" not in server.recorder.by_recipient()


def test_a_full_batch_does_not_report_the_work_done_the_next_empty_one_does(store, server) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 4)
    transport = SMTPTransport(server.url)
    engine = h.engine(store, transport, batch_size=4)
    assert engine.run_batch(campaign_id) == BatchReport(claimed=4, counts={"sent": 4}, stopped=None)
    assert engine.run_batch(campaign_id) == BatchReport(claimed=0, counts={}, stopped="done")
    assert engine.run_batch(campaign_id) == BatchReport(claimed=0, counts={}, stopped="done")
    transport.close()
    with store.transaction() as session:  # the campaign's status is not the engine's to change
        campaign = session.get(Campaign, campaign_id)
        assert (campaign.status.value, campaign.finished_at) == ("sending", None)


def test_open_rows_with_no_time_to_move_say_look_again_in_a_second(store) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 2)
    with store.transaction() as session:  # marked in flight by an earlier version, without a lease end
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id)
                        .values(status=DeliveryStatus.SENDING, lease_owner="old#1", lease_expires_at=None))
    before = utcnow()
    report = h.engine(store, SMTPTransport(f"smtp://127.0.0.1:{free_port()}?tls=off")).run_batch(campaign_id)
    after = utcnow()
    assert (report.claimed, report.counts, report.stopped) == (0, {}, "waiting")
    assert before + timedelta(seconds=1) <= report.next_due <= after + timedelta(seconds=1)


def test_each_batch_holds_its_rows_under_its_own_lease_owner(store, server) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 4)
    seen: list[tuple[set[str | None], set[str]]] = []
    ends: list[set[datetime]] = []

    def look(n: int) -> None:
        rows = _rows(store, campaign_id)
        seen.append(({r.lease_owner for r in rows if r.status is DeliveryStatus.CLAIMED},
                     {r.status.value for r in rows if r.lease_owner is None}))
        ends.append({r.lease_expires_at for r in rows if r.status is DeliveryStatus.CLAIMED})

    transport = Hooked(server.url, look)
    engine = h.engine(store, transport, worker="w7", batch_size=2, lease=timedelta(seconds=30))
    assert engine.run_batch(campaign_id).counts == {"sent": 2}
    with store.transaction() as session:
        leases = list(session.scalars(select(Delivery.lease_expires_at).where(Delivery.lease_owner.is_not(None))))
    assert leases == []
    assert engine.run_batch(campaign_id).counts == {"sent": 2}
    transport.close()
    assert [owners for owners, _ in seen] == [{"w7#1"}, {"w7#1"}, {"w7#2"}, {"w7#2"}]
    assert seen[0][1] == {"pending"} and seen[2][1] == {"sent"}
    # A batch far shorter than its lease does not rewrite it before each message.
    assert len(ends[0]) == 1 and ends[1] == ends[0] and ends[3] == ends[2]


# ---- the lease of a long batch ------------------------------------------------------------

def _slow(server: SMTPServer, seconds: float) -> None:
    """The test server takes ``seconds`` before it answers each DATA."""
    original = server.recorder.handle_DATA

    async def handle_DATA(srv, session, envelope):  # noqa: ANN001, ANN202, N802
        await asyncio.sleep(seconds)
        return await original(srv, session, envelope)

    server.recorder.handle_DATA = handle_DATA


def test_a_batch_that_outlives_its_lease_keeps_extending_it_and_no_other_worker_takes_its_rows(store, server) -> None:  # noqa: ANN001
    count = 40
    campaign_id, _ = _campaign(store, count)
    _slow(server, 0.06)  # 40 messages: about 2.5 s; the lease is 1.8 s
    lease = timedelta(seconds=1.8)
    looks: list[tuple[int, datetime, list[datetime]]] = []

    def look(n: int) -> None:  # before the n-th message: the leases of the rows still to send
        with store.transaction() as session:
            ends = list(session.scalars(select(Delivery.lease_expires_at)
                                        .where(Delivery.status == DeliveryStatus.CLAIMED).order_by(Delivery.id)))
        looks.append((n, utcnow(), ends))

    transport = Hooked(server.url, look)
    first = h.engine(store, transport, worker="long", batch_size=50, lease=lease)
    other_transport = SMTPTransport(server.url)
    other = h.engine(store, other_transport, worker="other", batch_size=50, lease=lease)
    other_reports: list[BatchReport] = []

    def meanwhile() -> None:  # another worker looks when the batch has run longer than its first lease
        time.sleep(2.1)
        other_reports.append(other.run_batch(campaign_id))

    thread = threading.Thread(target=meanwhile)
    thread.start()
    report = first.run_batch(campaign_id)
    thread.join(10)
    transport.close()
    other_transport.close()
    assert report == BatchReport(claimed=count, counts={"sent": count}, stopped="done")
    assert len(other_reports) == 1 and other_reports[0].claimed == 0 and other_reports[0].stopped == "waiting"
    assert len(server.recorder.received) == count and set(server.recorder.by_recipient().values()) == {1}
    assert [n for n, _, _ in looks] == list(range(1, count + 1))
    assert looks[-1][1] - looks[0][1] > lease  # the batch did outlive its first lease
    for n, at, ends in looks:
        assert len(ends) == count + 1 - n, (n, ends)  # the row going out and those after it, all still held
        assert min(ends) > at, f"message {n}: the lease ran out at {min(ends)}, before {at}"
        assert len(set(ends)) == 1  # extended together
    # Extended once a third of the lease has passed, not more often (each extension is a write).
    renewals = sorted({ends[0] for _, _, ends in looks})
    assert len(renewals) >= 3
    assert all(later - earlier >= lease / 3 - timedelta(milliseconds=10) for earlier, later in zip(renewals, renewals[1:]))


# ---- whole runs ---------------------------------------------------------------------------

def test_run_adds_up_its_batches_and_stops_when_time_is_up(store, server) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 7)
    transport = SMTPTransport(server.url)
    engine = h.engine(store, transport, batch_size=3)
    assert engine.run(campaign_id, max_seconds=0) == BatchReport(claimed=3, counts={"sent": 3}, stopped=None)
    assert engine.run(campaign_id, max_seconds=60) == BatchReport(claimed=4, counts={"sent": 4}, stopped="done")
    transport.close()
    assert len(server.recorder.received) == 7


def test_run_with_the_database_away_reports_it_in_one_bounded_line() -> None:
    # A database host that cannot be found: its name makes the driver's message long.
    host = ".".join(["a" * 62] * 4) + ".invalid"
    db = make_engine(f"postgresql+psycopg://postgres@{host}:5432/nowhere?connect_timeout=2")
    sessions = make_session_factory(db)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - whatever the driver says
        with sessions.begin() as session:
            session.scalar(select(Campaign.id))
    engine = Engine(sessions, SMTPTransport(f"smtp://127.0.0.1:{free_port()}?tls=off"), h.composer(), LocalRateLimiter(),
                    EngineConfig(worker="w"))
    report = engine.run(1)
    db.dispose()
    said = first_line(caught.value)
    assert len(said) > 300 and said.startswith(f"failed to resolve host '{host}'")
    assert report == BatchReport(claimed=0, counts={}, stopped="database_down", detail=said[:300])
    assert follow_up_delay(report) == 2.0


@pytest.mark.parametrize("where", ["none", "campaign", "global"])
def test_the_campaign_rate_and_the_global_rate_are_kept(store, server, where: str) -> None:  # noqa: ANN001
    campaign_id, _ = _campaign(store, 6, rate_limit=10.0 if where == "campaign" else None)
    transport = SMTPTransport(server.url)
    naps: list[float] = []  # the real limiter on a stopped clock; its sleeps are recorded, not slept
    limiter = LocalRateLimiter(clock=lambda: 100.0, sleep=naps.append)
    engine = h.engine(store, transport, global_rate=10.0 if where == "global" else None, limiter=limiter)
    assert engine.run_batch(campaign_id).counts == {"sent": 6}
    transport.close()
    if where == "none":
        assert naps == []
    else:  # 10 a second: the 2nd leaves 0.1 s after the 1st, the 6th 0.5 s after it
        assert naps == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


# ---- taking back the rows of a dead batch -------------------------------------------------

@pytest.mark.parametrize("died", ["with-the-database", "alone"])
def test_a_batch_that_died_with_the_database_server_may_have_lost_its_last_results(store, server, died: str) -> None:  # noqa: ANN001
    if store.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL commits without waiting for the disk (and has a server start time)")
    count = engine_module.UNRECORDED + 3
    campaign_id, _ = _campaign(store, count)
    with store.transaction() as session:
        started = session.scalar(select(func.pg_postmaster_start_time()))
        # The dead worker's lease (30 s) was set before the server started: its last
        # asynchronously committed results may be lost with the crash. Or, alone: set after.
        ends = started - timedelta(seconds=1) if died == "with-the-database" else utcnow() - timedelta(seconds=1)
        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id)
                        .values(status=DeliveryStatus.CLAIMED, lease_owner="dead#1", lease_expires_at=ends))
    transport = SMTPTransport(server.url)
    report = h.engine(store, transport, lease=timedelta(seconds=30)).run_batch(campaign_id)
    transport.close()
    assert report == BatchReport(claimed=count, counts={"sent": count}, stopped="done")
    marked = [r.resent_after_crash for r in _rows(store, campaign_id)]
    may_have_gone = engine_module.UNRECORDED if died == "with-the-database" else 1  # else: only the one in flight
    assert marked == [True] * may_have_gone + [False] * (count - may_have_gone)
    assert h.counts(store, campaign_id)["resent_after_crash"] == may_have_gone
