"""Parsing and validating what a person typed for one contact field.

Every way in (CSV import, `crm contacts add/edit`, later the HTTP API) goes through
these functions, so a value means the same wherever it came from. Each raises
`ValidationError` naming the field; callers add the place (file:line, option name).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from crm import vocabulary
from crm.errors import ValidationError
from crm.models import FieldType, Membership, OrganisationKind, OrganisationSize, TargetGroup
from crm.vocabulary import fold

_PHONE = re.compile(r"^\+?[0-9 ().\-/]{4,30}$")


# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: never part
# of a one-line value (a name, a title, a city), and a header injection at send time.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # keeps tab, LF, CR


def nfc(raw: str) -> str:
    """Unicode NFC: 'Be\u0301ziers' (e + combining accent) -> 'Béziers', so equal text compares equal."""
    return raw if unicodedata.is_normalized("NFC", raw) else unicodedata.normalize("NFC", raw)


def text(raw: str, field: str, *, multiline: bool = False, limit: int | None = None) -> str:
    """Free text as every way in stores it: NFC, stripped, no control characters.

    One-line values (names, job title, city, organisation) refuse line breaks, tabs and other
    control characters; ``multiline`` values (notes) accept tab, LF and CR. NUL is refused
    everywhere (PostgreSQL cannot store it).
    """
    value = nfc(raw).strip()
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if bad:
        char = bad.group()
        what = {"\n": "a line break", "\r": "a line break (CR)", "\t": "a tab", "\x00": "a NUL character"}.get(
            char, f"the control character U+{ord(char):04X}"
        )
        hint = "remove it" if multiline else "remove it (this value must fit on one line)"
        raise ValidationError(f"contains {what} at character {bad.start() + 1}: {hint}", field)
    if limit is not None and len(value) > limit:
        raise ValidationError(f"longer than {limit} characters: shorten it", field)
    return value


def web_link(raw: str, field: str, *, limit: int | None = None) -> str:
    """A web address a message links to: http(s), a host, no spaces (a link with a space or
    no host is broken for every recipient)."""
    from urllib.parse import urlsplit

    value = text(raw, field, limit=limit)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(
            c.isspace() for c in value):
        raise ValidationError(f"{value!r} is not a web address: give one such as https://survey.example.org/form",
                              field)
    return value


def email(raw: str) -> str:
    """Normalised address (domain lower-cased, IDNA); no DNS look-up.

    The part before the @ must be ASCII: without the SMTPUTF8 extension (most servers, and
    our sender) a Unicode local part cannot be sent, so it is refused here, not at send.
    """
    address = nfc(raw).strip()
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"invalid email address {address!r}: {exc}", "email") from None
    if not valid.local_part.isascii():
        raise ValidationError(
            f"{address!r}: the part before the @ has non-ASCII letters, which mail servers without "
            "SMTPUTF8 cannot deliver: ask the person for an ASCII address",
            "email",
        )
    return valid.normalized


# The plain form `email` produces for most addresses: an ASCII dot-atom local part (at most
# 64 characters) and a lower-case domain of valid labels. Anything else is validated in full.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+[a-z]{{2,63}}"
)
_SPECIAL_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)


def stored_email(value: str) -> str:
    """An address read back from the store, checked again before it is used (a send).

    Every way in stored it through `email`, so the common plain form only needs a regular
    expression (a few microseconds, against about 100 for the full check); anything else —
    written by another tool, or by an older rule — is validated in full.
    """
    if len(value) <= 254 and _PLAIN_ADDRESS.fullmatch(value) and not value.endswith(_SPECIAL_SUFFIXES):
        return value
    return email(value)


@lru_cache(maxsize=512)
def language(raw: str) -> str:
    """A BCP 47 tag ("fr", "en", "pt-BR") from a tag, a locale or a language's name."""
    text = raw.strip()
    named = vocabulary.LANGUAGE_NAMES.read(text)  # 'Français', 'arabic'
    if named:
        return named
    try:
        locale = Locale.parse(text.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError(
            f"unknown language {text!r}: give a BCP 47 tag such as fr, en, ar, pt-BR", "language"
        ) from None
    tag = locale.language
    if locale.script:
        tag += f"-{locale.script}"
    if locale.territory:
        tag += f"-{locale.territory}"
    return tag


def phone(raw: str) -> str:
    text = " ".join(raw.split())
    if not _PHONE.match(text) or sum(c.isdigit() for c in text) < 4:
        raise ValidationError(f"invalid phone number {raw.strip()!r}", "phone")
    return text


def country(raw: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased: 'fr' -> 'FR'."""
    value = raw.strip()
    if len(value) != 2 or not value.isalpha() or not value.isascii():
        raise ValidationError(f"country {raw!r}: use a two-letter ISO code (FR, MA, TN)", "country")
    return value.upper()


# A person's word for a target group ('Entreprises membres', 'Université'), a membership, an
# organisation's kind or size, as crm.vocabulary reads it.
target = vocabulary.words(TargetGroup).parse
membership = vocabulary.words(Membership).parse
organisation_kind = vocabulary.words(OrganisationKind).parse
organisation_size = vocabulary.words(OrganisationSize).parse


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y")


def day(raw: str, field: str = "date") -> date:
    """ISO dates, and the day-first forms of French spreadsheets (31/12/2026)."""
    text = raw.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"invalid date {text!r}: use YYYY-MM-DD or DD/MM/YYYY", field)


def custom_value(raw: str, kind: FieldType, field: str) -> str | float | date | bool:
    """Coerce a custom field's text to its declared type."""
    value = text(raw, field, multiline=kind is FieldType.TEXT)
    if kind is FieldType.TEXT:
        return value
    if kind is FieldType.NUMBER:
        try:
            number = float(value.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            raise ValidationError(f"{value!r} is not a number", field) from None
        if not math.isfinite(number):
            raise ValidationError(f"{value!r} is not a finite number: give digits such as 12 or 3,5", field)
        return number
    if kind is FieldType.DATE:
        return day(value, field)
    answer = vocabulary.YES_NO.read(value)
    if answer is None:
        raise ValidationError(f"{value!r} is not yes/no", field)
    return answer


def format_custom(value: str | float | date | bool | None) -> str:
    """The text form a value is exported in, read back by `custom_value` to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def slug(label: str) -> str:
    """A custom field's key from its column header: 'Secteur préféré' -> 'secteur_prefere'."""
    key = fold(nfc(label)).replace(" ", "_")
    if not key:
        raise ValidationError(f"column header {label!r} has no letters or digits", "header")
    return key[:80]
