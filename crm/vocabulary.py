"""What people write for our enumerations, in French and English, mapped to their values.

Animators' files say "entreprise membre", "Université", "collectivité territoriale",
"Media" …; `lookup` folds case, accents, punctuation and plurals before matching.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import TypeVar

from crm.models import Membership, OrganisationKind, TargetGroup

E = TypeVar("E", bound=enum.Enum)


def fold(text: str) -> str:
    """'Entreprise  Membre(s)' -> 'entreprise membre s' -> comparable key."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


def _singular(key: str) -> str:
    return " ".join(w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w for w in key.split())


TARGET_SYNONYMS: dict[TargetGroup, tuple[str, ...]] = {
    TargetGroup.STAFF: ("staff", "equipe", "equipe d animation", "animation", "animateur", "salarie du cluster", "cluster staff", "team"),
    TargetGroup.GOVERNANCE: ("governance", "gouvernance", "president", "bureau", "conseil d administration", "board", "instance de gouvernance"),
    TargetGroup.MEMBER_COMPANY: ("member company", "member", "entreprise membre", "membre", "adherent", "entreprise adherente", "societe membre"),
    TargetGroup.PARTNER: ("partner", "partenaire"),
    TargetGroup.COMMISSION: ("commission", "commission member", "membre de commission", "groupe de travail"),
    TargetGroup.PUBLIC_INSTITUTION: ("public institution", "state", "etat", "institution publique", "administration", "ministere", "pouvoirs publics", "etat et institution publique"),
    TargetGroup.LOCAL_AUTHORITY: ("local authority", "collectivite territoriale", "collectivite", "collectivite locale", "region", "mairie", "commune", "departement"),
    TargetGroup.PRIVATE_INSTITUTION: ("private institution", "institution privee", "fondation", "foundation"),
    TargetGroup.INVESTOR: ("investor", "investisseur", "investisseur national", "investisseur etranger", "entreprise etrangere", "foreign company", "business angel", "fonds d investissement"),
    TargetGroup.PROJECT_HOLDER: ("project holder", "porteur de projet", "porteur", "startup", "start up", "createur d entreprise"),
    TargetGroup.RESEARCH: ("research", "research centre", "research center", "university", "school", "universite", "ecole", "centre de recherche", "laboratoire", "laboratory", "lab", "recherche", "enseignement superieur", "academic", "academique"),
    TargetGroup.FUNDING_PROGRAMME: ("funding programme", "funding program", "programme de financement", "financeur", "bailleur de fonds", "funder"),
    TargetGroup.OTHER_CLUSTER: ("other cluster", "autre cluster", "cluster", "pole de competitivite", "pole"),
    TargetGroup.PROFESSIONAL_ASSOCIATION: ("professional association", "association professionnelle", "syndicat", "union", "federation", "trade union", "association", "chambre de commerce", "cci"),
    TargetGroup.MEDIA: ("media", "press", "presse", "journaliste", "journalist", "medias"),
}

MEMBERSHIP_SYNONYMS: dict[Membership, tuple[str, ...]] = {
    Membership.MEMBER: ("member", "membre", "adherent", "adhérent", "oui", "yes"),
    Membership.PROSPECT: ("prospect", "prospection", "candidat"),
    Membership.PARTNER: ("partner", "partenaire"),
    Membership.FORMER: ("former", "ancien", "ancien membre", "former member", "ex membre", "radie", "non"),
}

ORGANISATION_KIND_SYNONYMS: dict[OrganisationKind, tuple[str, ...]] = {
    OrganisationKind.COMPANY: ("company", "entreprise", "societe", "pme", "tpe", "eti", "startup", "grand groupe"),
    OrganisationKind.RESEARCH_CENTRE: ("research centre", "research center", "centre de recherche", "laboratoire", "lab", "institut de recherche"),
    OrganisationKind.UNIVERSITY: ("university", "school", "universite", "ecole", "grande ecole", "iut", "lycee"),
    OrganisationKind.PUBLIC_INSTITUTION: ("public institution", "institution publique", "etat", "state", "agence publique", "ministere"),
    OrganisationKind.LOCAL_AUTHORITY: ("local authority", "collectivite", "collectivite territoriale", "region", "departement", "commune", "mairie", "metropole"),
    OrganisationKind.PRIVATE_INSTITUTION: ("private institution", "institution privee", "fondation", "foundation"),
    OrganisationKind.INVESTOR: ("investor", "investisseur", "fonds", "fund", "business angels"),
    OrganisationKind.FUNDING_PROGRAMME: ("funding programme", "funding program", "programme de financement", "financeur"),
    OrganisationKind.OTHER_CLUSTER: ("other cluster", "cluster", "autre cluster", "pole de competitivite"),
    OrganisationKind.PROFESSIONAL_ASSOCIATION: ("professional association", "association professionnelle", "syndicat", "union", "federation", "association", "cci"),
    OrganisationKind.MEDIA: ("media", "presse", "press", "journal"),
    OrganisationKind.OTHER: ("other", "autre"),
}


def _index(enum_cls: type[E], synonyms: dict[E, tuple[str, ...]]) -> dict[str, E]:
    index: dict[str, E] = {}
    for member in enum_cls:
        for word in (member.value, *synonyms.get(member, ())):
            for key in (fold(word), _singular(fold(word))):
                index.setdefault(key, member)
    return index


_INDEXES: dict[type[enum.Enum], dict[str, enum.Enum]] = {
    TargetGroup: _index(TargetGroup, TARGET_SYNONYMS),
    Membership: _index(Membership, MEMBERSHIP_SYNONYMS),
    OrganisationKind: _index(OrganisationKind, ORGANISATION_KIND_SYNONYMS),
}


def lookup(enum_cls: type[E], text: str) -> E | None:
    """The member a person meant by ``text``, or None when nothing matches."""
    key = fold(text)
    index = _INDEXES.get(enum_cls)
    if index is None:
        index = _INDEXES.setdefault(enum_cls, _index(enum_cls, {}))
    return index.get(key) or index.get(_singular(key))  # type: ignore[return-value]


def choices(enum_cls: type[enum.Enum]) -> str:
    return ", ".join(str(m.value) for m in enum_cls)
