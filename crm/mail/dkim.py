"""DKIM signing with dkimpy, covering the headers a receiver judges bulk mail by.

The signature covers From, To, Subject, Date, Message-ID, Reply-To, MIME-Version,
Content-Type and the three List-* headers (RFC 8058 requires List-Unsubscribe and
List-Unsubscribe-Post to be signed for one-click unsubscribe to be honoured). A header that
is absent is signed as absent, so it cannot be added on the way.
"""

from __future__ import annotations

import dkim as _dkim

from crm.errors import ValidationError

SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
    b"content-type", b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
)


def sign(message: bytes, *, selector: str, domain: str, private_key: bytes) -> bytes:
    """``message`` with a ``DKIM-Signature`` header in front (rsa-sha256, relaxed/relaxed)."""
    try:
        signature = _dkim.sign(
            message,
            selector.encode("ascii"),
            domain.encode("ascii"),
            private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n",
        )
    except (_dkim.DKIMException, UnicodeError, ValueError) as exc:
        raise ValidationError(f"cannot DKIM-sign: {exc}", where="dkim") from None
    return signature + message
