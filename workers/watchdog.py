"""`crm worker`'s process: the dramatiq worker for the campaign queue and the watchdog that
keeps campaigns moving (lost queue messages, dead workers' leases, scheduled campaigns), or,
without a broker, the loop that does all of it in this process.

Thin: each look calls crm services (`crm.campaigns.service.start_due`, the deliveries'
`needing_workers`, `crm.campaigns.runner.run_due`) and logs a failure instead of stopping:
the database or the broker may be restarting. Starting scheduled campaigns is here until a
`crm scheduler` process does it. ``say`` prints the one line a person starting the worker
sees (the CLI's stderr).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from crm.campaigns import service as campaigns
from crm.db import utcnow
from crm.delivery import queries
from crm.delivery.outage import Looking
from crm.settings import Settings
from crm.store import Store

log = logging.getLogger("crm.delivery")


def _stop_on_signals() -> threading.Event:
    """Set on SIGTERM or SIGINT: the loop ends after the current look."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def look(store: Store, enqueue: Callable[[int], None]) -> list[int]:
    """One look of the watchdog: start the scheduled campaigns whose time has come, and
    enqueue each sending campaign with due work and nobody on it; returns those enqueued."""
    with store.transaction() as session:
        campaigns.start_due(session)
        stalled = queries.needing_workers(session, utcnow())
    for campaign_id in stalled:
        enqueue(campaign_id)
    return stalled


def serve_queue(store: Store, settings: Settings, *, threads: int, interval: float, say: Callable[[str], None]) -> None:
    """A dramatiq worker with ``threads`` threads on the campaign queue, and the watchdog
    every ``interval`` seconds, until SIGTERM or SIGINT."""
    import dramatiq

    from workers import campaigns as actors

    _log_to_stderr()
    stop = _stop_on_signals()
    runner = dramatiq.Worker(dramatiq.get_broker(), worker_threads=threads, worker_timeout=500)
    # Take no more campaign messages than there are threads to run them: `send` enqueues one
    # per worker thread, and a process that prefetched them all would leave the others idle.
    runner.queue_prefetch = threads
    runner.start()
    say(f"crm worker: {threads} thread(s) on {(settings.broker_url or '').split('@')[-1]}")
    looking = Looking("watchdog")
    try:
        while not stop.wait(interval):
            try:
                look(store, actors.enqueue)
                looking.succeeded()
            except Exception as error:  # noqa: BLE001 - the broker or database may be restarting: look again later
                looking.failed(error)
    finally:
        runner.stop()


def serve_in_process(store: Store, settings: Settings, *, interval: float, say: Callable[[str], None]) -> None:
    """No broker: every ``interval`` seconds, start the due scheduled campaigns and send a
    slice of each campaign with work and nobody on it, here; until SIGTERM or SIGINT."""
    from crm.campaigns import runner
    from crm.delivery import runtime

    _log_to_stderr()
    stop = _stop_on_signals()
    engine = runtime.engine(store, settings)
    say("crm worker: in-process (no CRM_BROKER_URL); run only one")
    looking = Looking("worker pass")
    try:
        while True:
            try:
                more = runner.run_due(store.sessions, engine)
                looking.succeeded()
            except Exception as error:  # noqa: BLE001 - the database may be restarting: look again later
                looking.failed(error)
                more = False
            if stop.wait(0 if more else interval):
                return
    finally:
        engine.transport.close()
