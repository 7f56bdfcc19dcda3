"""Signed, unguessable links: unsubscribe, RSVP, preferences, view online.

Each token is an itsdangerous ``URLSafeSerializer`` payload signed with ``CRM_SECRET_KEY``
(HMAC-SHA256) and a salt per purpose, so a token made for one purpose never reads as
another. Unsubscribe and RSVP links do not expire: RFC 8058 expects an unsubscribe link to
keep working, and an invitation can be answered late. Reading a token that was altered,
truncated or made for another purpose raises ``ValidationError``; nothing is revealed
about why.

Links are ``{base_url}/u/{token}`` (unsubscribe), ``/r/{token}/{yes|no}`` (RSVP),
``/p/{token}`` (preferences) and ``/v/{token}`` (view online). The base URL must be HTTPS;
``http://localhost`` (and 127.0.0.1, [::1]) is accepted for development.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer

from crm.errors import ValidationError

_SALTS = {
    "unsubscribe": "crm.links.unsubscribe",
    "rsvp": "crm.links.rsvp",
    "preferences": "crm.links.preferences",
    "view": "crm.links.view",
}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
RSVP_ANSWERS = ("yes", "no")
# What itsdangerous writes: [.]payload.signature, unpadded URL-safe base64, a SHA-256 signature
# (32 bytes: 43 characters). Checked first because the base64 decoder ignores padding and what
# follows it, so `token + "=="` would otherwise still verify.
_SHAPE = re.compile(r"\.?[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}")


@functools.lru_cache(maxsize=32)
def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    if not secret:
        raise ValidationError("the secret key is empty (set CRM_SECRET_KEY)", where="secret_key")
    return URLSafeSerializer(secret, salt=_SALTS[purpose],
                             signer_kwargs={"digest_method": hashlib.sha256})


def _dump(secret: str, purpose: str, payload: list[Any]) -> str:
    token = _serializer(secret, purpose).dumps(payload)
    assert isinstance(token, str)
    return token


def _load(secret: str, purpose: str, token: str, size: int) -> list[Any]:
    if not isinstance(token, str) or not _SHAPE.fullmatch(token):
        raise ValidationError("this link is invalid or was altered", where="token") from None
    try:
        payload = _serializer(secret, purpose).loads(token)
    except (BadData, UnicodeError, ValueError):
        raise ValidationError("this link is invalid or was altered", where="token") from None
    if not isinstance(payload, list) or len(payload) != size:
        raise ValidationError("this link is invalid or was altered", where="token")
    return payload


def _id(value: Any, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{name} must be a non-negative integer", where=name)
    return value


@functools.lru_cache(maxsize=32)
def check_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash, if it is HTTPS (or HTTP on this machine)."""
    parts = urlsplit(base_url.strip())
    host = (parts.hostname or "").lower()
    local = host in _LOCAL_HOSTS or host.endswith(".localhost")
    if not host or parts.query or parts.fragment or any(c in base_url for c in "\r\n\t "):
        raise ValidationError(f"{base_url!r} is not a base URL like https://crm.example.org",
                              where="base_url")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValidationError(f"links must use https (http only for localhost): {base_url!r}",
                              where="base_url")
    return base_url.strip().rstrip("/")


# -- unsubscribe ---------------------------------------------------------------------------
def unsubscribe_token(secret: str, *, contact_id: int, campaign_id: int | None, topic: str) -> str:
    """A token naming who unsubscribes from what (``topic``: the consent topic, e.g. newsletter)."""
    if not isinstance(topic, str) or not topic or len(topic) > 64:
        raise ValidationError("topic must be a short, non-empty name", where="topic")
    return _dump(secret, "unsubscribe", [
        _id(contact_id, "contact_id"), _id(campaign_id, "campaign_id", optional=True), topic,
    ])


def read_unsubscribe_token(secret: str, token: str) -> dict[str, Any]:
    """``{"contact_id", "campaign_id", "topic"}``; ValidationError if tampered with."""
    contact_id, campaign_id, topic = _load(secret, "unsubscribe", token, 3)
    if not isinstance(topic, str):
        raise ValidationError("this link is invalid or was altered", where="token")
    return {
        "contact_id": _id(contact_id, "contact_id"),
        "campaign_id": _id(campaign_id, "campaign_id", optional=True),
        "topic": topic,
    }


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{check_base_url(base_url)}/u/{token}"


# -- RSVP ----------------------------------------------------------------------------------
def rsvp_token(secret: str, *, contact_id: int, event_id: int, campaign_id: int | None = None) -> str:
    return _dump(secret, "rsvp", [
        _id(contact_id, "contact_id"), _id(event_id, "event_id"),
        _id(campaign_id, "campaign_id", optional=True),
    ])


def read_rsvp_token(secret: str, token: str) -> dict[str, Any]:
    """``{"contact_id", "event_id", "campaign_id"}``; ValidationError if tampered with."""
    contact_id, event_id, campaign_id = _load(secret, "rsvp", token, 3)
    return {
        "contact_id": _id(contact_id, "contact_id"),
        "event_id": _id(event_id, "event_id"),
        "campaign_id": _id(campaign_id, "campaign_id", optional=True),
    }


def rsvp_url(base_url: str, token: str, answer: str) -> str:
    if answer not in RSVP_ANSWERS:
        raise ValidationError(f"answer must be one of {', '.join(RSVP_ANSWERS)}", where="answer")
    return f"{check_base_url(base_url)}/r/{token}/{answer}"


# -- preferences and view online -----------------------------------------------------------
def preferences_token(secret: str, *, contact_id: int) -> str:
    return _dump(secret, "preferences", [_id(contact_id, "contact_id")])


def read_preferences_token(secret: str, token: str) -> dict[str, Any]:
    (contact_id,) = _load(secret, "preferences", token, 1)
    return {"contact_id": _id(contact_id, "contact_id")}


def preferences_url(base_url: str, token: str) -> str:
    return f"{check_base_url(base_url)}/p/{token}"


def view_token(secret: str, *, delivery_id: int) -> str:
    return _dump(secret, "view", [_id(delivery_id, "delivery_id")])


def read_view_token(secret: str, token: str) -> dict[str, Any]:
    (delivery_id,) = _load(secret, "view", token, 1)
    return {"delivery_id": _id(delivery_id, "delivery_id")}


def view_online_url(base_url: str, token: str) -> str:
    return f"{check_base_url(base_url)}/v/{token}"
