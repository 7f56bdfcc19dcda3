"""The key that signs members' links (unsubscribe, RSVP, preferences) and the address they
point to, taken from the settings.

Real mail (``CRM_SMTP_URL`` set) goes out only with both set on purpose: a secret of at least
32 characters that is not the public default (anyone who read the README could forge an
unsubscribe or an RSVP with it), and the public address of `crm serve`, not localhost nor an
example domain. The embedded default (the `.eml` outbox, `crm demo`) needs nothing: a random
secret is generated once and kept in the data folder (``.crm-secret`` next to the SQLite file,
or in the working directory for another database; mode 0600), and reused on later runs so
that the links of earlier messages stay valid.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crm.errors import ConfigError
from crm.settings import Settings

PUBLIC_DEFAULTS = frozenset({"change-me-in-production", ""})
MIN_SECRET_LENGTH = 32
SECRET_FILE = ".crm-secret"
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
_EXAMPLE_DOMAINS = ("example", "example.com", "example.net", "example.org")
_RESERVED_TLDS = ("test", "invalid", "localhost", "local", "example")


@dataclass(frozen=True)
class Signing:
    secret_key: str
    base_url: str


def resolve(settings: Settings) -> Signing:
    """What signs the links and where they point: checked for real mail, generated for the
    embedded default. Raises `ConfigError` naming the setting and the fix."""
    if settings.smtp_url:
        return for_real_mail(settings)
    secret = _given(settings)
    return Signing(secret or stored_secret(data_folder(settings)), settings.base_url)


def for_real_mail(settings: Settings) -> Signing:
    secret = _given(settings)
    why = "sends real mail (CRM_SMTP_URL is set)"
    if secret is None:
        raise ConfigError(f"not set, and the CRM {why}: its links must be signed with a secret of your own. "
                          f"Generate one with {GENERATE} and set it{_keep_hint(settings)}", "CRM_SECRET_KEY")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"too short ({len(secret)} characters) to sign the links of real mail: use at least "
                          f"{MIN_SECRET_LENGTH}, e.g. from {GENERATE}", "CRM_SECRET_KEY")
    problem = _not_public(settings.base_url)
    if problem:
        raise ConfigError(f"{settings.base_url!r} {problem}, and the CRM {why}: members' unsubscribe and RSVP "
                          "links would lead nowhere. Set the public https address of `crm serve`, "
                          "e.g. https://crm.your-cluster.eu", "CRM_BASE_URL")
    return Signing(secret, settings.base_url)


def _given(settings: Settings) -> str | None:
    secret = settings.secret_key
    if secret is None or secret.strip() in PUBLIC_DEFAULTS:
        return None
    return secret


def _not_public(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return "names no host"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_private or address.is_link_local
                                or address.is_unspecified):
        return "is an address of this machine or its local network"
    if host in _EXAMPLE_DOMAINS or host.endswith(tuple(f".{d}" for d in _EXAMPLE_DOMAINS)):
        return "is an example domain"
    if host == "localhost" or host.rpartition(".")[2] in _RESERVED_TLDS:
        return "is not a public address"
    if parts.scheme != "https":
        return "is not https"
    return None


def data_folder(settings: Settings) -> Path:
    """Next to the SQLite file; the working directory (where ./.env is read) otherwise."""
    url = settings.database_url
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            return Path(database).expanduser().resolve().parent
    return Path.cwd()


def stored_secret(folder: Path) -> str:
    """The secret kept in ``folder/.crm-secret``, made (random, mode 0600) on first use."""
    path = folder / SECRET_FILE
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot read {path} ({getattr(exc, 'strerror', None) or exc}): fix or delete it "
                          "(earlier links then stop working), or set CRM_SECRET_KEY", "CRM_SECRET_KEY") from None
    if existing:
        return existing
    secret = secrets.token_urlsafe(32)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs once written
        for _ in range(50):
            theirs = path.read_text(encoding="ascii").strip()
            if theirs:
                return theirs
            time.sleep(0.02)
        raise ConfigError(f"{path} is empty: delete it, or set CRM_SECRET_KEY", "CRM_SECRET_KEY") from None
    except OSError as exc:
        raise ConfigError(f"cannot store a generated secret in {path} ({exc.strerror or exc}): set "
                          f"CRM_SECRET_KEY (e.g. from {GENERATE})", "CRM_SECRET_KEY") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret + "\n")
    return secret


def _keep_hint(settings: Settings) -> str:
    stored = data_folder(settings) / SECRET_FILE
    if stored.is_file():
        return f" (to keep the links of messages already sent from the outbox valid, use the content of {stored})"
    return ""
