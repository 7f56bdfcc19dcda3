"""The campaign actor: send a slice of a campaign, then hand the rest to the next message."""

from __future__ import annotations

import threading

import dramatiq

import workers.broker  # noqa: F401  (sets the broker first)
from crm.campaigns import runner
from crm.delivery.engine import Engine, follow_up_delay
from crm.settings import get_settings
from crm.store import Store

QUEUE = "campaigns"
SLICE_SECONDS = 30.0  # a message sends for this long, then re-enqueues: campaigns share workers

_store: Store | None = None
_store_lock = threading.Lock()
_local = threading.local()


def _engine() -> Engine:
    """One store per process; one engine (with its own SMTP connection) per worker thread."""
    global _store
    with _store_lock:
        if _store is None:
            _store = Store.open(get_settings(), create_if_empty=False)  # a worker never migrates
    if getattr(_local, "engine", None) is None:
        # Imported here: enqueuing (`crm campaigns send`) needs the actor, not the renderer.
        from crm.delivery import runtime

        _local.engine = runtime.engine(_store, get_settings())
    return _local.engine


@dramatiq.actor(queue_name=QUEUE, max_retries=20, min_backoff=1000, max_backoff=60_000, time_limit=15 * 60_000)
def send_campaign(campaign_id: int) -> None:
    report = runner.run(_engine(), campaign_id, max_seconds=SLICE_SECONDS)
    delay = follow_up_delay(report)
    if delay is not None:
        send_campaign.send_with_options(args=(campaign_id,), delay=int(delay * 1000))


def enqueue(campaign_id: int, copies: int = 1) -> None:
    for _ in range(max(copies, 1)):
        send_campaign.send(campaign_id)
