"""`crm worker`: a dramatiq worker for the campaign queue, plus the watchdog that keeps
campaigns moving (lost queue messages, dead workers' leases, scheduled campaigns)."""

from __future__ import annotations

import logging
import signal
import threading

import click

from crm.cli.main import Context, pass_ctx
from crm.settings import get_settings


@click.command()
@click.option("--threads", type=click.IntRange(min=1), default=None, help="worker threads (default: CRM_WORKER_THREADS)")
@click.option("--watch-interval", type=click.FloatRange(min=0.2), default=5.0, show_default=True,
              help="seconds between two looks for stalled or scheduled campaigns")
@pass_ctx
def worker(ctx: Context, threads: int | None, watch_interval: float) -> None:
    """Send campaigns and start scheduled ones. With CRM_BROKER_URL (redis:// or amqp://):
    a dramatiq worker on the queue, as many processes as you like. Without: one process
    that sends in-process (run only one)."""
    ctx.long_running()  # a schema not at head: refused (78, "run `crm init`"), never migrated here
    from crm.delivery import runtime
    from crm.delivery.outage import Looking

    settings = get_settings()
    runtime.transport(settings)  # real mail needs a secret and a public base URL (ConfigError)
    if not settings.broker_url:
        _in_process(ctx, watch_interval)
        return
    runtime.check_broker(settings.broker_url)  # a broker that refuses us stops here, once (69 or 78)
    import dramatiq

    from crm.delivery import watch
    from workers import campaigns as actors

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = ctx.store
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    broker = dramatiq.get_broker()
    threads = threads or settings.worker_threads
    runner = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
    # Take no more campaign messages than there are threads to run them: `send` enqueues one
    # per worker thread, and a process that prefetched them all would leave the others idle.
    runner.queue_prefetch = threads
    runner.start()
    click.echo(f"crm worker: {threads} thread(s) on {settings.broker_url.split('@')[-1]}", err=True)
    looking = Looking("watchdog")
    try:
        while not stop.wait(watch_interval):
            try:
                with store.transaction() as session:
                    watch.start_scheduled(session)
                    stalled = watch.needing_workers(session)
                for campaign_id in stalled:
                    actors.enqueue(campaign_id)
                looking.succeeded()
            except Exception as error:  # noqa: BLE001 - the broker or database may be restarting: look again later
                looking.failed(error)
    finally:
        runner.stop()


def _in_process(ctx: Context, watch_interval: float) -> None:
    """No broker: every `watch_interval`, start the due scheduled campaigns and send a slice
    of each campaign with work and nobody on it, here."""
    from crm.delivery import local, runtime
    from crm.delivery.outage import Looking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    engine = runtime.engine(ctx.store, get_settings())
    click.echo("crm worker: in-process (no CRM_BROKER_URL); run only one", err=True)
    looking = Looking("worker pass")
    try:
        while True:
            try:
                more = local.run_due(ctx.store.sessions, engine)
                looking.succeeded()
            except Exception as error:  # noqa: BLE001 - the database may be restarting: look again later
                looking.failed(error)
                more = False
            if stop.wait(0 if more else watch_interval):
                return
    finally:
        engine.transport.close()


def register(cli: click.Group) -> None:
    cli.add_command(worker)
