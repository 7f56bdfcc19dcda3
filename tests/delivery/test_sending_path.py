"""The sending path against unreachable services and unsafe settings, through real parts:
a real SMTP server on loopback (or a port where nothing listens), a real Redis, real
databases and the installed `crm`.

- SMTP unreachable: test-send and send stop at once with exit 69 and change nothing; a
  campaign whose server goes away while it is sent here is paused with the reason, nothing
  failed, and a resume sends everyone once.
- Broker unreachable: nothing is started (exit 69); a started campaign whose queue message
  was lost is picked up by `crm worker`'s watchdog.
- Bad CRM_SMTP_URL: exit 78 naming it. Bad --rate: exit 65, nothing created.
- Real mail needs a secret of one's own and a public base URL (78); the embedded default
  generates a secret once and keeps it.
- `campaigns schedule` without a broker: `crm worker` (in-process) starts it when due.
"""

from __future__ import annotations

import email
import shutil
import signal
import stat
import subprocess
import time
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import update

from crm import links, signing
from crm.campaigns import runner
from crm.campaigns import service as campaigns
from crm.delivery import ratelimit
from crm.errors import ConfigError, ServiceUnavailable, ValidationError
from crm.mail.smtp import SMTPTransport
from crm.mail.transport import TransportUnavailable
from crm.models.campaigns import Campaign
from crm.settings import Settings
from tests.support import delivery as h
from tests.support.cli import CrmRunner
from tests.support.processes import RedisServer, Workers, wait_until
from tests.support.smtp_server import SMTPServer, free_port

REAL_MAIL = {"CRM_SECRET_KEY": h.SECRET, "CRM_BASE_URL": h.BASE_URL}
REAL_MAIL_SETTINGS = {"secret_key": h.SECRET, "base_url": h.BASE_URL}


def _nobody_listening() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
def crm_sqlite(tmp_path: Path) -> tuple[CrmRunner, object]:
    """The installed `crm` on a SQLite file, and a store on the same file for set-up."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    store = h.open_store(url)
    yield CrmRunner(tmp_path, url), store
    store.close()


def _one_line(result) -> None:  # noqa: ANN001
    assert "Traceback" not in result.err and result.err.strip().count("\n") == 0, result.err


# ---- the transport ------------------------------------------------------------------------

def test_an_unreachable_smtp_server_is_service_unavailable_with_the_fix() -> None:
    where = _nobody_listening()
    with pytest.raises(ServiceUnavailable) as caught:
        SMTPTransport(f"smtp://{where}").connect()
    assert isinstance(caught.value, TransportUnavailable)
    assert str(caught.value) == f"cannot reach SMTP {where} (connection refused): check CRM_SMTP_URL or start the server"


@pytest.mark.parametrize("url, words", [
    ("smtp://h:99999", "port"), ("smtp://h:abc", "port"), ("smtp://h:0", "port"),
    ("http://mail.example.org", "smtp://"), ("smtp://", "no host"),
    ("smtp://user:hunter2@h:abc", "port"),
])
def test_a_malformed_smtp_url_is_a_config_error_naming_it(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SMTPTransport(url)
    assert caught.value.setting == "CRM_SMTP_URL" and words in str(caught.value)
    assert "hunter2" not in str(caught.value)


# ---- the rate -----------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [1e-300, float("nan"), float("inf"), float("-inf"), 0.0, -1.0, 0.0009, 10_001.0])
def test_a_rate_out_of_range_is_refused(rate: float) -> None:
    with pytest.raises(ValidationError, match="from 0.001 to 10,000"):
        ratelimit.check_rate(rate)


def test_a_stored_tiny_rate_waits_at_most_the_minimum_rate() -> None:
    waits: list[float] = []
    clock = iter(range(100))
    limiter = ratelimit.LocalRateLimiter(clock=lambda: float(next(clock)), sleep=waits.append)
    limiter.acquire({"campaign:1": 1e-300})
    limiter.acquire({"campaign:1": 1e-300})  # before: time.sleep(1e300) -> OverflowError
    assert waits and max(waits) <= 1 / ratelimit.MIN_RATE


@pytest.mark.slow
def test_rate_at_the_door_through_crm(crm_sqlite) -> None:  # noqa: ANN001
    crm, _ = crm_sqlite
    (crm.cwd / "n.md").write_text("Bonjour", encoding="utf-8")
    for rate in ("1e-300", "nan", "inf", "0", "20000"):
        result = crm("campaigns", "create", "--kind", "newsletter", "--segment", "all", "--subject", "x",
                     "--content", "n.md", "--rate", rate, ok=False)
        assert result.code == 65 and "rate" in result.err, (rate, result.err)
        _one_line(result)
    assert crm("campaigns", "list", "--json").json() == []


# ---- test-send ----------------------------------------------------------------------------

@pytest.mark.slow
def test_test_send_to_an_unreachable_server_is_exit_69(crm_sqlite) -> None:  # noqa: ANN001
    crm, store = crm_sqlite
    campaign_id = h.newsletter(store)
    where = _nobody_listening()
    crm.env.update({"CRM_SMTP_URL": f"smtp://{where}", **REAL_MAIL})
    result = crm("campaigns", "test-send", str(campaign_id), "--to", "a@b.example", ok=False)
    assert result.code == 69 and f"cannot reach SMTP {where} (connection refused)" in result.err
    _one_line(result)
    for bad in ("smtp://h:99999", "smtp://h:abc"):
        crm.env["CRM_SMTP_URL"] = bad
        result = crm("campaigns", "test-send", str(campaign_id), "--to", "a@b.example", ok=False)
        assert result.code == 78 and "CRM_SMTP_URL" in result.err
        _one_line(result)


# ---- send, in-process ---------------------------------------------------------------------

@pytest.mark.slow
def test_send_with_smtp_unreachable_stops_at_once_and_changes_nothing(crm_sqlite) -> None:  # noqa: ANN001
    crm, store = crm_sqlite
    h.add_contacts(store, 12)
    campaign_id = h.newsletter(store)
    server = SMTPServer()  # not started yet: nothing listens on its port
    crm.env.update({"CRM_SMTP_URL": server.url, **REAL_MAIL})
    started = time.monotonic()
    result = crm("campaigns", "send", str(campaign_id), ok=False, timeout=60)  # before: retried every 15 s, forever
    assert time.monotonic() - started < 30
    assert result.code == 69 and f"cannot reach SMTP 127.0.0.1:{server.port}" in result.err
    _one_line(result)
    assert (h.counts(store, campaign_id)["status"], h.counts(store, campaign_id)["total"]) == ("draft", 0)
    with server:
        status = crm("campaigns", "send", str(campaign_id), "--json").json()
        assert (status["status"], status["sent"]) == ("finished", 12)
        assert set(server.recorder.by_recipient().values()) == {1}


def test_smtp_gone_while_sending_here_pauses_with_the_reason_and_resume_sends_each_once(store) -> None:  # noqa: ANN001
    h.add_contacts(store, 30)
    campaign_id = h.newsletter(store)
    server = SMTPServer()  # its port, nothing listening (yet)
    h.start(store, campaign_id)
    # A long retry delay: the row given back when the server was found gone must not wait it.
    engine = h.engine(store, SMTPTransport(server.url, timeout=5), retry_base_seconds=3600)
    naps: list[float] = []
    with pytest.raises(TransportUnavailable, match=rf"cannot reach SMTP 127.0.0.1:{server.port}.*resume {campaign_id}"):
        runner.run_to_end(engine, campaign_id, first_wait=0.01, sleep=naps.append)
    assert len(naps) == runner.QUICK_RETRIES  # a few quick retries, then it stops
    status = h.counts(store, campaign_id)
    assert (status["status"], status["pending"], status["failed"], status["sent"]) == ("paused", 30, 0, 0)
    assert status["reason"].startswith(f"cannot reach SMTP 127.0.0.1:{server.port}")

    def no_long_naps(seconds: float) -> None:
        assert seconds < 5, f"asked to wait {seconds} s"
        time.sleep(seconds)

    with server:
        with store.transaction() as session:
            campaigns.resume(session, campaign_id)
        runner.run_to_end(engine, campaign_id, sleep=no_long_naps)
        received = server.recorder.by_recipient()
    status = h.counts(store, campaign_id)
    assert (status["status"], status["sent"], status["failed"]) == ("finished", 30, 0) and "reason" not in status
    assert len(received) == 30 and set(received.values()) == {1}


# ---- the broker ---------------------------------------------------------------------------

@pytest.fixture
def pg_url(databases, pg_reason):  # noqa: ANN001, ANN201
    return databases.url("postgresql")


def _redis_with_password(port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("redis-server") or pytest.fail("redis-server is not installed")
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--requirepass", "not-the-one-you-have"], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port, password="not-the-one-you-have")
    wait_until(lambda: _pings(client), 10, "redis-server")
    return proc


def _pings(client) -> bool:  # noqa: ANN001
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.slow
def test_an_unreachable_broker_starts_nothing_and_the_watchdog_takes_lost_messages(pg_url: str, tmp_path: Path) -> None:
    store = h.open_store(pg_url)
    h.add_contacts(store, 40)
    campaign_id = h.newsletter(store)
    crm = CrmRunner(tmp_path, pg_url)
    crm.env["CRM_BROKER_URL"] = f"redis://{_nobody_listening()}/0"
    result = crm("campaigns", "send", str(campaign_id), ok=False, timeout=60)
    assert result.code == 69 and "cannot reach the broker redis://127.0.0.1:" in result.err
    _one_line(result)
    assert (h.counts(store, campaign_id)["status"], h.counts(store, campaign_id)["total"]) == ("draft", 0)

    # Reachable, but the enqueue fails (a password is needed): the start is rolled back.
    port = free_port()
    locked = _redis_with_password(port)
    try:
        crm.env["CRM_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
        result = crm("campaigns", "send", str(campaign_id), ok=False, timeout=60)
    finally:
        locked.terminate()
        locked.wait()
    # a password to give is a setting to fix, not a service to wait for
    assert result.code == 78 and "CRM_BROKER_URL" in result.err and "password" in result.err, result.err
    _one_line(result)
    assert (h.counts(store, campaign_id)["status"], h.counts(store, campaign_id)["total"]) == ("draft", 0)

    # Started, but its queue message lost: the watchdog of `crm worker` picks it up.
    h.start(store, campaign_id)
    with RedisServer() as redis_server, SMTPServer() as smtp:
        env = {"CRM_DATABASE_URL": pg_url, "CRM_BROKER_URL": redis_server.url, "CRM_SMTP_URL": smtp.url,
               "CRM_WORKER_THREADS": "1", **REAL_MAIL}
        with Workers(tmp_path, env) as workers:
            workers.start()
            wait_until(lambda: h.counts(store, campaign_id)["status"] == "finished", 60, "the campaign to finish")
        received = smtp.recorder.by_recipient()
    assert len(received) == 40 and set(received.values()) == {1}
    store.close()


# ---- the secret key and the base URL ------------------------------------------------------

def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'crm.db'}", **values)


@pytest.mark.parametrize("values, setting", [
    ({}, "CRM_SECRET_KEY"),
    ({"secret_key": "change-me-in-production"}, "CRM_SECRET_KEY"),
    ({"secret_key": "short-but-not-default"}, "CRM_SECRET_KEY"),
    ({"secret_key": h.SECRET}, "CRM_BASE_URL"),  # http://localhost:8000
    ({"secret_key": h.SECRET, "base_url": "https://crm.example.org"}, "CRM_BASE_URL"),
    ({"secret_key": h.SECRET, "base_url": "https://127.0.0.1"}, "CRM_BASE_URL"),
    ({"secret_key": h.SECRET, "base_url": "http://crm.pole-agri-ouest.eu"}, "CRM_BASE_URL"),
])
def test_real_mail_needs_a_secret_and_a_public_address(tmp_path: Path, values: dict, setting: str) -> None:
    settings = _settings(tmp_path, smtp_url="smtp://127.0.0.1:25", **values)
    with pytest.raises(ConfigError) as caught:
        signing.resolve(settings)
    assert caught.value.setting == setting
    if setting == "CRM_SECRET_KEY":
        assert "secrets.token_urlsafe(32)" in str(caught.value)
    good = signing.resolve(_settings(tmp_path, smtp_url="smtp://127.0.0.1:25", **REAL_MAIL_SETTINGS))
    assert good == signing.Signing(h.SECRET, h.BASE_URL)


def test_the_embedded_default_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = signing.resolve(_settings(tmp_path, secret_key="change-me-in-production"))
    stored = tmp_path / ".crm-secret"
    assert stored.read_text().strip() == first.secret_key and len(first.secret_key) >= 32
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert first.secret_key != "change-me-in-production"
    assert signing.resolve(_settings(tmp_path)).secret_key == first.secret_key  # the next run: the same


@pytest.mark.slow
def test_send_through_crm_refuses_real_mail_without_a_secret_and_the_outbox_signs_with_its_own(crm_sqlite) -> None:  # noqa: ANN001
    crm, store = crm_sqlite
    h.add_contacts(store, 3)
    campaign_id = h.newsletter(store)
    with SMTPServer() as server:
        crm.env["CRM_SMTP_URL"] = server.url
        for extra, setting in (({}, "CRM_SECRET_KEY"), ({"CRM_SECRET_KEY": "x" * 12}, "CRM_SECRET_KEY"),
                               ({"CRM_SECRET_KEY": h.SECRET}, "CRM_BASE_URL")):
            crm.env.update(extra)
            commands = [("campaigns", "send", str(campaign_id))]
            if setting == "CRM_BASE_URL":
                commands += [("campaigns", "test-send", str(campaign_id), "--to", "a@b.example"), ("worker",)]
            for command in commands:
                result = crm(*command, ok=False, timeout=60)
                assert result.code == 78 and setting in result.err, (command, result.err)
                _one_line(result)
        assert server.recorder.received == []
    assert (h.counts(store, campaign_id)["status"], h.counts(store, campaign_id)["total"]) == ("draft", 0)

    for key in ("CRM_SMTP_URL", "CRM_SECRET_KEY"):
        crm.env.pop(key)
    crm("campaigns", "send", str(campaign_id))
    secret = (crm.cwd / ".crm-secret").read_text().strip()
    for eml in (crm.cwd / "outbox").glob("*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        token = message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
        assert links.read_unsubscribe_token(secret, token)["campaign_id"] == campaign_id
        with pytest.raises(ValidationError):
            links.read_unsubscribe_token("change-me-in-production", token)


# ---- schedule without a broker ------------------------------------------------------------

@pytest.mark.slow
def test_a_scheduled_campaign_is_sent_by_an_in_process_worker(crm_sqlite) -> None:  # noqa: ANN001
    crm, store = crm_sqlite
    h.add_contacts(store, 5)
    campaign_id = h.newsletter(store)
    said = crm("campaigns", "schedule", str(campaign_id), "--at", "2030-01-01 10:00")
    assert "crm worker" in said.out
    with store.transaction() as session:  # its time has come
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(scheduled_at=h.utcnow()))
    worker = subprocess.Popen([crm.exe, "worker", "--watch-interval", "0.3"], cwd=crm.cwd, env=crm.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: h.counts(store, campaign_id)["status"] == "finished", 60, "the scheduled campaign to be sent")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    assert h.counts(store, campaign_id)["sent"] == 5
    assert len(list((crm.cwd / "outbox").glob("*.eml"))) == 5
