"""What people write for our values, in French and English, and the value each spelling means.

Animators' files say "entreprise membre", "Université", "collectivité territoriale",
"Media" …; a table folds case, accents and punctuation (and, for the target group,
membership and organisation kind, plurals) before matching. Spellings are written folded
here: lower case, no accents, one space between words. The labels people read are in
``labels/<language>.toml``; the API is `crm.vocabulary`.
"""

from __future__ import annotations

import enum

from crm.models import (
    AssessmentSource,
    CampaignKind,
    ConsentSource,
    ConsentTopic,
    EventKind,
    InteractionKind,
    Level,
    Membership,
    OrganisationKind,
    OrganisationSize,
    PerceptionSegment,
    TargetGroup,
)
from crm.vocabulary.table import Words

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

TARGET_GROUP = Words.of(TargetGroup, "target group", "target", TARGET_SYNONYMS, plurals=True)
MEMBERSHIP = Words.of(Membership, "membership", "membership", MEMBERSHIP_SYNONYMS, plurals=True)
ORGANISATION_KIND = Words.of(OrganisationKind, "organisation kind", "kind", ORGANISATION_KIND_SYNONYMS, plurals=True)
ORGANISATION_SIZE = Words.of(OrganisationSize, "size", "size")

CONSENT_TOPIC = Words.of(ConsentTopic, "consent topic", "topic", {
    ConsentTopic.NEWSLETTER: ("lettre d information",),
    ConsentTopic.EVENTS: ("event", "evenements"),
    ConsentTopic.PRESS: ("presse",),
    ConsentTopic.CALLS: ("calls for projects", "appels a projets"),
    ConsentTopic.SURVEYS: ("survey", "enquetes"),
})
CONSENT_SOURCE = Words.of(ConsentSource, "consent source", "source", typed_in_refusal=True)

LEVEL = Words.of(Level, "level", "level", {
    Level.HIGH: ("haute", "haut", "eleve", "elevee", "yes", "oui", "credible"),
    Level.LOW: ("basse", "bas", "faible", "no", "non"),
    Level.UNKNOWN: ("inconnu", "inconnue", "?"),
}, typed_in_refusal=True)
ASSESSMENT_SOURCE = Words.of(AssessmentSource, "source", "source", typed_in_refusal=True)
PERCEPTION_SEGMENT = Words.of(PerceptionSegment, "perception segment", "perception", {
    PerceptionSegment.OPPONENT: ("opponents", "opposant", "opposants"),
    PerceptionSegment.INDIFFERENT: ("indifferents",),
    PerceptionSegment.SKEPTIC: ("skeptics", "sceptic", "sceptique", "sceptiques"),
    PerceptionSegment.ACQUIRED: ("acquis",),
    PerceptionSegment.NO_OPINION: ("sans opinion", "none"),
})

INTERACTION_KIND = Words.of(InteractionKind, "interaction kind", "kind", {
    InteractionKind.VISIT: ("company visit", "visite", "visite entreprise"),
    InteractionKind.MONTHLY_MEETING: ("reunion mensuelle",),
    InteractionKind.GENERAL_ASSEMBLY: ("assemblee generale", "ag"),
    InteractionKind.THEMATIC_DEBATE: ("debat",),
    InteractionKind.CALL: ("appel",),
    InteractionKind.WORKSHOP: ("atelier",),
    InteractionKind.STEERING_COMMITTEE: ("comite de pilotage",),
}, typed_in_refusal=True)
EVENT_KIND = Words.of(EventKind, "event kind", "kind", typed_in_refusal=True)
CAMPAIGN_KIND = Words.of(CampaignKind, "campaign kind", "kind", {
    CampaignKind.NEWSLETTER: ("lettre",),
    CampaignKind.INVITATION: ("event invitation",),
    CampaignKind.PRESS_RELEASE: ("press",),
    CampaignKind.CALL_FOR_PROJECTS: ("call", "calls"),
}, typed_in_refusal=True)

# What French and English files write in a "Langue" column; a tag itself (fr, pt-BR) is
# read by Babel, which knows more of them.
LANGUAGE_NAMES = Words("language", "language", {
    "fr": ("francais", "french"), "en": ("anglais", "english"), "ar": ("arabe", "arabic"),
    "es": ("espagnol", "spanish"), "de": ("allemand", "german"), "it": ("italien", "italian"),
    "pt": ("portugais", "portuguese"), "nl": ("neerlandais", "dutch"), "zgh": ("amazigh", "tamazight"),
    "ber": ("berbere",),
}, accept_values=False)
# A yes/no custom field's cell.
YES_NO = Words("yes/no", "field", {
    True: ("1", "true", "yes", "y", "oui", "o", "vrai", "x"),
    False: ("0", "false", "no", "n", "non", "faux"),
}, accept_values=False)

# A CSV column's header -> the contact field it feeds (crm.csvfiles.headers); the field's own
# name ('organisation kind') is a spelling too.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
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
COLUMNS = Words("column", "header", COLUMN_SYNONYMS)

ENUMS: dict[type[enum.Enum], Words] = {  # type: ignore[type-arg]
    table.kind: table
    for table in (TARGET_GROUP, MEMBERSHIP, ORGANISATION_KIND, ORGANISATION_SIZE, CONSENT_TOPIC, CONSENT_SOURCE,
                  LEVEL, ASSESSMENT_SOURCE, PERCEPTION_SEGMENT, INTERACTION_KIND, EVENT_KIND, CAMPAIGN_KIND)
    if table.kind is not None
}
