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


@lru_cache
def get_settings() -> Settings:
    return Settings()
