"""Assembling the send engine from the settings: which transport, limiter and renderer.

The one place that turns configuration into the engine's parts, for the worker process,
the in-process send and the CLI's preview / test-send.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from datetime import timedelta
from urllib.parse import urlsplit

from crm import signing
from crm.delivery.compose import Composer
from crm.delivery.engine import Engine, EngineConfig
from crm.delivery.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from crm.errors import ConfigError, ServiceUnavailable
from crm.mail.outbox import OutboxTransport
from crm.mail.smtp import SMTPTransport
from crm.mail.transport import Transport
from crm.rendering import Renderer
from crm.settings import Settings
from crm.store import Store


def worker_id() -> str:
    """Host, process and thread: at most 60 characters, so a batch's lease owner
    (``worker#batch``) fits the 80 of `deliveries.lease_owner`."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


def transport(settings: Settings) -> Transport:
    """SMTP when CRM_SMTP_URL is set (and only with a secret and public base URL of one's
    own: `crm.signing`), else the `.eml` outbox."""
    if settings.smtp_url:
        smtp = SMTPTransport(settings.smtp_url)
        signing.for_real_mail(settings)
        return smtp
    return OutboxTransport(settings.outbox_dir)


_BROKER_PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def check_broker(url: str, timeout: float = 3.0) -> None:
    """Can the broker be reached at all? Asked before a campaign starts, within a few
    seconds (the broker clients themselves may try to connect for minutes)."""
    parts = urlsplit(url)
    shown = re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)
    fix = "check CRM_BROKER_URL or start the broker (or unset CRM_BROKER_URL to send in-process)"
    family, address = (socket.AF_UNIX, parts.path) if parts.scheme == "unix" else (
        socket.AF_INET, (parts.hostname or "localhost", parts.port or _BROKER_PORTS.get(parts.scheme, 6379)))
    try:
        if family == socket.AF_UNIX:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
        else:
            socket.create_connection(address, timeout=timeout).close()
    except ConnectionRefusedError:
        raise ServiceUnavailable(f"cannot reach the broker {shown} (connection refused): {fix}") from None
    except socket.gaierror:
        raise ServiceUnavailable(f"cannot reach the broker {shown} (unknown host): {fix}") from None
    except TimeoutError:
        raise ServiceUnavailable(f"cannot reach the broker {shown} (no answer in {timeout:g} s): {fix}") from None
    except OSError as exc:
        raise ServiceUnavailable(f"cannot reach the broker {shown} ({exc.strerror or exc}): {fix}") from None
    _log_in(url, shown, timeout)


def _log_in(url: str, shown: str, timeout: float) -> None:
    """The broker answers and takes these credentials and this database: a wrong password
    or a Redis database that does not exist is a setting to fix (`ConfigError`), found now
    rather than by a worker failing at every poll."""
    if url.startswith(("amqp://", "amqps://")):
        import pika
        from pika import exceptions as amqp

        try:
            params = pika.URLParameters(url)
            params.socket_timeout = params.blocked_connection_timeout = timeout
            pika.BlockingConnection(params).close()
        except (amqp.ProbableAuthenticationError, amqp.ProbableAccessDeniedError) as exc:
            raise ConfigError(f"the broker {shown} refused these credentials ({type(exc).__name__}): "
                              "fix the user, password or virtual host", "CRM_BROKER_URL") from None
        except amqp.AMQPError as exc:
            raise ServiceUnavailable(f"cannot use the broker {shown} ({exc!r:.200}): check CRM_BROKER_URL") from None
        return
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.AuthenticationError, redis.ResponseError) as exc:
        raise ConfigError(f"the broker {shown} refused it ({exc}): fix the password or the database number",
                          "CRM_BROKER_URL") from None
    except (redis.RedisError, ValueError) as exc:
        raise ServiceUnavailable(f"cannot use the broker {shown} ({exc}): check CRM_BROKER_URL") from None


def limiter(settings: Settings) -> RateLimiter:
    """Across workers with a Redis broker; in memory for the one-process embedded default."""
    if settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")):
        return RedisRateLimiter(settings.broker_url)
    return LocalRateLimiter()


def composer(settings: Settings) -> Composer:
    dkim = None
    if settings.dkim_key_file and settings.dkim_selector:
        dkim = {
            "selector": settings.dkim_selector,
            "domain": settings.dkim_domain or settings.from_address.rpartition("@")[2],
            "private_key": settings.dkim_key_file.read_bytes(),
        }
    return Composer(Renderer.for_settings(settings), base_url=settings.base_url,
                    secret_key=lambda: signing.resolve(settings).secret_key,
                    cluster_default_language=settings.default_language, dkim=dkim)


def engine(store: Store, settings: Settings, *, shared_limiter: RateLimiter | None = None) -> Engine:
    config = EngineConfig(
        worker=worker_id(),
        batch_size=settings.delivery_batch_size,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        max_attempts=settings.delivery_max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        global_rate=settings.rate_limit,
    )
    return Engine(store.sessions, transport(settings), composer(settings), shared_limiter or limiter(settings), config)
