"""Signed links (crm/links.py): who is unsubscribed, whose RSVP is recorded, whose page is shown.

Tokens are checked against an independent HMAC-SHA256 signer written here with the standard
library only (``_signed``), so a token made with another key, salt or digest, or a payload
of the wrong shape, can be made on purpose: the reader must refuse what its signer could
never have written. Golden tokens pin the format: links already sent in mail must keep
reading after an upgrade (they do not expire).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

import pytest

from crm import links
from crm.errors import ValidationError

SECRET = "test-secret-key"
BASE = "https://crm.example.org"
ALTERED = "token: this link is invalid or was altered"
PURPOSES = ("unsubscribe", "rsvp", "preferences", "view")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signed(payload: Any, *, purpose: str, secret: str = SECRET, salt: str | None = None,
            raw: bytes | None = None, compress: bool = False) -> str:
    """A token as an HMAC-SHA256 signer keyed on (salt, secret) writes it: base64url(JSON).signature."""
    body = raw if raw is not None else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    value = ("." + _b64(zlib.compress(body))) if compress else _b64(body)
    salt = salt if salt is not None else f"crm.links.{purpose}"
    key = hashlib.sha256(salt.encode() + b"signer" + secret.encode()).digest()
    return f"{value}.{_b64(hmac.new(key, value.encode(), hashlib.sha256).digest())}"


READERS = {
    "unsubscribe": links.read_unsubscribe_token,
    "rsvp": links.read_rsvp_token,
    "preferences": links.read_preferences_token,
    "view": links.read_view_token,
}


def _make(purpose: str, secret: str = SECRET) -> str:
    if purpose == "unsubscribe":
        return links.unsubscribe_token(secret, contact_id=5, campaign_id=None, topic="newsletter")
    if purpose == "rsvp":
        return links.rsvp_token(secret, contact_id=5, event_id=9)
    if purpose == "preferences":
        return links.preferences_token(secret, contact_id=5)
    return links.view_token(secret, delivery_id=5)


def _refused(read: Any, token: str, message: str = ALTERED) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        read(SECRET, token)
    assert str(err.value) == message
    return err.value


# -- the format: golden tokens, the signature is HMAC-SHA256 with a salt per purpose --------------
GOLDEN = [
    ("unsubscribe", "WzQyLDcsIm5ld3NsZXR0ZXIiXQ.QrW40dRMWSxKzerHOK8xqre9CjxWsJcg9bsGHdJk-Uo",
     {"contact_id": 42, "campaign_id": 7, "topic": "newsletter"}),
    ("unsubscribe", "WzAsbnVsbCwiw6l2w6luZW1lbnRzIl0.kTEtKDO56C9ummQ-9YR5yhV3_WTNhT7gy8iEniLS-HA",
     {"contact_id": 0, "campaign_id": None, "topic": "événements"}),
    ("rsvp", "WzUsOSwzXQ.aPIdtsbiVgnOqORF0QCCmU9BC7FEmTtYr6JQ_aFsNZU", {"contact_id": 5, "event_id": 9, "campaign_id": 3}),
    ("preferences", "WzVd.9R4GxnJEv8wBn0QsEcZVCS6Baq8dSp6Nl1PhCOsJ94A", {"contact_id": 5}),
    ("view", "Wzc3XQ.8gMBi6h8tOma8VSFApiMddat9RiEk8GY5dnRklDONcs", {"delivery_id": 77}),
]


@pytest.mark.parametrize(("purpose", "token", "fields"), GOLDEN)
def test_golden_tokens_are_written_and_read_exactly(purpose: str, token: str, fields: dict[str, Any]) -> None:
    made = {
        "unsubscribe": lambda: links.unsubscribe_token(SECRET, **fields),
        "rsvp": lambda: links.rsvp_token(SECRET, **fields),
        "preferences": lambda: links.preferences_token(SECRET, **fields),
        "view": lambda: links.view_token(SECRET, **fields),
    }[purpose]()
    assert made == token
    assert made == _signed(list(fields.values()), purpose=purpose)  # HMAC-SHA256, salt crm.links.<purpose>
    assert READERS[purpose](SECRET, token) == fields


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_signed_otherwise_is_refused(purpose: str) -> None:
    payload = {"unsubscribe": [5, None, "newsletter"], "rsvp": [5, 9, None], "preferences": [5], "view": [5]}[purpose]
    read = READERS[purpose]
    assert read(SECRET, _signed(payload, purpose=purpose))  # the reference: accepted
    assert read(SECRET, _signed(payload, purpose=purpose, compress=True))  # itsdangerous' compressed form too
    _refused(read, _signed(payload, purpose=purpose, secret="another-secret"))
    _refused(read, _signed(payload, purpose=purpose, salt="itsdangerous"))  # the library's default salt
    _refused(read, _signed(payload, purpose=purpose, salt=""))
    sha1 = _signed(payload, purpose=purpose).split(".")[0]
    key = hashlib.sha1(f"crm.links.{purpose}".encode() + b"signer" + SECRET.encode()).digest()
    _refused(read, f"{sha1}.{_b64(hmac.new(key, sha1.encode(), hashlib.sha1).digest())}")  # HMAC-SHA1


@pytest.mark.parametrize("reader", PURPOSES)
@pytest.mark.parametrize("maker", PURPOSES)
def test_each_purpose_refuses_the_others_tokens(maker: str, reader: str) -> None:
    token = _make(maker)
    if maker == reader:
        assert READERS[reader](SECRET, token)
    else:
        _refused(READERS[reader], token)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_tampered_or_truncated_tokens_are_refused_without_saying_why(purpose: str) -> None:
    token = _make(purpose)
    value, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    for bad in (token[:-1], token[:-10], token + "A", value, f"{value}.", f".{signature}", "", ".", "..",
                f"{value}.{other}{signature[1:]}", f"{value[:-1]}{'A' if value[-1] != 'A' else 'B'}.{signature}",
                f"{value}x.{signature}", token.upper(), token.replace(".", ":"), f"{token}.{signature}",
                "é.é", "\ud800", "x" * 5000,
                # verify (the base64 decoder ignores what follows the padding) but were not written by us
                token + "=", token + "==", token + "==A", f"{value}=.{signature}"):
        error = _refused(READERS[purpose], bad)
        assert error.where == "token" and error.message == "this link is invalid or was altered"
        assert error.__cause__ is None and error.__suppress_context__  # nothing chained, nothing revealed
    with pytest.raises(ValidationError) as err:
        READERS[purpose]("another-secret", token)
    assert str(err.value) == ALTERED


# -- payloads a signer of ours never writes (only someone holding the key could make them) ---------
@pytest.mark.parametrize(("purpose", "payload"), [
    ("unsubscribe", [5, None]), ("unsubscribe", [5, None, "newsletter", 1]), ("unsubscribe", []),
    ("unsubscribe", {"contact_id": 5, "campaign_id": None, "topic": "newsletter"}), ("unsubscribe", "5,,newsletter"),
    ("unsubscribe", 5), ("unsubscribe", None),
    ("rsvp", [5, 9]), ("rsvp", [5, 9, None, None]), ("rsvp", {"0": 5, "1": 9, "2": None}), ("rsvp", "abc"),
    ("preferences", []), ("preferences", [5, 6]), ("preferences", {"contact_id": 5}), ("preferences", 5),
    ("preferences", "5"),
    ("view", []), ("view", [5, 6]), ("view", {"delivery_id": 5}), ("view", 5), ("view", "x"),
])
def test_a_payload_of_the_wrong_shape_is_refused(purpose: str, payload: Any) -> None:
    error = _refused(READERS[purpose], _signed(payload, purpose=purpose))
    assert error.__cause__ is None


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_signed_payload_that_is_not_json_is_refused(purpose: str) -> None:
    for raw in (b"[5,", b"\xff\xfe", b"", b"NaN-ish"):
        _refused(READERS[purpose], _signed(None, purpose=purpose, raw=raw))


@pytest.mark.parametrize(("purpose", "payload", "message"), [
    ("unsubscribe", [5, None, 7], ALTERED),
    ("unsubscribe", [5, None, None], ALTERED),
    ("unsubscribe", [5, None, ["newsletter"]], ALTERED),
    ("unsubscribe", ["5", None, "newsletter"], "contact_id: contact_id must be a non-negative integer"),
    ("unsubscribe", [None, None, "newsletter"], "contact_id: contact_id must be a non-negative integer"),
    ("unsubscribe", [-1, None, "newsletter"], "contact_id: contact_id must be a non-negative integer"),
    ("unsubscribe", [True, None, "newsletter"], "contact_id: contact_id must be a non-negative integer"),
    ("unsubscribe", [5.0, None, "newsletter"], "contact_id: contact_id must be a non-negative integer"),
    ("unsubscribe", [5, -1, "newsletter"], "campaign_id: campaign_id must be a non-negative integer"),
    ("unsubscribe", [5, "7", "newsletter"], "campaign_id: campaign_id must be a non-negative integer"),
    ("unsubscribe", [5, False, "newsletter"], "campaign_id: campaign_id must be a non-negative integer"),
    ("rsvp", [-1, 9, None], "contact_id: contact_id must be a non-negative integer"),
    ("rsvp", [None, 9, None], "contact_id: contact_id must be a non-negative integer"),
    ("rsvp", [5, None, None], "event_id: event_id must be a non-negative integer"),
    ("rsvp", [5, -9, None], "event_id: event_id must be a non-negative integer"),
    ("rsvp", [5, True, None], "event_id: event_id must be a non-negative integer"),
    ("rsvp", [5, 9, -3], "campaign_id: campaign_id must be a non-negative integer"),
    ("rsvp", [5, 9, "3"], "campaign_id: campaign_id must be a non-negative integer"),
    ("preferences", [-5], "contact_id: contact_id must be a non-negative integer"),
    ("preferences", [None], "contact_id: contact_id must be a non-negative integer"),
    ("preferences", ["5"], "contact_id: contact_id must be a non-negative integer"),
    ("view", [-5], "delivery_id: delivery_id must be a non-negative integer"),
    ("view", [None], "delivery_id: delivery_id must be a non-negative integer"),
    ("view", [False], "delivery_id: delivery_id must be a non-negative integer"),
])
def test_wrong_types_inside_a_signed_payload_are_refused(purpose: str, payload: list[Any], message: str) -> None:
    error = _refused(READERS[purpose], _signed(payload, purpose=purpose), message)
    assert error.where == message.split(":")[0]


@pytest.mark.parametrize(("purpose", "payload", "fields"), [
    ("unsubscribe", [0, 0, "n"], {"contact_id": 0, "campaign_id": 0, "topic": "n"}),
    ("unsubscribe", [2**53, None, "x" * 500], {"contact_id": 2**53, "campaign_id": None, "topic": "x" * 500}),
    ("rsvp", [0, 0, 0], {"contact_id": 0, "event_id": 0, "campaign_id": 0}),
    ("rsvp", [1, 2, None], {"contact_id": 1, "event_id": 2, "campaign_id": None}),
    ("preferences", [0], {"contact_id": 0}),
    ("view", [0], {"delivery_id": 0}),
])
def test_a_signed_payload_reads_field_by_field(purpose: str, payload: list[Any], fields: dict[str, Any]) -> None:
    assert READERS[purpose](SECRET, _signed(payload, purpose=purpose)) == fields


# -- making tokens: ids, topics, answers ----------------------------------------------------------
@pytest.mark.parametrize("contact_id", [0, 1, 2**31, 2**63])
def test_round_trips_keep_every_id(contact_id: int) -> None:
    for campaign_id in (None, 0, 1, 987654321):
        token = links.unsubscribe_token(SECRET, contact_id=contact_id, campaign_id=campaign_id, topic="newsletter")
        assert links.read_unsubscribe_token(SECRET, token) == {"contact_id": contact_id, "campaign_id": campaign_id,
                                                               "topic": "newsletter"}
        token = links.rsvp_token(SECRET, contact_id=contact_id, event_id=contact_id + 1, campaign_id=campaign_id)
        assert links.read_rsvp_token(SECRET, token) == {"contact_id": contact_id, "event_id": contact_id + 1,
                                                        "campaign_id": campaign_id}
    assert links.read_preferences_token(SECRET, links.preferences_token(SECRET, contact_id=contact_id)) == {
        "contact_id": contact_id}
    assert links.read_view_token(SECRET, links.view_token(SECRET, delivery_id=contact_id)) == {"delivery_id": contact_id}


def test_the_rsvp_campaign_is_optional() -> None:
    token = links.rsvp_token(SECRET, contact_id=5, event_id=9)
    assert token == _signed([5, 9, None], purpose="rsvp")
    assert links.read_rsvp_token(SECRET, token) == {"contact_id": 5, "event_id": 9, "campaign_id": None}


def test_tokens_differ_by_secret_and_by_purpose() -> None:
    a = links.preferences_token(SECRET, contact_id=5)
    assert links.preferences_token("another-secret", contact_id=5) != a
    assert links.view_token(SECRET, delivery_id=5) != a  # same payload [5], another salt
    assert a.split(".")[0] == links.view_token(SECRET, delivery_id=5).split(".")[0]


BAD_ID = "must be a non-negative integer"


@pytest.mark.parametrize("value", [-1, -(2**40), None, True, False, 1.0, "1", [1]])
def test_a_bad_id_is_refused_naming_the_field(value: Any) -> None:
    calls = [
        ("contact_id", lambda: links.unsubscribe_token(SECRET, contact_id=value, campaign_id=1, topic="n")),
        ("contact_id", lambda: links.rsvp_token(SECRET, contact_id=value, event_id=1)),
        ("event_id", lambda: links.rsvp_token(SECRET, contact_id=1, event_id=value)),
        ("contact_id", lambda: links.preferences_token(SECRET, contact_id=value)),
        ("delivery_id", lambda: links.view_token(SECRET, delivery_id=value)),
    ]
    if value is not None:  # a campaign is optional: None is "no campaign"
        calls += [
            ("campaign_id", lambda: links.unsubscribe_token(SECRET, contact_id=1, campaign_id=value, topic="n")),
            ("campaign_id", lambda: links.rsvp_token(SECRET, contact_id=1, event_id=1, campaign_id=value)),
        ]
    for field, call in calls:
        with pytest.raises(ValidationError) as err:
            call()
        assert (err.value.where, err.value.message) == (field, f"{field} {BAD_ID}")


@pytest.mark.parametrize(("topic", "ok"), [
    ("n", True), ("x" * 63, True), ("x" * 64, True), ("é" * 64, True), ("x" * 65, False), ("", False),
    (None, False), (7, False), (b"newsletter", False), (["newsletter"], False),
])
def test_the_topic_is_a_short_non_empty_name(topic: Any, ok: bool) -> None:
    if ok:
        token = links.unsubscribe_token(SECRET, contact_id=1, campaign_id=2, topic=topic)
        assert links.read_unsubscribe_token(SECRET, token)["topic"] == topic
        return
    with pytest.raises(ValidationError) as err:
        links.unsubscribe_token(SECRET, contact_id=1, campaign_id=2, topic=topic)
    assert str(err.value) == "topic: topic must be a short, non-empty name"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_an_empty_secret_is_refused_naming_the_setting(purpose: str) -> None:
    for call in (lambda: _make(purpose, secret=""), lambda: READERS[purpose]("", _make(purpose))):
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.where == "secret_key"
        assert str(err.value) == "secret_key: the secret key is empty (set CRM_SECRET_KEY)"


# -- URLs --------------------------------------------------------------------------------------------
TOKEN = "WzVd.9R4GxnJEv8wBn0QsEcZVCS6Baq8dSp6Nl1PhCOsJ94A"


@pytest.mark.parametrize(("base", "root"), [
    ("https://crm.example.org", "https://crm.example.org"),
    ("https://crm.example.org/", "https://crm.example.org"),
    ("https://crm.example.org///", "https://crm.example.org"),
    ("https://crm.example.org/pole/", "https://crm.example.org/pole"),
    ("https://crm.example.org:8443/a/b", "https://crm.example.org:8443/a/b"),
    ("HTTPS://CRM.example.org", "HTTPS://CRM.example.org"),
    ("https://user@crm.example.org", "https://user@crm.example.org"),
    ("http://localhost", "http://localhost"),
    ("http://localhost:8000/", "http://localhost:8000"),
    ("http://LOCALHOST:8000", "http://LOCALHOST:8000"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("http://crm.localhost", "http://crm.localhost"),
    ("http://a.b.localhost:81/", "http://a.b.localhost:81"),
    ("https://localhost", "https://localhost"),
    ("https://crm.example.org\x0b", "https://crm.example.org"),  # other whitespace around it: trimmed
    ("\x0chttps://crm.example.org/\x0c", "https://crm.example.org"),
])
def test_urls_are_built_exactly(base: str, root: str) -> None:
    assert links.check_base_url(base) == root
    assert links.unsubscribe_url(base, TOKEN) == f"{root}/u/{TOKEN}"
    assert links.rsvp_url(base, TOKEN, "yes") == f"{root}/r/{TOKEN}/yes"
    assert links.rsvp_url(base, TOKEN, "no") == f"{root}/r/{TOKEN}/no"
    assert links.preferences_url(base, TOKEN) == f"{root}/p/{TOKEN}"
    assert links.view_online_url(base, TOKEN) == f"{root}/v/{TOKEN}"


NOT_A_BASE = "base_url: {!r} is not a base URL like https://crm.example.org"
NOT_HTTPS = "base_url: links must use https (http only for localhost): {!r}"


@pytest.mark.parametrize(("base", "message"), [
    ("", NOT_A_BASE), ("crm.example.org", NOT_A_BASE), ("https://", NOT_A_BASE), ("https:///u", NOT_A_BASE),
    ("//crm.example.org", NOT_HTTPS), ("https://crm.example.org?x=1", NOT_A_BASE),
    ("https://crm.example.org#top", NOT_A_BASE), ("https://crm.example.org/p?a#b", NOT_A_BASE),
    ("https://crm.example.org ", NOT_A_BASE), (" https://crm.example.org", NOT_A_BASE),
    ("https://crm.example.org/a b", NOT_A_BASE), ("https://crm.example.org\t", NOT_A_BASE),
    ("https://crm.example.org\n", NOT_A_BASE), ("https://crm.example.org/\r\nX: y", NOT_A_BASE),
    ("http://crm.example.org", NOT_HTTPS), ("http://localhost.example.org", NOT_HTTPS),
    ("http://notlocalhost", NOT_HTTPS), ("http://127.0.0.2", NOT_HTTPS), ("http://[::2]", NOT_HTTPS),
    ("ftp://crm.example.org", NOT_HTTPS), ("ftp://localhost", NOT_HTTPS), ("javascript://localhost/%0Aalert(1)", NOT_HTTPS),
    ("file://localhost/etc", NOT_HTTPS), ("httpss://crm.example.org", NOT_HTTPS),
])
def test_a_bad_base_url_is_refused_saying_what_is_wrong(base: str, message: str) -> None:
    for build in (links.check_base_url, lambda b: links.unsubscribe_url(b, TOKEN), lambda b: links.rsvp_url(b, TOKEN, "yes"),
                  lambda b: links.preferences_url(b, TOKEN), lambda b: links.view_online_url(b, TOKEN)):
        with pytest.raises(ValidationError) as err:
            build(base)
        assert (err.value.where, str(err.value)) == ("base_url", message.format(base))


@pytest.mark.parametrize("answer", ["maybe", "YES", "No", "", " yes", "yes ", "y", "oui", None])
def test_an_rsvp_answer_is_yes_or_no(answer: Any) -> None:
    with pytest.raises(ValidationError) as err:
        links.rsvp_url(BASE, TOKEN, answer)
    assert (err.value.where, str(err.value)) == ("answer", "answer: answer must be one of yes, no")
