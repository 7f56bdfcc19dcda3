"""Starting a campaign and handing it to the workers: the queue, or this process.

A start either happens whole or not at all: what a send needs (the mail server, or the
broker; a secret and a public address for real mail) is checked before anything changes,
and with a broker the message is enqueued inside the transaction that starts the campaign,
so that a failed enqueue leaves the campaign as it was. (A message enqueued for a start that
then fails to commit is harmless: the worker finds the campaign not sending and stops. A
committed start whose message is lost is picked up by `crm worker`'s watchdog.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from crm.errors import ServiceUnavailable
from crm.settings import Settings, get_settings

T = TypeVar("T")
Watch = Callable[[Callable[[], bool]], None]


def check_ready(settings: Settings) -> None:
    """Everything a send needs is there (raises `ConfigError` 78 or `ServiceUnavailable` 69)."""
    from crm import signing
    from crm.delivery import runtime

    if settings.broker_url:
        if settings.smtp_url:
            runtime.transport(settings)  # a well-formed URL, a secret and a public base URL
        runtime.check_broker(settings.broker_url)
        return
    transport = runtime.transport(settings)
    try:
        transport.connect()
    finally:
        transport.close()
    signing.resolve(settings)  # the embedded default's generated secret can be stored


def enqueue(settings: Settings, campaign_id: int) -> None:
    """Hand the campaign to `crm worker` (one message per worker thread)."""
    import dramatiq
    import redis

    from workers import campaigns as actors

    try:
        actors.enqueue(campaign_id, copies=settings.worker_processes * settings.worker_threads)
    except (dramatiq.errors.BrokerError, redis.RedisError, OSError) as exc:
        shown = settings.broker_url.rpartition("@")[2] if settings.broker_url else "?"
        raise ServiceUnavailable(f"cannot reach the broker {shown} ({exc}): check CRM_BROKER_URL or start the "
                                 "broker; the campaign was not started") from None


def start(ctx: Any, campaign_id: int, begin: Callable[[Session], T], *, watch: Watch) -> T:
    """Check, then ``begin`` (e.g. `service.send`) and enqueue in one transaction, then,
    without a broker, send here to the end."""
    import click

    settings = get_settings()
    check_ready(settings)
    with ctx.store.transaction() as session:
        result = begin(session)
        if settings.broker_url:
            enqueue(settings, campaign_id)
    if settings.broker_url:
        click.echo(f"campaign #{campaign_id} queued for the workers (crm worker)", err=True)
    else:
        run_here(ctx, campaign_id, watch=watch)
    return result


def dispatch(ctx: Any, campaign_id: int, *, watch: Watch, settings: Settings | None = None) -> None:
    """For a campaign already started: enqueue it (with a broker) or send it here, with
    ``settings`` (default: the process's; the demo passes its cluster's name)."""
    settings = settings or get_settings()
    if settings.broker_url:
        enqueue(settings, campaign_id)
    else:
        run_here(ctx, campaign_id, watch=watch, settings=settings)


def run_here(ctx: Any, campaign_id: int, *, watch: Watch, settings: Settings | None = None) -> None:
    """Send to the end in this process (a thread), showing progress meanwhile."""
    from crm.campaigns import runner
    from crm.delivery import runtime

    engine = runtime.engine(ctx.store, settings or get_settings())
    done = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            runner.run_to_end(engine, campaign_id)
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the command's thread
            failure.append(exc)
        finally:
            engine.transport.close()
            done.set()

    threading.Thread(target=work, name=f"campaign-{campaign_id}", daemon=True).start()
    try:
        watch(done.is_set)
        done.wait()
    except KeyboardInterrupt:  # pause: the sending thread stops after the message in flight
        from crm.campaigns import service

        with ctx.store.transaction() as session:
            if service.get(session, campaign_id).status.value == "sending":
                service.pause(session, campaign_id, reason="interrupted (Ctrl-C)")
        done.wait(30)
        raise
    if failure:
        raise failure[0]
