"""The interface the send pipeline needs from a way out, and what a send can come to."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


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


class TransportUnavailable(Exception):
    """The server cannot be reached at all: nothing was attempted, try the batch later."""


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Send one message; must not raise for a per-recipient failure."""
        ...

    def close(self) -> None: ...
