"""Fault tests with real processes: `crm worker`s on a real Redis, PostgreSQL, and a real
SMTP server on loopback; workers killed with SIGKILL, Redis killed and restarted."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm import consent, tags
from crm.models import ConsentAction, ConsentSource, ConsentTopic
from tests.support import delivery as h
from tests.support.processes import RedisServer, Workers, wait_until
from tests.support.smtp_server import SMTPServer

pytestmark = pytest.mark.slow

_CAMPAIGN = re.compile(r"\.c(\d+)@")


@pytest.fixture
def pg_url(databases, pg_reason):  # noqa: ANN001, ANN201
    """Fault tests run on the production pairing: PostgreSQL + Redis."""
    return databases.url("postgresql")


def _env(pg_url: str, redis: RedisServer, smtp: SMTPServer, **extra: str) -> dict[str, str]:
    return {"CRM_DATABASE_URL": pg_url, "CRM_BROKER_URL": redis.url, "CRM_SMTP_URL": smtp.url,
            "CRM_SECRET_KEY": h.SECRET, "CRM_BASE_URL": h.BASE_URL, "CRM_DELIVERY_LEASE_SECONDS": "5",
            "CRM_WORKER_THREADS": "1", "CRM_WORKER_PROCESSES": "1", "CRM_DELIVERY_BATCH_SIZE": "50",
            "CRM_RETRY_BASE_SECONDS": "1"} | extra


def _finished(store, campaign_id: int) -> bool:  # noqa: ANN001
    return h.counts(store, campaign_id)["status"] == "finished"


def test_worker_killed_mid_campaign_loses_nobody(pg_url: str, tmp_path: Path) -> None:
    store = h.open_store(pg_url)
    h.add_contacts(store, 2000)
    campaign_id = h.newsletter(store)
    with RedisServer() as redis, SMTPServer() as smtp:
        with Workers(tmp_path, _env(pg_url, redis, smtp)) as workers:
            first = workers.start()
            workers.crm("campaigns", "send", str(campaign_id))
            wait_until(lambda: len(smtp.recorder.received) >= 500, 120, "500 messages")
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            at_kill = len(smtp.recorder.received)
            assert at_kill < 2000, "the campaign finished before the kill: nothing was tested"
            workers.start()
            wait_until(lambda: _finished(store, campaign_id), 180, "the campaign to finish")
        received = smtp.recorder.by_recipient()
    assert len(received) == 2000  # every recipient received
    duplicates = sum(n - 1 for n in received.values())
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["pending"]) == (2000, 0)
    assert duplicates <= status["resent_after_crash"] <= 1  # at most the one message in flight, recorded
    store.close()


def test_redis_restart_mid_campaign_completes(pg_url: str, tmp_path: Path) -> None:
    store = h.open_store(pg_url)
    h.add_contacts(store, 600)
    campaign_id = h.newsletter(store, rate_limit=150.0)  # about 4 s of sending
    with RedisServer() as redis, SMTPServer() as smtp:
        with Workers(tmp_path, _env(pg_url, redis, smtp)) as workers:
            workers.start()
            workers.crm("campaigns", "send", str(campaign_id))
            wait_until(lambda: len(smtp.recorder.received) >= 150, 60, "150 messages")
            redis.kill()  # no persistence: every queued message is gone
            time.sleep(1.0)
            redis.start()
            wait_until(lambda: _finished(store, campaign_id), 120, "the campaign to finish")
        received = smtp.recorder.by_recipient()
    assert len(received) == 600 and set(received.values()) == {1}
    store.close()


def test_two_workers_pause_resume_overlap_and_double_send(pg_url: str, tmp_path: Path) -> None:
    store = h.open_store(pg_url)
    ids = h.add_contacts(store, 400)
    with store.transaction() as session:  # two overlapping segments: tag a (0-299), tag b (100-399)
        tag_ids = tags.ids(session, ["a", "b"])
        tags.link(session, [(c, tag_ids["a"]) for c in ids[:300]] + [(c, tag_ids["b"]) for c in ids[100:]])
    # 25 msg/s: 300 messages take 12 s, and the pause comes after 30 of them, so a `crm` start-up
    # slowed by a loaded machine still pauses mid-campaign (at 40/s and 50 messages, one CI run
    # under load found the campaign already finished).
    first = h.newsletter(store, segment="tag = a and consent(newsletter)", rate_limit=25.0)
    second = h.newsletter(store, segment="tag = b and consent(newsletter)")
    with RedisServer() as redis, SMTPServer() as smtp:
        with Workers(tmp_path, _env(pg_url, redis, smtp, CRM_WORKER_PROCESSES="2")) as workers:
            workers.start()
            workers.start()
            workers.crm("campaigns", "send", str(first))
            workers.crm("campaigns", "send", str(first))  # a double send
            wait_until(lambda: len(smtp.recorder.received) >= 30, 60, "30 messages")
            workers.crm("campaigns", "pause", str(first))
            time.sleep(1.5)  # the messages in flight land
            paused_at = h.counts(store, first)["sent"]
            workers.crm("campaigns", "send", str(second))
            wait_until(lambda: _finished(store, second), 120, "the second campaign")
            assert h.counts(store, first)["sent"] == paused_at and h.counts(store, first)["status"] == "paused"
            workers.crm("campaigns", "resume", str(first))
            wait_until(lambda: _finished(store, first), 120, "the first campaign")
        per_campaign: dict[tuple[int, str], int] = {}
        for message in smtp.recorder.received:
            campaign = int(_CAMPAIGN.search(message.message["Message-ID"]).group(1))
            for rcpt in message.recipients:
                per_campaign[(campaign, rcpt)] = per_campaign.get((campaign, rcpt), 0) + 1
    assert set(per_campaign.values()) == {1}  # exactly one copy per recipient per campaign
    assert sum(1 for (c, _) in per_campaign if c == first) == 300
    assert sum(1 for (c, _) in per_campaign if c == second) == 300
    store.close()


def test_unsubscribe_while_workers_send(pg_url: str, tmp_path: Path) -> None:
    store = h.open_store(pg_url)
    ids = h.add_contacts(store, 200)
    campaign_id = h.newsletter(store, rate_limit=50.0)
    with RedisServer() as redis, SMTPServer() as smtp:
        with Workers(tmp_path, _env(pg_url, redis, smtp)) as workers:
            workers.start()
            workers.crm("campaigns", "send", str(campaign_id))
            wait_until(lambda: len(smtp.recorder.received) >= 20, 60, "20 messages")
            leaving = ids[150:]  # not reached yet at 50 messages a second
            with store.transaction() as session:
                for contact_id in leaving:
                    consent.record(session, contact_id, ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
            sent_before = len(smtp.recorder.received)
            wait_until(lambda: _finished(store, campaign_id), 120, "the campaign to finish")
        received = smtp.recorder.by_recipient()
    assert sent_before < 150, "the campaign reached them before the opt-out: nothing was tested"
    late = [f"r{i}@example.org" for i in range(150, 200) if f"r{i}@example.org" in received]
    # Only a message already in flight when the opt-out was committed may still land.
    assert len(late) <= 1, late
    status = h.counts(store, campaign_id)
    assert status["suppressed"] >= 49 and status["sent"] + status["suppressed"] == 200
    store.close()


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    """A private virtual host on the machine's RabbitMQ (127.0.0.1:5672, guest): parallel tests
    never share a queue."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        pytest.fail("rabbitmqctl not found: .ci/run installs and starts rabbitmq-server")
    vhost = f"crm_test_{uuid.uuid4().hex[:10]}"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run([ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True, capture_output=True,
                   timeout=60)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


def _smtp_faults_through_a_worker(pg_url: str, tmp_path: Path, broker_url: str) -> None:
    """451 for some recipients, 550 for others, a connection dropped after DATA once: the 451s
    are retried and arrive once, the 550s fail alone, the dropped one is `unknown` and never
    resent, and everybody else in the same batches receives the message once."""
    store = h.open_store(pg_url)
    h.add_contacts(store, 300)
    campaign_id = h.newsletter(store)
    temporary = {f"r{i}@example.org" for i in range(5, 300, 37)}
    permanent = {f"r{i}@example.org" for i in range(11, 300, 41)} - temporary
    dropped = "r150@example.org"
    with RedisServer() as redis, SMTPServer() as smtp:
        smtp.recorder.pipelining = True  # as Postfix offers it
        smtp.recorder.rules.update({a: "451" for a in temporary} | {a: "550" for a in permanent} | {dropped: "drop"})
        with Workers(tmp_path, _env(pg_url, redis, smtp, CRM_BROKER_URL=broker_url or redis.url)) as workers:
            workers.start()
            workers.crm("campaigns", "send", str(campaign_id))
            wait_until(lambda: _finished(store, campaign_id), 120, "the campaign to finish")
        received = smtp.recorder.by_recipient()
        attempts = dict(smtp.recorder.attempts)
    status = h.counts(store, campaign_id)
    assert (status["sent"], status["failed"], status["unknown"], status["pending"]) == (300 - len(permanent) - 1, len(permanent), 1, 0)
    assert all(received.get(a) == 1 and attempts[a] == 2 for a in temporary)  # retried once, then delivered once
    assert not permanent & set(received)
    assert received[dropped] == 1 and attempts[dropped] == 1  # the server has it; we could not know: never resent
    others = {f"r{i}@example.org" for i in range(300)} - temporary - permanent - {dropped}
    assert all(received.get(a) == 1 for a in others)
    store.close()


def test_smtp_faults_through_a_worker_on_redis(pg_url: str, tmp_path: Path) -> None:
    _smtp_faults_through_a_worker(pg_url, tmp_path, "")


def test_smtp_faults_through_a_worker_on_rabbitmq(pg_url: str, tmp_path: Path, rabbitmq_url: str) -> None:
    _smtp_faults_through_a_worker(pg_url, tmp_path, rabbitmq_url)


def test_the_rate_limit_holds_across_worker_processes(pg_url: str, tmp_path: Path) -> None:
    """Two `crm worker` processes, one campaign limited to 40 messages a second: both send,
    and together they never go faster (a lower bound on the time: a slow machine cannot fail it)."""
    store = h.open_store(pg_url)
    h.add_contacts(store, 120)
    campaign_id = h.newsletter(store, rate_limit=40.0)
    with RedisServer() as redis, SMTPServer() as smtp:
        with Workers(tmp_path, _env(pg_url, redis, smtp, CRM_WORKER_PROCESSES="2", CRM_DELIVERY_BATCH_SIZE="20")) as workers:
            workers.start()
            workers.start()
            workers.crm("campaigns", "send", str(campaign_id))
            wait_until(lambda: _finished(store, campaign_id), 120, "the campaign to finish")
        received = list(smtp.recorder.received)
    assert len(received) == 120
    assert len({r.peer for r in received}) >= 2, "one worker sent everything: the limit was not shared"
    span = received[-1].at - received[0].at
    assert span >= 119 / 40 * 0.9, f"120 messages in {span:.2f} s: faster than 40 a second"
    store.close()
