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
import socket
import ssl
from urllib.parse import parse_qs, unquote, urlsplit

from crm.errors import ConfigError
from crm.failures import hide_password
from crm.mail.transport import SendResult, SendStatus, TransportUnavailable

_SETTING = "CRM_SMTP_URL"
def _shown(url: str) -> str:
    """The URL without its password, to quote in a message."""
    return hide_password(url)[:200]

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
            raise ConfigError(f"{_shown(url)!r} is not an SMTP URL: use smtp://user:pass@host:587 or "
                              "smtps://user:pass@host:465 (or leave it unset for the .eml outbox)", _SETTING)
        try:
            port = parts.port
        except ValueError:
            port = None
            bad_port = True
        else:
            bad_port = port == 0
        if bad_port:
            raise ConfigError(f"the port of {_shown(url)!r} must be a number from 1 to 65535", _SETTING)
        if not parts.hostname:
            raise ConfigError(f"{_shown(url)!r} names no host: smtp://host:587", _SETTING)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        options = parse_qs(parts.query)
        self.starttls = options.get("tls", ["auto"])[0] != "off"
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None

    def connect(self) -> None:
        self._connect()

    def _unreachable(self, exc: BaseException) -> TransportUnavailable:
        where = f"SMTP {self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return TransportUnavailable(f"{where} refused the login ({exc.smtp_code}): check the user and password "
                                        "in CRM_SMTP_URL")
        if isinstance(exc, ssl.SSLError):
            return TransportUnavailable(f"cannot reach {where} (TLS failed: {exc.reason or exc}): use smtps:// for "
                                        "port 465, smtp:// for 587/25, in CRM_SMTP_URL")
        if isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(exc, socket.gaierror):
            reason = "unknown host"
        elif isinstance(exc, TimeoutError):
            reason = f"no answer in {self.timeout:g} s"
        elif isinstance(exc, smtplib.SMTPResponseException):
            reason = f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        else:
            reason = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).strip()
        return TransportUnavailable(f"cannot reach {where} ({reason}): check CRM_SMTP_URL or start the server")

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        conn: smtplib.SMTP | None = None
        try:
            if self.implicit_tls:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        local_hostname=self.local_hostname, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
            conn.ehlo()
            if not self.implicit_tls and self.starttls and conn.has_extn("starttls"):
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            if conn is not None:
                conn.close()
            raise self._unreachable(exc) from exc
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
