"""`crm worker`: a dramatiq worker for the campaign queue, plus the watchdog that keeps
campaigns moving (lost queue messages, dead workers' leases, scheduled campaigns). The
process's loops live in `workers.watchdog`; this command checks the settings and calls them."""

from __future__ import annotations

import functools

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

    settings = get_settings()
    runtime.transport(settings)  # real mail needs a secret and a public base URL (ConfigError)
    say = functools.partial(click.echo, err=True)  # the one line a person starting it sees
    if not settings.broker_url:
        from workers import watchdog

        watchdog.serve_in_process(ctx.store, settings, interval=watch_interval, say=say)
        return
    runtime.check_broker(settings.broker_url)  # a broker that refuses us stops here, once (69 or 78)
    from workers import watchdog  # sets the broker: only once it is known to answer

    watchdog.serve_queue(ctx.store, settings, threads=threads or settings.worker_threads, interval=watch_interval, say=say)


def register(cli: click.Group) -> None:
    cli.add_command(worker)
