"""SMTP: one connection reused for many messages, and honest about what each send came to.

The transaction is driven step by step (MAIL, RCPT, DATA) rather than with `sendmail`, so
that a connection lost *after* the message was transmitted is told apart from one lost
before: the first may have been delivered (`AMBIGUOUS`, never resent blindly), the second
certainly was not. After any error the connection is reset (RSET) or dropped, so one
failure never cascades into the next message.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from urllib.parse import parse_qs, unquote, urlsplit

from crm.mail.transport import SendResult, SendStatus, TransportUnavailable

_LEADING_DOT = re.compile(rb"(?m)^\.")


def _classify(code: int, reply: bytes | str) -> SendResult:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    status = SendStatus.PERMANENT if 500 <= code < 600 else SendStatus.TRANSIENT
    return SendResult(status, code, f"{code} {text}".strip())


class SMTPTransport:
    """``smtp://user:pass@host:port`` (STARTTLS when offered, ``?tls=off`` to never) or
    ``smtps://…`` (TLS from the start)."""

    def __init__(self, url: str, *, timeout: float = 30.0, local_hostname: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"CRM_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        options = parse_qs(parts.query)
        self.starttls = options.get("tls", ["auto"])[0] != "off"
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        try:
            if self.implicit_tls:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      local_hostname=self.local_hostname,
                                                      context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
            conn.ehlo()
            if not self.implicit_tls and self.starttls and conn.has_extn("starttls"):
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportUnavailable(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _envelope(self, conn: smtplib.SMTP, sender: str, recipient: str) -> SendResult | None:
        """MAIL, RCPT, DATA; None when the server is ready for the message.

        With PIPELINING (RFC 2920, offered by Postfix and most MTAs) the three commands
        go in one write and the three replies are read after: one round trip, not three.
        """
        if conn.has_extn("pipelining") and (sender + recipient).isascii():
            conn.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
            replies = [conn.getreply() for _ in range(3)]
            for (code, reply), ok in zip(replies, ((250,), (250, 251), (354,)), strict=True):
                if code not in ok:
                    if replies[2][0] == 354:  # the server is waiting for a message: end it empty
                        conn.send(b".\r\n")
                        conn.getreply()
                    self._reset()
                    return _classify(code, reply)
            return None
        code, reply = conn.mail(sender)
        if code != 250:
            self._reset()
            return _classify(code, reply)
        code, reply = conn.rcpt(recipient)
        if code not in (250, 251):
            self._reset()
            return _classify(code, reply)
        code, reply = conn.docmd("DATA")
        if code != 354:
            self._reset()
            return _classify(code, reply)
        return None

    def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        conn = self._connect()
        transmitted = False
        try:
            refused = self._envelope(conn, sender, recipient)
            if refused is not None:
                return refused
            payload = _LEADING_DOT.sub(b"..", message)
            if not payload.endswith(b"\r\n"):
                payload += b"\r\n"
            conn.send(payload + b".\r\n")
            transmitted = True
            code, reply = conn.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self._drop()
            if transmitted:
                return SendResult(SendStatus.AMBIGUOUS, None, f"connection lost after DATA: {exc}")
            return SendResult(SendStatus.TRANSIENT, None, f"connection lost before DATA: {exc}")
        if code == 250:
            return SendResult(SendStatus.SENT, code, reply.decode("utf-8", "replace"))
        if code == -1:  # smtplib's "no reply": the server went away after DATA
            self._drop()
            return SendResult(SendStatus.AMBIGUOUS, None, "no reply after DATA")
        self._reset()
        return _classify(code, reply)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None
