"""The words of the CRM: what people write for a value, and the label they read for it.

One place for both, so that a CSV cell, a CLI option, a segment rule and (later) a form or
an API call read "Collectivité territoriale" the same way, and the members' pages and the
animators' console show the same "Entreprise membre".

Reading what a person wrote (spellings in French and English, folded: ``spellings.py``)::

    vocabulary.read(TargetGroup, "Entreprises membres")   # TargetGroup.MEMBER_COMPANY, or None
    vocabulary.parse(ConsentTopic, "spam")                # ValidationError, where "topic":
                                                          # "unknown consent topic 'spam'; allowed: …"
    vocabulary.parse(Level, "bof", "interest")            # the same, naming another field
    vocabulary.words(CampaignKind).allowed                # "newsletter, invitation, …"

A service exposes its table's ``parse`` under its own name (``consent.topic``,
``interactions.kind``, ``fields.target``), so callers keep one way in.

Showing a value (labels per language: ``labels/<language>.toml``)::

    vocabulary.label(TargetGroup.MEMBER_COMPANY, "fr")   # "Entreprise membre"
    vocabulary.choices(ConsentTopic, "fr-CA")             # [("newsletter", "Lettre d'information"), …]

A label comes from the language asked for, else its base language (fr-CA -> fr), else
English, else the value written out ("no_opinion" -> "No opinion"): never an error, so a
view can label any enumeration. Adding a language is adding ``labels/<tag>.toml``.

Other tables: ``COLUMNS`` (a CSV header -> the contact field it feeds), ``LANGUAGE_NAMES``
("français" -> "fr"), ``YES_NO`` (a yes/no cell), each a `Words` with ``read``.
"""

from __future__ import annotations

import enum
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from crm.vocabulary.spellings import COLUMNS, ENUMS, LANGUAGE_NAMES, YES_NO
from crm.vocabulary.table import Words, fold

__all__ = ["COLUMNS", "LANGUAGE_NAMES", "YES_NO", "Words", "choices", "fold", "label", "languages", "parse",
           "read", "section", "words"]

E = TypeVar("E", bound=enum.Enum)
_LABELS = Path(__file__).with_name("labels")
FALLBACK_LANGUAGE = "en"


def words(enum_cls: type[E]) -> Words[E]:
    """The word table of an enumeration (KeyError for one people never type)."""
    return ENUMS[enum_cls]


def read(enum_cls: type[E], text: str) -> E | None:
    """The member a person meant by ``text``, or None when no spelling matches."""
    return words(enum_cls).read(text)


def parse(enum_cls: type[E], text: str, where: str | None = None) -> E:
    """The member a person meant by ``text``; else a ValidationError naming ``where`` (by
    default the table's field) and the allowed values."""
    return words(enum_cls).parse(text, where)


def section(enum_cls: type[enum.Enum]) -> str:
    """The labels files' section for an enumeration: TargetGroup -> [target_group]."""
    name = enum_cls.__name__
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def languages() -> list[str]:
    """The languages with a labels file."""
    return sorted(p.stem for p in _LABELS.glob("*.toml"))


@cache
def _labels(language: str) -> dict[str, Any]:
    with (_LABELS / f"{language}.toml").open("rb") as fh:
        return tomllib.load(fh)


def _candidates(language: str) -> list[str]:
    """'fr-CA' -> ['fr-ca', 'fr', 'en'], keeping those with a labels file (never a path from
    the caller's text)."""
    tag = language.strip().lower().replace("_", "-")
    available = languages()
    return [lang for lang in dict.fromkeys((tag, tag.partition("-")[0], FALLBACK_LANGUAGE)) if lang in available]


def label(value: enum.Enum, language: str) -> str:
    """What a person reads for ``value`` in ``language`` (see the module's docstring for the
    fallbacks)."""
    for lang in _candidates(language):
        found = _labels(lang).get(section(type(value)), {}).get(str(value.value))
        if found:
            return str(found)
    return str(value.value).replace("_", " ").capitalize()


def choices(enum_cls: type[E], language: str) -> list[tuple[str, str]]:
    """(value, label) for every member, in the enumeration's order: a select box's options."""
    return [(str(m.value), label(m, language)) for m in enum_cls]
