"""Column headers in French or English -> the contact field each column feeds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crm.csvfiles.safety import restore
from crm.errors import ImportFileError
from crm.models import FieldType
from crm.vocabulary import fold

# Field -> what people write in the header (folded: lower case, no accents, no punctuation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name", "prenom", "prenoms", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name", "nom", "nom de famille", "nom usuel"),
    "full_name": ("name", "full name", "nom complet", "contact", "nom et prenom", "prenom et nom", "nom prenom", "prenom nom"),
    "email": ("email", "e mail", "mail", "courriel", "adresse email", "adresse e mail", "adresse mail",
              "adresse electronique", "email address", "e mail address", "mel", "adresse courriel"),
    "phone": ("phone", "telephone", "tel", "mobile", "portable", "phone number", "numero de telephone", "gsm", "tel portable"),
    "language": ("language", "langue", "lang", "langue preferee", "preferred language", "locale"),
    "position": ("position", "role", "fonction", "poste", "titre", "job title", "title", "job"),
    "city": ("city", "ville", "town", "commune", "localite"),
    "target": ("target", "target group", "category", "categorie", "cible", "groupe cible", "type de contact", "contact type", "type", "segment cible"),
    "membership": ("membership", "adhesion", "statut", "status", "statut adhesion", "membre"),
    "member_since": ("member since", "membre depuis", "date d adhesion", "adhesion depuis", "date adhesion"),
    "member_until": ("member until", "membre jusqu au", "fin d adhesion", "date de fin d adhesion", "date radiation"),
    "organisation": ("organisation", "organization", "societe", "entreprise", "company", "structure",
                     "etablissement", "organisme", "institution", "raison sociale", "employer", "employeur"),
    "tags": ("tags", "tag", "etiquettes", "etiquette", "mots cles", "keywords", "labels"),
    "notes": ("notes", "note", "commentaire", "commentaires", "comments", "comment", "remarques", "observations"),
    # The contact's organisation's own fields (the export writes them; blank keeps what is known).
    "organisation_kind": ("organization kind", "type d organisation", "type de structure", "type de l organisation"),
    "organisation_sector": ("organization sector", "secteur de l organisation", "secteur de la structure"),
    "organisation_region": ("organization region", "region de l organisation", "region de la structure"),
    "organisation_country": ("organization country", "pays de l organisation", "pays de la structure"),
    "organisation_website": ("organization website", "site web de l organisation", "site de la structure"),
    "organisation_size": ("organization size", "taille de l organisation", "taille de la structure"),
}
ORGANISATION_FIELDS = ("kind", "sector", "region", "country", "website", "size")

_INDEX: dict[str, str] = {}
for _field, _words in SYNONYMS.items():
    for _word in (_field.replace("_", " "), *_words):
        _INDEX.setdefault(fold(_word), _field)


def field_for(label: str) -> str | None:
    """The contact field a header names, or None for an extra column."""
    return _INDEX.get(fold(label))


@dataclass
class ColumnMap:
    """Which cell index feeds which field, and which columns are extra."""

    fields: dict[str, int] = field(default_factory=dict)
    extra: dict[int, str] = field(default_factory=dict)  # index -> header as written
    unnamed: list[int] = field(default_factory=list)  # indexes of columns with a blank header


# A custom field's type, as the export writes it after the label: "Effectif [number]".
_TYPED = re.compile(r"^(.*\S)\s+\[(text|number|date|boolean)\]$")


def custom_label(header: str) -> tuple[str, FieldType | None]:
    """'Effectif [number]' -> ('Effectif', NUMBER); a header without a type -> (header, None)."""
    found = _TYPED.match(header)
    return (found.group(1), FieldType(found.group(2))) if found else (header, None)


def typed_label(label: str, kind: FieldType) -> str:
    """The export's header for a custom field (read back by `custom_label`)."""
    return f"{label} [{kind.value}]"


def map_header(header: list[str], name: str, header_line: int) -> ColumnMap:
    result = ColumnMap()
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        label = restore(raw.strip().lstrip("\ufeff").strip())
        if not label:
            result.unnamed.append(index)
            continue
        target = field_for(label)
        if target is None:
            result.extra[index] = label
            continue
        if target in result.fields:
            raise ImportFileError(
                f"{name}:{header_line}: columns {seen[target]!r} and {label!r} both give the {target.replace('_', ' ')}"
            )
        result.fields[target] = index
        seen[target] = label
    if "email" not in result.fields:
        raise ImportFileError(
            f"{name}:{header_line}: no email column (looked for Email, E-mail, Courriel, Mail …) in {header!r}"
        )
    return result
