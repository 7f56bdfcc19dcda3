"""Assembling the send engine from the settings: which transport, limiter and renderer.

The one place that turns configuration into the engine's parts, for the worker process,
the in-process send and the CLI's preview / test-send.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

from crm.delivery.compose import Composer
from crm.delivery.engine import Engine, EngineConfig
from crm.delivery.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
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
    if settings.smtp_url:
        return SMTPTransport(settings.smtp_url)
    return OutboxTransport(settings.outbox_dir)


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
    renderer = Renderer(cluster_name=settings.cluster_name, base_url=settings.base_url)
    return Composer(renderer, base_url=settings.base_url, secret_key=settings.secret_key,
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
