"""The only reader of the environment.

Every setting comes from a ``CRM_*`` variable or a ``.env`` file in the working directory;
none is required: the defaults are the embedded set-up (SQLite file, in-process queue,
``.eml`` outbox).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./crm.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db for production",
    )
    broker_url: str | None = Field(
        None, description="redis:// or amqp:// URL; unset = in-process worker"
    )
    smtp_url: str | None = Field(
        None, description="smtp://user:pass@host:port (smtps:// for TLS); unset = .eml outbox"
    )
    outbox_dir: Path = Field(Path("outbox"), description="where .eml files go without SMTP")
    secret_key: str = Field(
        "change-me-in-production",
        description="signs unsubscribe, tracking and RSVP links",
    )
    base_url: str = Field("http://localhost:8000", description="public URL of `crm serve`")
    timezone: str = Field("Europe/Paris", description="the cluster's local time zone")
    default_language: str = Field("fr", description="fallback language for content")
    cluster_name: str = Field("Cluster CRM demo", description="name shown in messages")
    sql_echo: bool = Field(False, description="log every SQL statement")
    from_address: str = Field("animation@cluster.example.org", description="sender of campaigns")
    from_name: str | None = Field(None, description="sender name (default: the cluster's name)")
    rate_limit: float | None = Field(None, description="messages per second over all campaigns and workers")
    delivery_batch_size: int = Field(100, description="deliveries a worker claims at once")
    delivery_lease_seconds: float = Field(60.0, description="after this, a dead worker's claims are taken back")
    delivery_max_attempts: int = Field(5, description="attempts on 4xx replies before a delivery fails")
    retry_base_seconds: float = Field(60.0, description="first retry delay after a 4xx; doubles each time")
    worker_processes: int = Field(2, description="`crm worker` processes")
    worker_threads: int = Field(1, description="threads per `crm worker` process")
    dkim_selector: str | None = Field(None, description="DKIM selector; signing is on when the key file is set")
    dkim_domain: str | None = Field(None, description="DKIM d= domain (default: the sender's domain)")
    dkim_key_file: Path | None = Field(None, description="PEM private key for DKIM signing")


@lru_cache
def get_settings() -> Settings:
    return Settings()
