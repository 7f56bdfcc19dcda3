"""The only reader of the environment.

Every setting comes from a ``CRM_*`` variable or a ``.env`` file in the working directory;
none is required: the defaults are the embedded set-up (SQLite file, in-process queue,
``.eml`` outbox). A value that cannot work is refused when the settings are read, with a
`ConfigError` naming the variable and the fix (exit 78), never later in the middle of a send.
"""

from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm.errors import ConfigError
from crm.failures import hide_password

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATABASES = "sqlite:///path/to/crm.db or postgresql+psycopg://user:pass@host/db"
BROKERS = ("redis://", "rediss://", "unix://", "amqp://", "amqps://")


class Settings(BaseSettings):
    """Every CRM_* setting. Each description is the "meaning" cell of the README's settings
    table, word for word (Markdown; tests/store/test_settings_table.py compares them), so
    that a setting and its documentation change together."""

    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./crm.db",
        description="`sqlite:///path/file.db` or `postgresql+psycopg://user:pass@host/db` (`postgresql://` too); "
                    "no other database, no in-memory SQLite",
    )
    broker_url: str | None = Field(
        None, description="`redis://host:6379/0` or `amqp://user:pass@host:5672/` (a password or database the "
                          "broker refuses: 78 at `send` and at `crm worker`'s start); unset: an in-process worker",
    )
    smtp_url: str | None = Field(
        None, description="`smtp://user:pass@host:587` (STARTTLS) or `smtps://…:465`; unset: `.eml` files in "
                          "the outbox",
    )
    outbox_dir: Path = Field(Path("outbox"), description="where `.eml` files go when no SMTP server is set "
                                                         "(blank: the default)")
    secret_key: str | None = Field(
        None,
        description="signs unsubscribe, tracking and RSVP links; **required** (32+ characters of your own) once "
                    "`CRM_SMTP_URL` is set; unset: a random secret made once and kept in `.crm-secret`",
    )
    base_url: str = Field("http://localhost:8000",
                          description="public address of `crm serve`, a path allowed (`https://host/crm`), no `?` "
                                      "or `#`; **required** (a public https address) once `CRM_SMTP_URL` is set")
    timezone: str = Field("Europe/Paris",
                          description="the cluster's local time (dates typed on the command line: years "
                                      "1900–2999; a time skipped by the clock change is refused, naming it; a "
                                      "repeated one is taken the first time, with a note)")
    default_language: str = Field("fr", description="content language when a contact has none (a language tag: "
                                                    "`fr`, `en`, `pt-BR`)")
    cluster_name: str = Field("Cluster CRM demo", min_length=1, max_length=200,
                              description="the cluster's name in messages")
    sql_echo: bool = Field(False, description="log every SQL statement")
    sqlite_busy_timeout: float = Field(30.0, ge=0.1, le=3600,
                                       description="seconds a SQLite statement waits for another process's write "
                                                   "lock (0.1 to 3,600); past it, a sending worker waits and tries "
                                                   "again, holding what it must write")
    from_address: str = Field("animation@cluster.example.org", max_length=254,
                              description="sender of campaigns (`--from` overrides)")
    from_name: str | None = Field(None, max_length=200, description="sender name; unset: the cluster's name")
    rate_limit: float | None = Field(None, ge=0.001, le=10_000,
                                     description="messages per second over every campaign and worker, 0.001 to "
                                                 "10,000 (per campaign: `--rate`); unset: no limit")
    delivery_batch_size: int = Field(100, ge=1, le=10_000,
                                     description="deliveries a worker claims at once (1 to 10,000)")
    delivery_lease_seconds: float = Field(60.0, ge=5, le=86_400,
                                          description="after this, a dead worker's claimed deliveries are taken "
                                                      "back (5 s to 1 day)")
    delivery_max_attempts: int = Field(5, ge=1, le=100,
                                       description="attempts on 4xx replies before a delivery fails (1 to 100)")
    retry_base_seconds: float = Field(60.0, ge=1, le=86_400,
                                      description="first retry delay after a 4xx (1 s to 1 day); doubles each time "
                                                  "(capped at 6 h)")
    worker_processes: int = Field(2, ge=1, le=256,
                                  description="how many `crm worker` processes `send` feeds in parallel (1 to 256)")
    worker_threads: int = Field(1, ge=1, le=256, description="threads per `crm worker` (1 to 256)")
    dkim_selector: str | None = Field(None, description="DKIM selector, published in DNS as "
                                                        "`selector._domainkey.domain`; needed with "
                                                        "`CRM_DKIM_KEY_FILE`")
    dkim_domain: str | None = Field(None, description="DKIM `d=` domain; unset: the domain of `CRM_FROM_ADDRESS`")
    dkim_key_file: Path | None = Field(None, description="PEM RSA private key: when it is set, messages are "
                                                         "DKIM-signed (covering From, Subject, List-Unsubscribe, "
                                                         "List-Unsubscribe-Post …)")

    @property
    def sender_name(self) -> str:
        """The name campaigns are sent under when none is given: CRM_FROM_NAME, else the
        cluster's name."""
        return self.from_name or self.cluster_name

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(f"not a database URL; use {DATABASES}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"{url.get_backend_name()} is not supported; use {DATABASES}")
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"):
            raise ValueError(f"the driver {url.drivername} is not installed; use {DATABASES}")
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database keeps nothing between commands; "
                             "use a file: sqlite:///path/to/crm.db")
        return value

    @field_validator("broker_url", "smtp_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("outbox_dir", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        return "outbox" if isinstance(value, str) and not value.strip() else value  # not '.': the working folder

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(BROKERS):
            raise ValueError("use redis://host:6379/0 or amqp://user:pass@host:5672/ (or leave it unset "
                             "for the in-process queue)")
        if value is not None:
            _port(value)
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith(("smtp://", "smtps://")):
            raise ValueError("use smtp://user:pass@host:587 or smtps://user:pass@host:465 "
                             "(or leave it unset for the .eml outbox)")
        _port(value)
        if not urlsplit(value).hostname:
            raise ValueError("the URL names no host: smtp://host:587")
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or _CONTROL.search(value) or " " in value:
            raise ValueError("use the public address of `crm serve`, e.g. https://crm.example.org")
        if parts.query or parts.fragment or value.endswith(("?", "#")):
            raise ValueError("links are made by adding /u/…, /r/… to this address: give it without '?' or '#' "
                             "(e.g. https://crm.example.org/app)")
        _port(value)
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as Europe/Paris") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        from crm import fields
        from crm.errors import ValidationError as Refused

        try:
            return fields.language(value)
        except Refused:
            raise ValueError("use a language code such as fr, en, ar or pt-BR") from None

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _ADDRESS.match(value) or _CONTROL.search(value) or not value.isascii():
            raise ValueError("use a plain address such as animation@cluster.example.org")
        return value

    @field_validator("cluster_name", "from_name", "dkim_selector", "dkim_domain", "secret_key")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("must be one line of text, without control characters")
        return value

    @field_validator("rate_limit", "delivery_lease_seconds", "retry_base_seconds", "sqlite_busy_timeout")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("dkim_key_file")
    @classmethod
    def _key_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return value
        if not value.is_file():
            raise ValueError(f"{value} is not a file; point it at the PEM private key")
        if not os.access(value, os.R_OK):
            raise ValueError(f"{value} cannot be read by this user")
        from dkim.crypto import UnparsableKeyError, parse_pem_private_key

        try:
            parse_pem_private_key(value.read_bytes())
        except (UnparsableKeyError, ValueError, IndexError, TypeError):
            raise ValueError(f"{value} is not a PEM RSA private key (make one with "
                             "`openssl genrsa -out dkim.pem 2048`)") from None
        return value

    @model_validator(mode="after")
    def _dkim_complete(self) -> Settings:
        if self.dkim_key_file and not self.dkim_selector:
            raise ValueError("CRM_DKIM_KEY_FILE is set but CRM_DKIM_SELECTOR is not: set the selector "
                             "published in DNS (selector._domainkey.your-domain)")
        for value in (self.dkim_selector, self.dkim_domain):
            if value is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,253}", value):
                raise ValueError(f"DKIM selector and domain are plain DNS labels, not {value!r}")
        return self


def _port(url: str) -> None:
    try:
        urlsplit(url).port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None


def _variable(location: tuple[object, ...]) -> str:
    return f"CRM_{str(location[0]).upper()}" if location else "CRM_DKIM_*"


def _reason(error: dict, variable: str) -> str:
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    value = error.get("input")
    if variable == "CRM_SECRET_KEY" or not isinstance(value, (str, int, float)):
        return message
    shown = hide_password(str(value))  # never echo a password
    return f"{message} (got {shown!r:.100})"


def _check_env_file(path: Path) -> None:
    """Every line of ./.env is NAME=value (or a comment): a line python-dotenv cannot read was
    skipped with a warning, and the setting it held silently lost. Its content is not shown:
    it may hold a password."""
    if not path.is_file():
        return
    from dotenv.parser import parse_stream

    with path.open(encoding="utf-8-sig") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise ConfigError(f"line {binding.original.line} cannot be read: write NAME=value (quotes around a "
                                  "value with spaces or #), one setting a line", "./.env")


def load() -> Settings:
    """Read the settings, or raise `ConfigError` naming the first bad variable and the fix."""
    try:
        _check_env_file(Path(".env"))
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = _variable(tuple(first.get("loc", ())))
        raise ConfigError(_reason(first, variable), variable) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read ./.env: {exc}", ".env") from None


@lru_cache
def get_settings() -> Settings:
    return load()


def debug_requested() -> bool:
    """CRM_DEBUG=1: show tracebacks (read here, without the other settings, so that it works
    even when they are broken)."""
    return os.environ.get("CRM_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
