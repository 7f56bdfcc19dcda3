"""The interface the send pipeline needs from a way out, and what a send can come to."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from crm.errors import ServiceUnavailable


class SendStatus(enum.StrEnum):
    SENT = "sent"  # 250 after DATA
    TRANSIENT = "transient"  # 4xx (or lost before DATA): try again later
    PERMANENT = "permanent"  # 5xx: this recipient fails, the campaign goes on
    AMBIGUOUS = "ambiguous"  # connection lost after the message was sent: maybe delivered


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    code: int | None = None
    detail: str = ""


class TransportUnavailable(ServiceUnavailable):
    """The server cannot be reached at all: nothing was attempted, try the batch later.
    The message names the server, why, and the fix (exit 69 from the CLI)."""


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Send one message; must not raise for a per-recipient failure."""
        ...

    def connect(self) -> None:
        """Open the way out now (raises `TransportUnavailable`): a send checks it before it
        starts a campaign."""
        ...

    def close(self) -> None: ...
