"""Parsing and validating what a person typed for one contact field.

Every way in (CSV import, `crm contacts add/edit`, later the HTTP API) goes through
these functions, so a value means the same wherever it came from. Each raises
`ValidationError` naming the field; callers add the place (file:line, option name).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from crm.errors import ValidationError
from crm.models import FieldType, Membership, OrganisationKind, OrganisationSize, TargetGroup
from crm.vocabulary import choices, fold, lookup

_PHONE = re.compile(r"^\+?[0-9 ().\-/]{4,30}$")
_LANGUAGE_NAMES = {
    # What French and English files write in a "Langue" column.
    "francais": "fr", "french": "fr", "anglais": "en", "english": "en", "arabe": "ar",
    "arabic": "ar", "espagnol": "es", "spanish": "es", "allemand": "de", "german": "de",
    "italien": "it", "italian": "it", "portugais": "pt", "portuguese": "pt",
    "neerlandais": "nl", "dutch": "nl", "amazigh": "zgh", "berbere": "ber", "tamazight": "zgh",
}


def email(raw: str) -> str:
    """Normalised address (domain lower-cased, IDNA); no DNS look-up."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(f"invalid email address {raw.strip()!r}: {exc}", "email") from None


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
    named = _LANGUAGE_NAMES.get(fold(text))
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


def target(raw: str) -> TargetGroup:
    found = lookup(TargetGroup, raw)
    if found is None:
        raise ValidationError(
            f"unknown target group {raw.strip()!r}; allowed: {choices(TargetGroup)}", "target"
        )
    return found


def membership(raw: str) -> Membership:
    found = lookup(Membership, raw)
    if found is None:
        raise ValidationError(
            f"unknown membership {raw.strip()!r}; allowed: {choices(Membership)}", "membership"
        )
    return found


def organisation_kind(raw: str) -> OrganisationKind:
    found = lookup(OrganisationKind, raw)
    if found is None:
        raise ValidationError(
            f"unknown organisation kind {raw.strip()!r}; allowed: {choices(OrganisationKind)}",
            "kind",
        )
    return found


def organisation_size(raw: str) -> OrganisationSize:
    try:
        return OrganisationSize(fold(raw))
    except ValueError:
        raise ValidationError(
            f"unknown size {raw.strip()!r}; allowed: {choices(OrganisationSize)}", "size"
        ) from None


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


_TRUE = {"1", "true", "yes", "y", "oui", "o", "vrai", "x"}
_FALSE = {"0", "false", "no", "n", "non", "faux"}


def custom_value(raw: str, kind: FieldType, field: str) -> str | float | date | bool:
    """Coerce a custom field's text to its declared type."""
    text = raw.strip()
    if kind is FieldType.TEXT:
        return text
    if kind is FieldType.NUMBER:
        try:
            return float(text.replace("\u202f", "").replace(" ", "").replace(",", "."))
        except ValueError:
            raise ValidationError(f"{text!r} is not a number", field) from None
    if kind is FieldType.DATE:
        return day(text, field)
    folded = fold(text)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValidationError(f"{text!r} is not yes/no", field)


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
    key = fold(label).replace(" ", "_")
    if not key:
        raise ValidationError(f"column header {label!r} has no letters or digits", "header")
    return key[:80]
