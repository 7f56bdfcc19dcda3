"""The MIME message of one delivery: multipart/alternative (text, then HTML), CRLF throughout.

Headers: From, Reply-To, To, Subject (RFC 2047 when not ASCII), Date, Message-ID (given,
stable per delivery), MIME-Version, List-Id, List-Unsubscribe (a signed HTTPS link, and an
optional mailto) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058).

Every header value is refused if it holds CR, LF or another line separator: Python 3.11.7's
email generator predates the CVE-2024-6923 fix, so the check is ours, before anything is
encoded. Header values are then encoded here (RFC 2047 encoded-words, base64, at most 75
characters each) and stored as they will be sent; the policy folds them only between words.
Two reasons: the standard folder turns a long List-Unsubscribe URL into encoded-words
(``=?utf-8?q?=3Chttps=3A//…``), which no client reads as a link; and parsing every header
through ``email.headerregistry`` costs more than the whole template render. Bodies are
quoted-printable (mostly ASCII) or base64, so the message is 7-bit. Reading a header back
(``msg["Subject"]``) still gives the decoded value.

The send engine writes the same bytes without `EmailMessage` objects (`crm.mail.frame`);
`build_message` + `to_bytes`, through the email package's generator, is the reference
that frame is tested against.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import lru_cache
from email.policy import SMTP as _SMTP
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from crm.errors import ValidationError
from crm.rendering import RenderedMessage

_LINE_BREAKS = re.compile(r"[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")  # the C0/C1 controls left
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"^{_ATOM}(?:\.{_ATOM})+$")
_LOCAL_PART = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_NEEDS_QUOTES = re.compile(r'[()<>\[\]:;@\\,."]')
_OWN_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
    "content-type", "content-transfer-encoding", "content-language", "list-id",
    "list-unsubscribe", "list-unsubscribe-post", "sender", "return-path",
})
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_RLM = "\u200f"
#: one boundary per process: "=_" cannot occur in quoted-printable or base64 bodies, and a
#: fixed value lets the generator parse the Content-Type once instead of once per message
_MULTIPART = f'multipart/alternative; boundary="=_crm{secrets.token_hex(12)}"'
_WORD_BYTES = 45  # 60 base64 characters: "=?utf-8?b?" + 60 + "?=" = 72 ≤ 75


@lru_cache(maxsize=512)
def _parsed(factory: Any, name: str, value: str) -> Any:
    return factory(name, value)


@lru_cache(maxsize=256)
def _max_count(factory: Any, name: str) -> int | None:
    return factory[name].max_count  # the registry builds a class per lookup: once is enough


class _Policy(EmailPolicy):
    """email.policy.SMTP (CRLF, 7-bit), with header values stored as sent and folded between words.

    Reading a header back parses it (decoded, structured) once per distinct value: the
    generator asks for Content-Type several times per part.
    """

    def header_max_count(self, name: str) -> int | None:
        return _max_count(self.header_factory, name.lower())

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):
            return value
        return _parsed(self.header_factory, name, "".join(value.splitlines()))

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if isinstance(value, str) and not hasattr(value, "name"):
            if _LINE_BREAKS.search(value):  # a last guard for headers set by anyone else
                raise ValueError(f"line break in the {name} header")
            if value.isascii():
                return name, str(value)
        return super().header_store_parse(name, value)

    def _fold_words(self, name: str, value: str) -> str:
        lines, line = [], f"{name}:"
        for word in value.split(" "):
            if len(line) + 1 + len(word) > self.max_line_length and line.strip() != f"{name}:":
                lines.append(line)
                line = ""
            line = f"{line} {word}"
        lines.append(line)
        return self.linesep.join(lines) + self.linesep

    def fold(self, name: str, value: Any) -> str:
        if isinstance(value, str) and not hasattr(value, "name"):
            return self._fold_words(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, str) and not hasattr(value, "name") and value.isascii():
            return self._fold_words(name, value).encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy(**{**_SMTP.__dict__, "cte_type": "7bit"})


def _check(name: str, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", where=name)
    if _LINE_BREAKS.search(value):
        raise ValidationError("line breaks (CR or LF) are not allowed in a header value", where=name)
    control = _CONTROLS.search(value)
    if control:
        raise ValidationError(f"control characters (U+{ord(control.group()):04X}) are not allowed in a header "
                              f"value", where=name)


def check_value(header: str, value: str | None) -> None:
    """Refuse what no header value may hold (CR, LF, other line separators, control
    characters): the check every header of `build_message` and `Frame` gets."""
    _check(header, value)


def encode_words(text: str) -> str:
    """``text`` as is when it is plain ASCII in short words, else RFC 2047 encoded-words."""
    if text.isascii() and "=?" not in text and all(len(w) <= 76 for w in text.split(" ")):
        return text
    words, chunk, size = [], [], 0
    for char in text:
        n = len(char.encode("utf-8"))
        if size + n > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += n
    words.append("".join(chunk))
    return " ".join(
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    )


def _phrase(name: str) -> str:
    if not name.isascii() or "=?" in name:  # a name that looks encoded is encoded, not trusted
        return encode_words(name)
    if _NEEDS_QUOTES.search(name):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def _address(header: str, addr: str, name: str | None) -> str:
    _check(header, addr)
    _check(header, name)
    local, at, domain = addr.strip().rpartition("@")
    if not at or not _LOCAL_PART.match(local):
        raise ValidationError(f"{addr!r} is not an email address (SMTPUTF8 local parts are not "
                              f"supported)", where=header)
    try:
        domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(f"{addr!r} has an invalid domain", where=header) from None
    if not _DOMAIN.match(domain):
        raise ValidationError(f"{addr!r} is not an email address", where=header)
    spec = f"{local}@{domain}"
    return f"{_phrase(name)} <{spec}>" if name and name.strip() else spec


def _split_address(value: str) -> tuple[str, str | None]:
    """``"Name <a@b>"`` or ``"a@b"`` → (address, name)."""
    m = re.fullmatch(r"\s*(.*?)\s*<([^<>\s]+)>\s*", value)
    if m:
        return m.group(2), m.group(1).strip('"') or None
    return value.strip(), None


def _https(url: str, header: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in _LOCAL_HOSTS or host.endswith(".localhost")
    if not host or not (parts.scheme == "https" or (parts.scheme == "http" and local)):
        raise ValidationError(f"the one-click unsubscribe link must be https: {url!r}", where=header)
    if " " in url or not url.isascii() or "<" in url or ">" in url:
        raise ValidationError("the unsubscribe link must be ASCII without spaces", where=header)
    return url


def _list_id(value: str) -> str:
    m = re.fullmatch(r"\s*(.*?)\s*<([^<>]+)>\s*", value)
    description, ident = (m.group(1), m.group(2)) if m else ("", value.strip())
    if not _DOT_ATOM.match(ident):
        raise ValidationError(f"{ident!r} is not a list identifier like news.cluster.example",
                              where="List-Id")
    return f"{_phrase(description)} <{ident}>" if description else f"<{ident}>"


def encode_body(text: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, payload) of a UTF-8 text part: quoted-printable if mostly
    ASCII, else base64.

    Never 7bit, even for ASCII: neither encoding can produce "=_", so the boundary below can
    never occur in a body.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode("utf-8")
    if (len(data) - len(text.encode("ascii", "ignore"))) * 6 < len(data):
        return "quoted-printable", binascii.b2a_qp(data, istext=True).decode("ascii")
    return "base64", base64.encodebytes(data.replace(b"\n", b"\r\n")).decode("ascii")


def _body(text: str, subtype: str) -> EmailMessage:
    cte, payload = encode_body(text)
    part = EmailMessage(policy=POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(payload)
    return part


def rtl_text(text: str) -> str:
    """Each non-blank line of a right-to-left text part starts with a right-to-left mark, so
    a line opening with a name or a URL still reads right to left."""
    return "\n".join(_RLM + line if line.strip() else line for line in text.split("\n"))


def check_frame(*, reply_to: str | None, list_id: str, unsubscribe_mailto: str | None, direction: str,
                language: str | None, extra_headers: Mapping[str, str] | None) -> tuple[str | None, dict[str, str]]:
    """The checks on what every recipient's message shares; returns the mailto link
    (``<mailto:…>`` or None) and the extra headers."""
    for header, value in (("List-Id", list_id), ("List-Unsubscribe", unsubscribe_mailto), ("Reply-To", reply_to),
                          ("Content-Language", language)):
        _check(header, value)
    if direction not in ("ltr", "rtl"):
        raise ValidationError("direction must be 'ltr' or 'rtl'", where="direction")
    if language is not None and not re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", language):
        raise ValidationError(f"{language!r} is not a language tag", where="Content-Language")
    mailto = None
    if unsubscribe_mailto:
        mailto = unsubscribe_mailto if unsubscribe_mailto.startswith("mailto:") else f"mailto:{unsubscribe_mailto}"
        if " " in mailto or not mailto.isascii() or "<" in mailto or ">" in mailto:
            raise ValidationError("the unsubscribe mailto must be ASCII without spaces", where="List-Unsubscribe")
        mailto = f"<{mailto}>"
    extra = dict(extra_headers or {})
    for name, value in extra.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise ValidationError(f"{name!r} is not a header name", where="extra_headers")
        if name.lower() in _OWN_HEADERS:
            raise ValidationError(f"{name} is set by build_message", where=name)
        _check(name, value)
    return mailto, extra


def check_recipient(subject: str, message_id: str, unsubscribe_url: str, mailto: str | None,
                    date: datetime | None) -> tuple[str, datetime]:
    """The checks on one recipient's values; returns the List-Unsubscribe value and the date."""
    for header, value in (("Subject", subject), ("Message-ID", message_id), ("List-Unsubscribe", unsubscribe_url)):
        _check(header, value)
    if not _MESSAGE_ID.match(message_id):
        raise ValidationError(f"{message_id!r} is not a message id like <id@domain>", where="Message-ID")
    unsubscribe = f"<{_https(unsubscribe_url, 'List-Unsubscribe')}>"
    if mailto:
        unsubscribe = f"{unsubscribe}, {mailto}"
    when = date or datetime.now(UTC)
    if when.tzinfo is None:
        raise ValidationError("the date must be timezone-aware", where="Date")
    return unsubscribe, when


def message_id_for(delivery_id: int, campaign_id: int, domain: str) -> str:
    """The Message-ID of a delivery: the same inputs always give the same id."""
    if not _DOMAIN.match(domain):
        raise ValidationError(f"{domain!r} is not a domain name", where="Message-ID")
    return f"<d{int(delivery_id)}.c{int(campaign_id)}@{domain.lower()}>"


def build_message(
    rendered: RenderedMessage,
    *,
    from_addr: str,
    from_name: str | None,
    to_addr: str,
    to_name: str | None,
    reply_to: str | None,
    message_id: str,
    list_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None = None,
    date: datetime | None = None,
    extra_headers: Mapping[str, str] | None = None,
    direction: str = "ltr",
    language: str | None = None,
) -> EmailMessage:
    """multipart/alternative (text/plain, text/html) with the bulk-mail headers.

    ``direction="rtl"`` starts each line of the text part with a right-to-left mark, so that
    a line opening with a name or a URL still reads right to left; ``language`` sets
    Content-Language. Raises ValidationError naming the header at fault.
    """
    mailto, extra = check_frame(reply_to=reply_to, list_id=list_id, unsubscribe_mailto=unsubscribe_mailto,
                                direction=direction, language=language, extra_headers=extra_headers)
    unsubscribe, when = check_recipient(rendered.subject, message_id, unsubscribe_url, mailto, date)

    msg = EmailMessage(policy=POLICY)
    msg["From"] = _address("From", from_addr, from_name)
    msg["To"] = _address("To", to_addr, to_name)
    if reply_to:
        msg["Reply-To"] = _address("Reply-To", *_split_address(reply_to))
    msg["Subject"] = encode_words(rendered.subject)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    msg["List-Id"] = _list_id(list_id)
    msg["List-Unsubscribe"] = unsubscribe
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if language:
        msg["Content-Language"] = language
    for name, value in extra.items():
        msg[name] = encode_words(value)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = _MULTIPART

    text = rtl_text(rendered.text) if direction == "rtl" else rendered.text
    msg.attach(_body(text, "plain"))
    msg.attach(_body(rendered.html, "html"))
    return msg


def to_bytes(message: EmailMessage) -> bytes:
    """The message as sent: CRLF line endings only, 7-bit."""
    data = message.as_bytes(policy=POLICY)
    # the generator writes CRLF; make a bare CR or LF impossible all the same
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
