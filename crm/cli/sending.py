"""Handing a started campaign to the workers: the queue, or an in-process worker."""

from __future__ import annotations

import threading
from collections.abc import Callable

import click

from crm.settings import get_settings


def dispatch(ctx: object, campaign_id: int, *, watch: Callable[[Callable[[], bool]], None]) -> None:
    """With CRM_BROKER_URL: enqueue for `crm worker`. Without: run dramatiq's in-process
    worker on the stub broker until the campaign has nothing more to do."""
    settings = get_settings()
    from workers import campaigns as actors

    if settings.broker_url:
        actors.enqueue(campaign_id, copies=settings.worker_processes * settings.worker_threads)
        click.echo(f"campaign #{campaign_id} queued for the workers (crm worker)", err=True)
        return
    import dramatiq

    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    done = threading.Event()
    failure: list[BaseException] = []

    def join() -> None:
        try:
            broker.join(actors.QUEUE, fail_fast=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)
        finally:
            done.set()

    try:
        actors.enqueue(campaign_id)
        threading.Thread(target=join, daemon=True).start()
        watch(done.is_set)
        done.wait()
    finally:
        worker.stop()
    if failure:
        raise click.ClickException(f"sending stopped: {failure[0]}")
