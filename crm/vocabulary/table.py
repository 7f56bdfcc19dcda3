"""One word table: what people write for each value of a kind, and the refusal naming the rest.

Every way a person's word becomes a value (a CSV cell, a CLI option, a segment rule, later a
form) goes through a `Words`, so that a spelling means the same wherever it is typed and a
word it does not know is refused the same way.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from crm.errors import ValidationError

V = TypeVar("V")
E = TypeVar("E", bound=enum.Enum)


def fold(text: str) -> str:
    """'Entreprise  Membre(s)' -> 'entreprise membre s' -> comparable key."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


def key(text: str) -> str:
    """What a spelling is looked up by: folded, or as typed when it is punctuation alone ('?')."""
    return fold(text) or text.strip()


def singular(folded: str) -> str:
    """'entreprises membres' -> 'entreprise membre': a final s or x off every word over three letters."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w for w in folded.split())


class Words(Generic[V]):
    """What people write for each value of one kind, folded (case, accents, punctuation).

    ``spellings`` maps every value, in the order refusals list them, to its other spellings;
    the value's own name is a spelling too (``member_company`` reads 'Member company') unless
    ``accept_values`` is false. ``plurals``: a word also matches with the final s or x of its
    long words dropped ('Universités'). ``typed_in_refusal``: a refusal quotes the word as
    typed, spaces around it included, rather than stripped, as the consent source, level,
    assessment source and kinds tables always have (kept so that no message changed when the
    tables became one). A spelling that would mean two values is a mistake in the table: it
    is refused when the table is built, so a word never silently means the first one listed.
    """

    def __init__(self, what: str, where: str, spellings: Mapping[V, Iterable[str]], *,
                 accept_values: bool = True, plurals: bool = False, typed_in_refusal: bool = False) -> None:
        self.what = what
        self.where = where
        self.values: tuple[V, ...] = tuple(spellings)
        self.plurals = plurals
        self.typed_in_refusal = typed_in_refusal
        self.kind: type[enum.Enum] | None = None  # the enumeration, for tables made by `of`
        self._index: dict[str, V] = {}
        for value, words in spellings.items():
            for word in (str(value), *words) if accept_values else words:
                folded = key(word)
                for spelling in (folded, singular(folded)) if plurals else (folded,):
                    if self._index.setdefault(spelling, value) != value:
                        raise ValueError(f"{what}: {word!r} would mean both {self._index[spelling]} and {value}")

    @classmethod
    def of(cls, enum_cls: type[E], what: str, where: str, synonyms: Mapping[E, Iterable[str]] | None = None,
           **options: bool) -> Words[E]:
        """The table of an enumeration: its values, in their order, and their other spellings."""
        table: Words[E] = cls(what, where, {m: (synonyms or {}).get(m, ()) for m in enum_cls}, **options)  # type: ignore[arg-type]
        table.kind = enum_cls
        return table

    @property
    def allowed(self) -> str:
        """The values a refusal lists: 'newsletter, events, press, calls, surveys'."""
        return ", ".join(str(v) for v in self.values)

    def read(self, raw: str) -> V | None:
        """The value a person meant by ``raw``, or None when no spelling matches."""
        folded = key(raw)
        found = self._index.get(folded)
        if found is None and self.plurals:
            found = self._index.get(singular(folded))
        return found

    def parse(self, raw: str, where: str | None = None) -> V:
        """The value meant by ``raw``; else ValidationError naming ``where`` (default: the
        table's field) and listing the values: "unknown consent topic 'spam'; allowed: …"."""
        found = self.read(raw)
        if found is None:
            shown = raw if self.typed_in_refusal else raw.strip()
            raise ValidationError(f"unknown {self.what} {shown!r}; allowed: {self.allowed}", where or self.where)
        return found
