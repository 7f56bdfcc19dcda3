"""A real SMTP server on loopback (aiosmtpd), with rules to misbehave on purpose.

`rules[address]` may be "451" (temporary failure, `fail_times` times, then accepted),
"550" (permanent failure) or "drop" (accept the message, then close the connection
before replying: the client cannot know whether it was delivered).

`hold_at = n` makes the n-th DATA hang without a reply (not recorded: the server dies with
it) and sets `held`; `SMTPServer.kill()` then drops every connection and stops listening,
and `SMTPServer.start()` listens again on the same port: a server killed with a message in
flight, and restarted.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    at: float = 0.0  # time.monotonic() when the message arrived
    peer: object = None  # the client's (host, port): one per SMTP connection

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.SMTP)  # type: ignore[return-value]


@dataclass
class Recorder:
    rules: dict[str, str] = field(default_factory=dict)
    fail_times: int = 1
    received: list[Received] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    pipelining: bool = False  # advertise PIPELINING (RFC 2920), as Postfix does
    hold_at: int | None = None  # the n-th DATA (counting every DATA, 1-based) never gets a reply
    held: threading.Event = field(default_factory=threading.Event)
    held_recipients: list[str] = field(default_factory=list)
    data_count: int = 0
    connections: set = field(default_factory=set)  # the live connections' transports (for kill)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, ANN201
        session.host_name = hostname
        with self.lock:
            self.connections.add(server.transport)
        if self.pipelining:
            responses = [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        with self.lock:
            self.attempts[address] = self.attempts.get(address, 0) + 1
            rule = self.rules.get(address)
            if rule == "451" and self.attempts[address] <= self.fail_times:
                return "451 4.3.0 Temporary failure, try later"
            if rule == "550":
                return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        with self.lock:
            self.data_count += 1
            hold = self.hold_at is not None and self.data_count == self.hold_at
            if hold:
                self.held_recipients = list(envelope.rcpt_tos)
        if hold:  # in flight when the server dies: the client has sent it all, no reply comes
            self.held.set()
            await asyncio.sleep(3600)  # cancelled by kill()
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                          time.monotonic(), session.peer))
            drop = [r for r in envelope.rcpt_tos if self.rules.get(r) == "drop" and r not in self.dropped]
            if drop:
                self.dropped.update(drop)
                server.transport.close()  # the message arrived; the 250 never will
        return "250 OK Message accepted"

    def count_to(self, address: str) -> int:
        with self.lock:
            return sum(address in r.recipients for r in self.received)

    def by_recipient(self) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = {}
            for r in self.received:
                for rcpt in r.recipients:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
            return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self, recorder: Recorder | None = None) -> None:
        self.recorder = recorder or Recorder()
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=off"

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> None:
        """Listen (again) on this server's port; what was received so far is kept."""
        assert self.controller is None, "the SMTP server is already running"
        controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)  # a stopped one cannot restart
        controller.start()
        self.controller = controller

    def kill(self) -> None:
        """Like a killed server: every open connection is cut (a message in flight gets no
        reply) and nothing listens on the port any more."""
        controller, self.controller = self.controller, None
        if controller is None:
            return
        with self.recorder.lock:
            connections = list(self.recorder.connections)
            self.recorder.connections.clear()

        def cut() -> None:
            for transport in connections:
                transport.abort()

        controller.loop.call_soon_threadsafe(cut)
        controller.stop()

    def __enter__(self) -> SMTPServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
