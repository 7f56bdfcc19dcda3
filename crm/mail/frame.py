"""The send path's message builder: what a campaign's messages share, checked and encoded once.

Per (campaign, language) a `Frame` checks and folds the headers every recipient's message
shares — From, Reply-To, List-Id, List-Unsubscribe-Post, Content-Language, MIME-Version,
Content-Type. Per recipient, `Frame.message` encodes only To, Subject, Date, Message-ID,
List-Unsubscribe and the two bodies, and joins bytes: no `EmailMessage` objects.

Its output is byte for byte what ``to_bytes(build_message(…))`` — the email package's own
generator — gives for the same values (tests/test_message.py checks it on generated
messages), at about half the cost: `build_message` is the reference it is held to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime

from crm.mail.message import (
    _MULTIPART, POLICY, _address, _list_id, _split_address, check_frame, check_recipient, encode_body,
    encode_words, rtl_text,
)
from crm.rendering import RenderedMessage

_BOUNDARY = _MULTIPART.split('"')[1].encode("ascii")


def _lines(text: str) -> bytes:
    """A body payload with CRLF line endings."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode("ascii")


def _fold(name: str, value: str) -> bytes:
    return POLICY.fold_binary(name, value)


_PART_HEADERS = {
    (subtype, cte): _fold("Content-Type", f'text/{subtype}; charset="utf-8"') + _fold("Content-Transfer-Encoding", cte)
    for subtype in ("plain", "html") for cte in ("quoted-printable", "base64")
}


class Frame:
    def __init__(
        self,
        *,
        from_addr: str,
        from_name: str | None,
        reply_to: str | None,
        list_id: str,
        unsubscribe_mailto: str | None = None,
        direction: str = "ltr",
        language: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Raises ValidationError naming the header at fault, as `build_message` does."""
        self._mailto, extra = check_frame(reply_to=reply_to, list_id=list_id, unsubscribe_mailto=unsubscribe_mailto,
                                          direction=direction, language=language, extra_headers=extra_headers)
        self._from = _fold("From", _address("From", from_addr, from_name))
        self._reply_to = _fold("Reply-To", _address("Reply-To", *_split_address(reply_to))) if reply_to else b""
        self._list_id = _fold("List-Id", _list_id(list_id))
        tail = [_fold("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
        if language:
            tail.append(_fold("Content-Language", language))
        tail.extend(_fold(name, encode_words(value)) for name, value in extra.items())
        tail += [_fold("MIME-Version", "1.0"), _fold("Content-Type", _MULTIPART), b"\r\n"]
        self._tail = b"".join(tail)
        self._rtl = direction == "rtl"

    def message(self, rendered: RenderedMessage, *, to_addr: str, to_name: str | None, message_id: str,
                unsubscribe_url: str, date: datetime | None = None) -> bytes:
        """One recipient's message, as sent: CRLF line endings, 7-bit."""
        unsubscribe, when = check_recipient(rendered.subject, message_id, unsubscribe_url, self._mailto, date)
        out = [
            self._from, _fold("To", _address("To", to_addr, to_name)), self._reply_to,
            _fold("Subject", encode_words(rendered.subject)), _fold("Date", format_datetime(when)),
            _fold("Message-ID", message_id), self._list_id, _fold("List-Unsubscribe", unsubscribe), self._tail,
        ]
        text = rtl_text(rendered.text) if self._rtl else rendered.text
        for subtype, body in (("plain", text), ("html", rendered.html)):
            cte, payload = encode_body(body)
            out += [b"--", _BOUNDARY, b"\r\n", _PART_HEADERS[subtype, cte], b"\r\n", _lines(payload), b"\r\n"]
        out += [b"--", _BOUNDARY, b"--\r\n"]
        return b"".join(out)
