"""The one place the dramatiq broker is chosen and set.

CRM_BROKER_URL=redis://… -> RedisBroker; amqp://… -> RabbitmqBroker; unset -> StubBroker,
the in-process broker of the embedded default (the CLI runs a dramatiq Worker on it).
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
