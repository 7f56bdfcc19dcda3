"""The MIME message, DKIM and signed links: headers, encodings, CRLF, refusals, tampering."""

from __future__ import annotations

import base64
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from typing import Any

import dkim
import pytest
from hypothesis import given, settings, strategies as st

from crm import links
from crm.errors import ValidationError
from crm.mail import build_message, message_id_for, to_bytes
from crm.mail.dkim import sign
from crm.mail.frame import Frame
from crm.rendering import Content, RenderedMessage, Renderer

BASE = "https://crm.example.org"
SECRET = "test-secret-key"
UNSUB = links.unsubscribe_url(BASE, links.unsubscribe_token(SECRET, contact_id=123456, campaign_id=789, topic="newsletter"))
WHEN = datetime(2026, 3, 12, 17, 30, tzinfo=UTC)


def build(rendered: RenderedMessage | None = None, **changes: object) -> object:
    values: dict[str, object] = dict(
        from_addr="news@cluster.example", from_name="Pôle Agri-Ouest", to_addr="helene@example.fr",
        to_name="Hélène Lefèvre", reply_to="Équipe animation <animation@cluster.example>",
        message_id=message_id_for(42, 7, "cluster.example"), list_id="Lettre du pôle <newsletter.cluster.example>",
        unsubscribe_url=UNSUB, unsubscribe_mailto="unsubscribe@cluster.example?subject=unsubscribe", date=WHEN,
    )
    values.update(changes)
    return build_message(rendered or RenderedMessage("Débat : l'eau", "<p>Bonjour</p>\n", "Bonjour\n"), **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rendered() -> RenderedMessage:
    renderer = Renderer(cluster_name="Pôle Agri-Ouest", base_url=BASE)
    prepared = renderer.prepare("invitation", Content(
        "fr", "Invitation : débat « eau & agriculture », {{ contact.first_name }}",
        "Bonjour {{ contact.first_name }},\n\nVenez débattre.\n" + "Une ligne assez longue pour être repliée. " * 20))
    return prepared.render({"first_name": "Hélène", "last_name": "Lefèvre"}, {"unsubscribe": UNSUB, "rsvp_yes": f"{BASE}/r/t/yes",
                           "rsvp_no": f"{BASE}/r/t/no"}, {"title": "Débat", "starts_local": "12/03/2026 18:00"})


# -- headers ---------------------------------------------------------------------------------------
def test_headers_and_structure(rendered: RenderedMessage) -> None:
    raw = to_bytes(build(rendered))  # type: ignore[arg-type]
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].decode() for line in head.split(b"\r\n") if line and line[:1] not in b" \t"]
    for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                 "List-Unsubscribe-Post", "MIME-Version", "Content-Type"):
        assert names.count(name) == 1, name
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert b"\r\nMessage-ID: <d42.c7@cluster.example>\r\n" in raw
    assert b"\r\nDate: Thu, 12 Mar 2026 17:30:00 +0000\r\n" in raw
    # the unsubscribe link is written as is, however long, never as encoded-words
    unfolded = re.sub(rb"\r\n[ \t]", b" ", head)
    assert f"List-Unsubscribe: <{UNSUB}>, <mailto:unsubscribe@cluster.example?subject=unsubscribe>".encode() in unfolded
    assert b"=?utf-8?q?=3Chttps" not in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))

    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["From"] == "Pôle Agri-Ouest <news@cluster.example>"
    assert parsed["To"] == "Hélène Lefèvre <helene@example.fr>"
    assert parsed["Reply-To"] == "Équipe animation <animation@cluster.example>"
    assert parsed["List-Id"] == "Lettre du pôle <newsletter.cluster.example>"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n") == rendered.text
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == rendered.html.rstrip("\n")
    assert "MIME-Version" not in text and "MIME-Version" not in html


@pytest.mark.parametrize("subject", ["Débat : « l'eau » et l'agriculture — inscrivez-vous, places limitées",
                                     "دعوة لحضور النقاش الموضوعي حول الماء والفلاحة في الجهة",
                                     "Plain ASCII subject"])
def test_subject_is_rfc2047_encoded_and_decodes_back(subject: str) -> None:
    raw = to_bytes(build(RenderedMessage(subject, "<p>x</p>", "x\n")))  # type: ignore[arg-type]
    assert raw.isascii()  # 7-bit message: headers encoded, bodies QP/base64
    header = re.search(rb"\r\nSubject: (.*?)\r\n(?![ \t])", raw, re.S).group(1)  # type: ignore[union-attr]
    assert (b"=?utf-8?" in header) != subject.isascii()
    assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


def test_only_crlf_line_endings() -> None:
    nasty = RenderedMessage("S", "<p>a</p>\n<p>b</p>\r<p>c</p>\r\n" + "é" * 300, "line 1\nline 2\rline 3\r\n" + "x" * 200)
    raw = to_bytes(build(nasty))  # type: ignore[arg-type]
    assert re.search(rb"(?<!\r)\n", raw) is None
    assert re.search(rb"\r(?!\n)", raw) is None
    assert raw.count(b"\r\n") > 10


def test_rtl_text_part_and_content_language() -> None:
    raw = to_bytes(build(RenderedMessage("S", "<p>x</p>", "مرحبا\nhttps://example.org\n\nشكرا\n"),  # type: ignore[arg-type]
                         direction="rtl", language="ar"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Content-Language"] == "ar"
    lines = next(parsed.iter_parts()).get_content().replace("\r\n", "\n").split("\n")
    assert lines[:4] == ["\u200fمرحبا", "\u200fhttps://example.org", "", "\u200fشكرا"]


def test_message_id_is_stable() -> None:
    assert message_id_for(123, 45, "cluster.example") == "<d123.c45@cluster.example>"
    assert message_id_for(123, 45, "Cluster.Example") == message_id_for(123, 45, "cluster.example")
    assert message_id_for(124, 45, "cluster.example") != message_id_for(123, 45, "cluster.example")
    with pytest.raises(ValidationError):
        message_id_for(1, 2, "bad domain\r\nX: y")


@pytest.mark.parametrize(
    ("field", "value", "header"),
    [
        ("subject", "Hello\r\nBcc: victim@example.org", "Subject"),
        ("subject", "Hello\nBcc: victim@example.org", "Subject"),
        ("subject", "Hello\rBcc: victim@example.org", "Subject"),
        ("subject", "Hello\u2028Bcc: victim@example.org", "Subject"),
        ("from_name", "Pôle\r\nBcc: victim@example.org", "From"),
        ("to_name", "Eve\nBcc: victim@example.org", "To"),
        ("to_addr", "eve@example.org\r\nBcc: victim@example.org", "To"),
        ("from_addr", "news@cluster.example\nX: y", "From"),
        ("reply_to", "a@b.org\r\nBcc: victim@example.org", "Reply-To"),
        ("message_id", "<a@b>\r\nBcc: victim@example.org", "Message-ID"),
        ("list_id", "news.cluster.example\r\nBcc: x@y.org", "List-Id"),
        ("unsubscribe_url", "https://crm.example.org/u/x\r\nBcc: x@y.org", "List-Unsubscribe"),
        ("unsubscribe_mailto", "u@cluster.example\nBcc: x@y.org", "List-Unsubscribe"),
        ("extra_headers", {"X-Campaign": "7\r\nBcc: x@y.org"}, "X-Campaign"),
    ],
)
def test_cr_lf_in_any_header_value_is_refused(field: str, value: object, header: str) -> None:
    with pytest.raises(ValidationError) as err:
        if field == "subject":
            build(RenderedMessage(str(value), "<p>x</p>", "x"))
        else:
            build(**{field: value})
    assert err.value.where == header


def test_other_bad_headers_are_refused() -> None:
    with pytest.raises(ValidationError, match="https"):
        build(unsubscribe_url="http://crm.example.org/u/x")
    build(unsubscribe_url="http://localhost:8000/u/x")  # development
    with pytest.raises(ValidationError, match="set by build_message"):
        build(extra_headers={"List-Unsubscribe": "<https://evil.example>"})
    with pytest.raises(ValidationError, match="header name"):
        build(extra_headers={"Bad Name": "x"})
    with pytest.raises(ValidationError, match="timezone"):
        build(date=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        build(to_addr="not-an-address")
    with pytest.raises(ValidationError):
        build(list_id="not a list id")
    raw = to_bytes(build(extra_headers={"X-Campaign": "7"}, date=datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1)))))  # type: ignore[arg-type]
    assert b"\r\nX-Campaign: 7\r\n" in raw and b"+0100" in raw


# -- DKIM ------------------------------------------------------------------------------------------
def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_int(v: int) -> bytes:
    body = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(body)) + body


def _der_seq(*items: bytes) -> bytes:
    body = b"".join(items)
    return b"\x30" + _der_len(len(body)) + body


def _prime(bits: int, rng: random.Random) -> int:
    small = [p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))]
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | (3 << (bits - 2)) | 1
        if any(n % p == 0 for p in small):
            continue
        d, s = n - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        for _ in range(40):
            x = pow(rng.randrange(2, n - 2), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


@pytest.fixture(scope="module")
def rsa_key() -> tuple[bytes, str]:
    """A fresh 2048-bit RSA key (pure Python): PKCS#1 PEM private key, base64 public key for DNS."""
    rng = random.SystemRandom()
    e = 65537
    while True:
        p, q = _prime(1024, rng), _prime(1024, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % e:
            break
    n, d = p * q, pow(e, -1, phi)
    private = _der_seq(*(_der_int(v) for v in (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))))
    pem = b"-----BEGIN RSA PRIVATE KEY-----\n" + base64.encodebytes(private) + b"-----END RSA PRIVATE KEY-----\n"
    return pem, base64.b64encode(_der_seq(_der_int(n), _der_int(e))).decode()


def test_dkim_signature_verifies_and_covers_the_list_headers(rendered: RenderedMessage, rsa_key: tuple[bytes, str]) -> None:
    pem, public = rsa_key
    signed = sign(to_bytes(build(rendered)), selector="crm2026", domain="cluster.example", private_key=pem)  # type: ignore[arg-type]
    assert signed.startswith(b"DKIM-Signature: ")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"crm2026._domainkey.cluster.example."
        return f"v=DKIM1; k=rsa; p={public}".encode()

    assert dkim.verify(signed, dnsfunc=dns)
    header = re.sub(rb"\r\n[ \t]+", b" ", signed.split(b"\r\n\r\n", 1)[0]).split(b"\r\n")[0]
    signed_headers = {h.strip() for h in re.search(rb"h=([^;]+);", header).group(1).split(b":")}  # type: ignore[union-attr]
    for name in (b"from", b"to", b"subject", b"date", b"message-id", b"list-id", b"list-unsubscribe",
                 b"list-unsubscribe-post"):
        assert name in signed_headers, name
    # changing a signed List-* header (or the body) breaks the signature
    for before, after in ((b"List-Unsubscribe=One-Click", b"List-Unsubscribe=Two-Click"),
                          (b"<https://crm.example.org/u/", b"<https://evil.example.org/u/"),
                          (b"Message-ID: <d42", b"Message-ID: <d43")):
        assert before in signed
        assert not dkim.verify(signed.replace(before, after, 1), dnsfunc=dns)
    with pytest.raises(ValidationError):
        sign(b"From: a@b.org\r\n\r\nx", selector="s", domain="cluster.example", private_key=b"not a key")


# -- signed links ----------------------------------------------------------------------------------
def test_unsubscribe_token_round_trip_and_url() -> None:
    token = links.unsubscribe_token(SECRET, contact_id=123456, campaign_id=789, topic="newsletter")
    assert links.read_unsubscribe_token(SECRET, token) == {"contact_id": 123456, "campaign_id": 789, "topic": "newsletter"}
    assert links.unsubscribe_url(BASE + "/", token) == f"{BASE}/u/{token}"
    assert links.unsubscribe_url("http://localhost:8000", token) == f"http://localhost:8000/u/{token}"
    without = links.unsubscribe_token(SECRET, contact_id=1, campaign_id=None, topic="events")
    assert links.read_unsubscribe_token(SECRET, without)["campaign_id"] is None
    assert re.fullmatch(r"[A-Za-z0-9_\-.]+", token)  # URL-safe as is
    for bad in ("http://crm.example.org", "ftp://crm.example.org", "crm.example.org", "https://", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            links.unsubscribe_url(bad, token)


def test_tampered_tokens_are_refused() -> None:
    token = links.unsubscribe_token(SECRET, contact_id=42, campaign_id=7, topic="newsletter")
    payload, signature = token.split(".")
    forged_payload = base64.urlsafe_b64encode(b'[43,7,"newsletter"]').rstrip(b"=").decode()
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (f"{forged_payload}.{signature}", f"{payload}.{flipped}", payload, token[:-5], "", "x.y", token + "x"):
        with pytest.raises(ValidationError):
            links.read_unsubscribe_token(SECRET, bad)
    with pytest.raises(ValidationError):
        links.read_unsubscribe_token("another-secret", token)
    with pytest.raises(ValidationError):  # a token made for another purpose
        links.read_rsvp_token(SECRET, token)


def test_rsvp_preferences_and_view_tokens() -> None:
    token = links.rsvp_token(SECRET, contact_id=5, event_id=9, campaign_id=3)
    assert links.read_rsvp_token(SECRET, token) == {"contact_id": 5, "event_id": 9, "campaign_id": 3}
    assert links.rsvp_url(BASE, token, "yes") == f"{BASE}/r/{token}/yes"
    assert links.rsvp_url(BASE, token, "no") == f"{BASE}/r/{token}/no"
    with pytest.raises(ValidationError):
        links.rsvp_url(BASE, token, "maybe")
    with pytest.raises(ValidationError):
        links.read_unsubscribe_token(SECRET, token)
    pref = links.preferences_token(SECRET, contact_id=5)
    assert links.read_preferences_token(SECRET, pref) == {"contact_id": 5}
    assert links.preferences_url(BASE, pref) == f"{BASE}/p/{pref}"
    view = links.view_token(SECRET, delivery_id=77)
    assert links.read_view_token(SECRET, view) == {"delivery_id": 77}
    assert links.view_online_url(BASE, view) == f"{BASE}/v/{view}"
    with pytest.raises(ValidationError):
        links.read_preferences_token(SECRET, view)
    with pytest.raises(ValidationError):
        links.unsubscribe_token(SECRET, contact_id=-1, campaign_id=None, topic="newsletter")
    with pytest.raises(ValidationError):
        links.unsubscribe_token("", contact_id=1, campaign_id=None, topic="newsletter")


# -- the send path's builder -------------------------------------------------------------------------
_TEXT = st.text(alphabet=st.sampled_from("aé ç\n\r\t.<>=?_-Ωمر😀\u200f\"'"), max_size=300)
_NAME = st.one_of(st.none(), st.text(alphabet=st.sampled_from("aZé \"'()<>@,.;:=?ß-\n"), max_size=40))  # LF: refused alike


@settings(max_examples=150, deadline=None)
@given(subject=_TEXT.filter(lambda s: "\r" not in s and "\n" not in s), text=_TEXT, html=_TEXT, to_name=_NAME,
       from_name=_NAME, reply_to=st.sampled_from([None, "animation@cluster.example", "Équipe <animation@cluster.example>"]),
       mailto=st.sampled_from([None, "unsubscribe@cluster.example"]), direction=st.sampled_from(["ltr", "rtl"]),
       language=st.sampled_from([None, "fr", "ar"]), extra=st.sampled_from([None, {"X-Campaign": "7"}, {"X-Tag": "é è"}]))
def test_the_frame_builds_byte_for_byte_what_build_message_builds(
    subject: str, text: str, html: str, to_name: str | None, from_name: str | None, reply_to: str | None,
    mailto: str | None, direction: str, language: str | None, extra: dict[str, str] | None,
) -> None:
    shared: dict[str, Any] = dict(from_addr="news@cluster.example", from_name=from_name, reply_to=reply_to,
                                  list_id="Lettre <newsletter.cluster.example>", unsubscribe_mailto=mailto,
                                  direction=direction, language=language, extra_headers=extra)
    each: dict[str, Any] = dict(to_addr="helene@example.fr", to_name=to_name, message_id=message_id_for(42, 7, "cluster.example"),
                                unsubscribe_url=UNSUB, date=WHEN)
    rendered = RenderedMessage(subject, html, text)
    try:
        expected = to_bytes(build_message(rendered, **shared, **each))
    except ValidationError as exc:
        with pytest.raises(ValidationError) as raised:
            Frame(**shared).message(rendered, **each)
        assert (raised.value.where, str(raised.value)) == (exc.where, str(exc))
        return
    assert Frame(**shared).message(rendered, **each) == expected


_SHARED: dict[str, Any] = dict(from_addr="news@cluster.example", from_name="Pôle Agri-Ouest",
                               reply_to="Équipe animation <animation@cluster.example>",
                               list_id="Lettre du pôle <newsletter.cluster.example>")
_EACH: dict[str, Any] = dict(to_addr="helene@example.fr", to_name="Hélène Lefèvre",
                             message_id=message_id_for(42, 7, "cluster.example"), unsubscribe_url=UNSUB, date=WHEN)


@pytest.mark.parametrize("options", [
    {},  # the defaults: left to right, no language, no mailto, no extra headers
    {"direction": "rtl", "language": "ar", "unsubscribe_mailto": "unsubscribe@cluster.example"},
    {"direction": "ltr", "language": "fr", "extra_headers": {"X-Campaign": "7", "X-Tag": "é è"}},
    {"reply_to": None, "from_name": None},
])
def test_the_frame_matches_build_message_on_a_real_template(rendered: RenderedMessage, options: dict[str, Any]) -> None:
    shared = {**_SHARED, **options}
    assert Frame(**shared).message(rendered, **_EACH) == to_bytes(build_message(rendered, **shared, **_EACH))


@pytest.mark.parametrize(("text", "html"), [
    ("a\r\nb\rc\nd\r\n\r\n", "<p>a</p>\r\n<p>b</p>\r<p>c</p>\n"),  # every line ending, QP
    ("é\r\nè\rà\nù\r\n" * 20, "<p>é</p>\r<p>è</p>\r\n" * 20),  # mostly non-ASCII: base64
])
def test_the_frame_writes_crlf_line_endings_only(text: str, html: str) -> None:
    rendered = RenderedMessage("S", html, text)
    raw = Frame(**_SHARED).message(rendered, **_EACH)
    assert raw == to_bytes(build_message(rendered, **_SHARED, **_EACH))
    assert re.search(rb"(?<!\r)\n", raw) is None and re.search(rb"\r(?!\n)", raw) is None
    parsed = message_from_bytes(raw, policy=policy.default)
    plain, markup = parsed.iter_parts()
    assert plain.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n").replace("\r", "\n")
    assert markup.get_content().replace("\r\n", "\n") == html.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize(("field", "value"), [
    ("reply_to", "a@b.org\r\nBcc: victim@example.org"), ("reply_to", 5), ("reply_to", "Eve\x00 <a@b.org>"),
    ("list_id", "news.cluster.example\r\nBcc: x@y.org"), ("list_id", 5), ("list_id", "news.cluster.example\x07"),
    ("unsubscribe_mailto", "u@cluster.example\nBcc: x@y.org"), ("unsubscribe_mailto", 5),
    ("language", "fr\r\nBcc: x@y.org"), ("language", "not a tag"), ("direction", "LTR"), ("direction", None),
    ("extra_headers", {"X-Campaign": "7\r\nBcc: x@y.org"}), ("extra_headers", {"List-Id": "x"}),
    ("from_name", "Pôle\r\nBcc: victim@example.org"), ("from_addr", "news@cluster.example\nX: y"),
    ("reply_to", "not-an-address"), ("reply_to", "Équipe <animation@-cluster-.example>"), ("from_addr", "news"),
])
def test_the_frame_refuses_a_bad_shared_header_as_build_message_does(field: str, value: object) -> None:
    shared = {**_SHARED, field: value}
    rendered = RenderedMessage("S", "<p>x</p>", "x")
    with pytest.raises(ValidationError) as reference:
        build_message(rendered, **shared, **_EACH)
    with pytest.raises(ValidationError) as err:
        Frame(**shared).message(rendered, **_EACH)
    assert (err.value.where, str(err.value)) == (reference.value.where, str(reference.value))


@pytest.mark.parametrize(("field", "value"), [
    ("subject", "Hello\r\nBcc: victim@example.org"), ("subject", "Hello\nBcc: victim@example.org"),
    ("subject", "Hello\u2028Bcc: victim@example.org"), ("subject", "Hello\x00"), ("subject", 5),
    ("to_addr", "eve@example.org\r\nBcc: victim@example.org"), ("to_addr", "not-an-address"),
    ("to_name", "Eve\nBcc: victim@example.org"), ("message_id", "<a@b>\r\nBcc: victim@example.org"),
    ("message_id", "no-brackets@b"), ("unsubscribe_url", "https://crm.example.org/u/x\r\nBcc: x@y.org"),
    ("unsubscribe_url", "http://crm.example.org/u/x"), ("date", datetime(2026, 1, 1)),
])
def test_the_frame_refuses_a_bad_recipient_value_as_build_message_does(field: str, value: object) -> None:
    each = dict(_EACH)
    subject = value if field == "subject" else "S"
    if field != "subject":
        each[field] = value
    rendered = RenderedMessage(subject, "<p>x</p>", "x")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as reference:
        build_message(rendered, **_SHARED, **each)
    with pytest.raises(ValidationError) as err:
        Frame(**_SHARED).message(rendered, **each)
    assert (err.value.where, str(err.value)) == (reference.value.where, str(reference.value))
