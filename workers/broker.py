"""The one place the dramatiq broker is chosen and set.

CRM_BROKER_URL=redis://… -> RedisBroker; amqp://… -> RabbitmqBroker; unset -> StubBroker,
so that the actors can be imported: without a broker nothing is queued (the CLI and
`crm worker` send in-process, `crm.delivery.local`). One broker per process, and one dramatiq
Worker on it (`crm worker`): each Worker started adds its middleware to the broker, and a
second one in the same process makes dramatiq warn "You're adding a middleware of the same
type twice" (as `crm demo` did when it started a Worker per campaign).
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

from crm.errors import ConfigError
from crm.settings import get_settings


def make_broker(url: str | None) -> dramatiq.Broker:
    if not url:
        return StubBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    # Settings refuse any other scheme; this guards a URL handed in directly.
    raise ConfigError("use redis://host:6379/0, amqp://user:pass@host:5672/ or leave it unset", "CRM_BROKER_URL")


broker = make_broker(get_settings().broker_url)
dramatiq.set_broker(broker)
