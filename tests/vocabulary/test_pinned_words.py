"""Every word a person may write today for one of our values, pinned, with a few refusals.

Written before the nine word tables (vocabulary, consent, perception, the segments'
allow-list, fields, CSV headers, campaign, interaction and event kinds) became one
(issue 10, part 4), run green on the old code and kept green through the move: a spelling
that is dropped, or that comes to mean something else, fails here. The words are written
out in this file, not read from `crm.vocabulary`, so changing what people may write is a
change to this file too. Each table is read through the entry point its callers use (the
CLI, the CSV import, segment rules), so the test does not depend on where the table lives.

Spellings are shown folded (lower case, no accents, words separated by one space): each is
also checked upper-cased, with hyphens or underscores for spaces, and padded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crm import calendar_events, consent, fields, interactions, perception
from crm.campaigns import service as campaigns
from crm.csvfiles import headers
from crm.errors import ImportFileError, ValidationError
from crm.models import FieldType
from crm.segments import allowlist
from crm.segments.ast import SegmentError

# ---- what is accepted: value -> "spelling|spelling|…" ------------------------------------------

TARGET_GROUP = {
    "staff": "staff|equipe|equipe d animation|animation|animateur|salarie du cluster|cluster staff|team",
    "governance": "governance|gouvernance|president|bureau|conseil d administration|board|instance de gouvernance",
    "member_company": "member company|member|entreprise membre|membre|adherent|entreprise adherente|societe membre",
    "partner": "partner|partenaire",
    "commission": "commission|commission member|membre de commission|groupe de travail",
    "public_institution": "public institution|state|etat|institution publique|administration|ministere"
                          "|pouvoirs publics|pouvoir public|etat et institution publique",
    "local_authority": "local authority|collectivite territoriale|collectivite|collectivite locale|region|mairie"
                       "|commune|departement",
    "private_institution": "private institution|institution privee|fondation|foundation",
    "investor": "investor|investisseur|investisseur national|investisseur etranger|entreprise etrangere"
                "|foreign company|business angel|busines angel|fonds d investissement|fond d investissement",
    "project_holder": "project holder|porteur de projet|porteur|startup|start up|createur d entreprise",
    "research": "research|research centre|research center|university|school|universite|ecole|centre de recherche"
                "|laboratoire|laboratory|lab|recherche|enseignement superieur|academic|academique",
    "funding_programme": "funding programme|funding program|programme de financement|financeur|bailleur de fonds"
                         "|bailleur de fond|funder",
    "other_cluster": "other cluster|autre cluster|cluster|pole de competitivite|pole",
    "professional_association": "professional association|association professionnelle|syndicat|union|federation"
                                "|trade union|association|chambre de commerce|cci",
    "media": "media|press|pres|presse|journaliste|journalist|medias",
}
MEMBERSHIP = {
    "member": "member|membre|adherent|oui|yes",
    "prospect": "prospect|prospection|candidat",
    "partner": "partner|partenaire",
    "former": "former|ancien|ancien membre|former member|ex membre|radie|non",
}
ORGANISATION_KIND = {
    "company": "company|entreprise|societe|pme|tpe|eti|startup|grand groupe",
    "research_centre": "research centre|research center|centre de recherche|laboratoire|lab|institut de recherche",
    "university": "university|school|universite|ecole|grande ecole|iut|lycee",
    "public_institution": "public institution|institution publique|etat|state|agence publique|ministere",
    "local_authority": "local authority|collectivite|collectivite territoriale|region|departement|commune|mairie"
                       "|metropole",
    "private_institution": "private institution|institution privee|fondation|foundation",
    "investor": "investor|investisseur|fonds|fond|fund|business angels|busines angel",
    "funding_programme": "funding programme|funding program|programme de financement|financeur",
    "other_cluster": "other cluster|cluster|autre cluster|pole de competitivite",
    "professional_association": "professional association|association professionnelle|syndicat|union|federation"
                                "|association|cci",
    "media": "media|presse|press|pres|journal",
    "other": "other|autre",
}
ORGANISATION_SIZE = {"micro": "micro", "small": "small", "medium": "medium", "large": "large"}
CONSENT_TOPIC = {
    "newsletter": "newsletter|lettre d information",
    "events": "events|event|evenements",
    "press": "press|presse",
    "calls": "calls|calls for projects|appels a projets",
    "surveys": "surveys|survey|enquetes",
}
CONSENT_SOURCE = {"form": "form", "import": "import", "animator": "animator", "unsubscribe": "unsubscribe", "api": "api"}
LEVEL = {
    "high": "high|haute|haut|eleve|elevee|yes|oui|credible",
    "low": "low|basse|bas|faible|no|non",
    "unknown": "unknown|inconnu|inconnue|?",
}
ASSESSMENT_SOURCE = {"survey": "survey", "visit": "visit", "meeting": "meeting", "animator": "animator"}
PERCEPTION_SEGMENT = {  # segment rules: `perception = sceptiques`
    "opponent": "opponent|opponents|opposant|opposants",
    "indifferent": "indifferent|indifferents",
    "skeptic": "skeptic|skeptics|sceptic|sceptique|sceptiques",
    "acquired": "acquired|acquis",
    "no_opinion": "no opinion|sans opinion|none",
}
INTERACTION_KIND = {
    "visit": "visit|company visit|visite|visite entreprise",
    "monthly_meeting": "monthly meeting|reunion mensuelle",
    "annual_meeting": "annual meeting",
    "general_assembly": "general assembly|assemblee generale|ag",
    "commission": "commission",
    "steering_committee": "steering committee|comite de pilotage",
    "thematic_debate": "thematic debate|debat",
    "workshop": "workshop|atelier",
    "event_attendance": "event attendance",
    "call": "call|appel",
    "email": "email",
    "press_contact": "press contact",
}
EVENT_KIND = {
    "thematic_debate": "thematic debate", "monthly_meeting": "monthly meeting", "annual_meeting": "annual meeting",
    "general_assembly": "general assembly", "company_visit": "company visit", "regional_meeting": "regional meeting",
    "award_ceremony": "award ceremony", "workshop": "workshop", "team_building": "team building",
    "press_conference": "press conference",
}
CAMPAIGN_KIND = {
    "newsletter": "newsletter|lettre",
    "invitation": "invitation|event invitation",
    "press_release": "press release|press",
    "call_for_projects": "call for projects|call|calls",
    "survey": "survey",
}
LANGUAGE_NAME = {  # a "Langue" cell; tags themselves go to Babel
    "fr": "francais|french", "en": "anglais|english", "ar": "arabe|arabic", "es": "espagnol|spanish",
    "de": "allemand|german", "it": "italien|italian", "pt": "portugais|portuguese", "nl": "neerlandais|dutch",
    "zgh": "amazigh|tamazight", "ber": "berbere",
}
YES_NO = {True: "1|true|yes|y|oui|o|vrai|x", False: "0|false|no|n|non|faux"}  # a custom yes/no field
HEADER = {  # a CSV column's header -> the contact field it feeds
    "first_name": "first name|firstname|given name|prenom|prenoms|forename",
    "last_name": "last name|lastname|surname|family name|nom|nom de famille|nom usuel",
    "full_name": "full name|name|nom complet|contact|nom et prenom|prenom et nom|nom prenom|prenom nom",
    "email": "email|e mail|mail|courriel|adresse email|adresse e mail|adresse mail|adresse electronique"
             "|email address|e mail address|mel|adresse courriel",
    "phone": "phone|telephone|tel|mobile|portable|phone number|numero de telephone|gsm|tel portable",
    "language": "language|langue|lang|langue preferee|preferred language|locale",
    "position": "position|role|fonction|poste|titre|job title|title|job",
    "city": "city|ville|town|commune|localite",
    "target": "target|target group|category|categorie|cible|groupe cible|type de contact|contact type|type"
              "|segment cible",
    "membership": "membership|adhesion|statut|status|statut adhesion|membre",
    "member_since": "member since|membre depuis|date d adhesion|adhesion depuis|date adhesion",
    "member_until": "member until|membre jusqu au|fin d adhesion|date de fin d adhesion|date radiation",
    "organisation": "organisation|organization|societe|entreprise|company|structure|etablissement|organisme"
                    "|institution|raison sociale|employer|employeur",
    "tags": "tags|tag|etiquettes|etiquette|mots cles|keywords|labels",
    "notes": "notes|note|commentaire|commentaires|comments|comment|remarques|observations",
    "organisation_kind": "organisation kind|organization kind|type d organisation|type de structure"
                         "|type de l organisation",
    "organisation_sector": "organisation sector|organization sector|secteur de l organisation"
                           "|secteur de la structure",
    "organisation_region": "organisation region|organization region|region de l organisation"
                           "|region de la structure",
    "organisation_country": "organisation country|organization country|pays de l organisation"
                            "|pays de la structure",
    "organisation_website": "organisation website|organization website|site web de l organisation"
                            "|site de la structure",
    "organisation_size": "organisation size|organization size|taille de l organisation|taille de la structure",
}


def _segment(name: str) -> Callable[[str], object]:
    return allowlist.FIELDS[name].normalise


def _header(label: str) -> str | None:
    """The field a header feeds, read as the import reads a file's header line."""
    try:  # every file needs an email column
        columns = headers.map_header([label, "Courriel"], "f.csv", 1)
    except ImportFileError:  # the label names the email column itself
        columns = headers.map_header([label], "f.csv", 1)
    return next((name for name, index in columns.fields.items() if index == 0), None)


def _value(found: Any) -> Any:
    return getattr(found, "value", found)


# Each table: (name, the entry point, its words); the segment rules read target, membership and
# the organisation's kind and size through the same words as the CSV import and the CLI.
TABLES: list[tuple[str, Callable[[str], Any], dict[Any, str]]] = [
    ("target", fields.target, TARGET_GROUP),
    ("segment target", _segment("target"), TARGET_GROUP),
    ("membership", fields.membership, MEMBERSHIP),
    ("segment membership", _segment("membership"), MEMBERSHIP),
    ("organisation kind", fields.organisation_kind, ORGANISATION_KIND),
    ("segment organisation.kind", _segment("organisation.kind"), ORGANISATION_KIND),
    ("organisation size", fields.organisation_size, ORGANISATION_SIZE),
    ("segment organisation.size", _segment("organisation.size"), ORGANISATION_SIZE),
    ("consent topic", consent.topic, CONSENT_TOPIC),
    ("segment consent()", allowlist.FUNCTIONS["consent"].param("topic").normalise, CONSENT_TOPIC),
    ("consent source", consent.source, CONSENT_SOURCE),
    ("level", lambda raw: perception.level(raw, "credibility"), LEVEL),
    ("assessment source", perception.source, ASSESSMENT_SOURCE),
    ("segment perception", _segment("perception"), PERCEPTION_SEGMENT),
    ("interaction kind", interactions.kind, INTERACTION_KIND),
    ("segment interaction()", allowlist.FUNCTIONS["interaction"].param("kind").normalise, INTERACTION_KIND),
    ("event kind", calendar_events.kind, EVENT_KIND),
    ("campaign kind", campaigns.kind, CAMPAIGN_KIND),
    ("language name", fields.language, LANGUAGE_NAME),
    ("yes/no", lambda raw: fields.custom_value(raw, FieldType.BOOLEAN, "field"), YES_NO),
    ("header", _header, HEADER),
]


def _spellings(words: dict[Any, str]) -> list[tuple[str, Any]]:
    return [(word, value) for value, joined in words.items() for word in joined.split("|")]


def _variants(word: str) -> list[str]:
    """The same word as people type it: capitals, hyphens or underscores, spaces around."""
    return [word, word.upper(), word.title().replace(" ", "-"), word.replace(" ", "_"), f"  {word}  "]


@pytest.mark.parametrize(("name", "read", "words"), TABLES, ids=[t[0] for t in TABLES])
def test_every_spelling_accepted_today_gives_its_value(name: str, read: Callable[[str], Any],
                                                       words: dict[Any, str]) -> None:
    wrong = [(variant, value, _value(read(variant))) for word, value in _spellings(words)
             for variant in _variants(word) if _value(read(variant)) != value]
    assert not wrong, f"{name}: (typed, expected, got) {wrong}"


@pytest.mark.parametrize(
    ("read", "typed", "value"),
    [
        (fields.target, "Collectivité territoriale", "local_authority"),
        (fields.target, "Entreprises membres", "member_company"),  # plurals: these three tables only
        (fields.target, "Universités", "research"),
        (fields.target, "PRESSES", "media"),
        (fields.target, "Médias", "media"),
        (fields.membership, "Adhérents", "member"),
        (fields.membership, "Anciens membres", "former"),
        (fields.organisation_kind, "Écoles", "university"),
        (fields.organisation_kind, "Business angels", "investor"),
        (consent.topic, "Événements", "events"),
        (consent.topic, "Appels à projets", "calls"),
        (consent.topic, "Enquêtes", "surveys"),
        (consent.topic, "Lettre d'information", "newsletter"),
        (perception.source, "Animator", "animator"),
        (interactions.kind, "Réunion mensuelle", "monthly_meeting"),
        (interactions.kind, "Comité de pilotage", "steering_committee"),
        (interactions.kind, "Débat", "thematic_debate"),
        (lambda raw: perception.level(raw, "interest"), "Élevée", "high"),
        (lambda raw: perception.level(raw, "interest"), " ? ", "unknown"),
        (_segment("perception"), "no_opinion", "no_opinion"),
        (_segment("perception"), "Indifférents", "indifferent"),
        (fields.language, "Français", "fr"),
        (fields.language, "Néerlandais", "nl"),
        (fields.language, "Berbère", "ber"),
        (_header, "Prénom", "first_name"),
        (_header, "E-mail", "email"),
        (_header, "Téléphone", "phone"),
        (_header, "Catégorie", "target"),
        (_header, "Étiquettes", "tags"),
        (_header, "Mots-clés", "tags"),
        (_header, "Membre jusqu'au", "member_until"),
        (_header, "Type de l'organisation", "organisation_kind"),
    ],
)
def test_accents_apostrophes_and_plurals(read: Callable[[str], Any], typed: str, value: str) -> None:
    assert _value(read(typed)) == value


PLURAL_TABLES = [(fields.target, TARGET_GROUP), (fields.membership, MEMBERSHIP),
                 (fields.organisation_kind, ORGANISATION_KIND)]
# Whose plural the folding does not take back to a spelling above (it drops a final s or x
# from every word longer than three letters).
NO_PLURAL = {"pouvoirs publics", "busines angel", "business angels", "start up"}


@pytest.mark.parametrize(("read", "words"), PLURAL_TABLES, ids=["target", "membership", "organisation kind"])
def test_target_membership_and_kind_accept_plurals(read: Callable[[str], Any], words: dict[Any, str]) -> None:
    for word, value in _spellings(words):
        if word in NO_PLURAL:
            with pytest.raises(ValidationError):
                read(word + "s")
        else:
            assert _value(read(word + "s")) == value, word


TARGETS = ("staff, governance, member_company, partner, commission, public_institution, local_authority, "
           "private_institution, investor, project_holder, research, funding_programme, other_cluster, "
           "professional_association, media")
ORG_KINDS = ("company, research_centre, university, public_institution, local_authority, private_institution, "
             "investor, funding_programme, other_cluster, professional_association, media, other")
TOPICS = "newsletter, events, press, calls, surveys"
INTERACTION_KINDS = ("visit, monthly_meeting, annual_meeting, general_assembly, commission, steering_committee, "
                     "thematic_debate, workshop, event_attendance, call, email, press_contact")
EVENT_KINDS = ("thematic_debate, monthly_meeting, annual_meeting, general_assembly, company_visit, "
               "regional_meeting, award_ceremony, workshop, team_building, press_conference")
CAMPAIGN_KINDS = "newsletter, invitation, press_release, call_for_projects, survey"
SEGMENTS = "opponent, indifferent, skeptic, acquired, no_opinion"


@pytest.mark.parametrize(
    ("read", "typed", "where", "message"),
    [
        (fields.target, " martian ", "target", f"unknown target group 'martian'; allowed: {TARGETS}"),
        (fields.target, "start ups", "target", f"unknown target group 'start ups'; allowed: {TARGETS}"),
        (fields.membership, " gold ", "membership",
         "unknown membership 'gold'; allowed: member, prospect, partner, former"),
        (fields.organisation_kind, "spaceship", "kind", f"unknown organisation kind 'spaceship'; allowed: {ORG_KINDS}"),
        (fields.organisation_size, " huge ", "size", "unknown size 'huge'; allowed: micro, small, medium, large"),
        (fields.organisation_size, "PME", "size", "unknown size 'PME'; allowed: micro, small, medium, large"),
        (consent.topic, " spam ", "topic", f"unknown consent topic 'spam'; allowed: {TOPICS}"),
        (consent.topic, "newsletters", "topic", f"unknown consent topic 'newsletters'; allowed: {TOPICS}"),
        (consent.topic, "call", "topic", f"unknown consent topic 'call'; allowed: {TOPICS}"),
        (consent.topic, "call for projects", "topic", f"unknown consent topic 'call for projects'; allowed: {TOPICS}"),
        (consent.source, " spam ", "source",  # shown as typed, spaces and all
         "unknown consent source ' spam '; allowed: form, import, animator, unsubscribe, api"),
        (lambda raw: perception.level(raw, "interest"), " medium ", "interest",
         "unknown level ' medium '; allowed: high, low, unknown"),
        (lambda raw: perception.level(raw, "credibility"), "??", "credibility",
         "unknown level '??'; allowed: high, low, unknown"),
        (perception.source, "enquete", "source", "unknown source 'enquete'; allowed: survey, visit, meeting, animator"),
        (interactions.kind, " lunch ", "kind", f"unknown interaction kind ' lunch '; allowed: {INTERACTION_KINDS}"),
        (interactions.kind, "visits", "kind", f"unknown interaction kind 'visits'; allowed: {INTERACTION_KINDS}"),
        (calendar_events.kind, "visite", "kind", f"unknown event kind 'visite'; allowed: {EVENT_KINDS}"),
        (calendar_events.kind, "debat", "kind", f"unknown event kind 'debat'; allowed: {EVENT_KINDS}"),
        (campaigns.kind, " flyer ", "kind", f"unknown campaign kind ' flyer '; allowed: {CAMPAIGN_KINDS}"),
        (campaigns.kind, "presse", "kind", f"unknown campaign kind 'presse'; allowed: {CAMPAIGN_KINDS}"),
        (campaigns.kind, "calls for projects", "kind",
         f"unknown campaign kind 'calls for projects'; allowed: {CAMPAIGN_KINDS}"),
        (fields.language, " klingon ", "language",
         "unknown language 'klingon': give a BCP 47 tag such as fr, en, ar, pt-BR"),
        (fields.language, "ber", "language", "unknown language 'ber': give a BCP 47 tag such as fr, en, ar, pt-BR"),
        (lambda raw: fields.custom_value(raw, FieldType.BOOLEAN, "Adhérent ?"), "peut-être", "Adhérent ?",
         "'peut-être' is not yes/no"),
    ],
)
def test_refusals_name_the_word_the_field_and_the_allowed_values(
        read: Callable[[str], Any], typed: str, where: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        read(typed)
    assert (raised.value.where, raised.value.message) == (where, message)


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("perception", "fans", f"unknown perception segment 'fans'; allowed: {SEGMENTS}"),
        ("perception", "skeptik", f"unknown perception segment 'skeptik' (did you mean skeptic?); allowed: {SEGMENTS}"),
        ("perception", "sceptics",
         f"unknown perception segment 'sceptics' (did you mean skeptic?); allowed: {SEGMENTS}"),
        ("target", "martian", f"unknown target group 'martian'; allowed: {TARGETS}"),
        ("membership", "gold", "unknown membership 'gold'; allowed: member, prospect, partner, former"),
        ("organisation.kind", "spaceship", f"unknown organisation kind 'spaceship'; allowed: {ORG_KINDS}"),
        ("organisation.size", "huge", "unknown organisation size 'huge'; allowed: micro, small, medium, large"),
    ],
)
def test_segment_rules_refuse_with_a_hint_and_the_alternatives(field: str, typed: str, message: str) -> None:
    with pytest.raises(SegmentError) as raised:
        _segment(field)(typed)
    assert raised.value.message == message and raised.value.where is None
    assert ", ".join(raised.value.allowed) == message.rpartition("allowed: ")[2]


@pytest.mark.parametrize(
    ("normalise", "typed", "message", "allowed"),
    [
        (allowlist.FUNCTIONS["consent"].param("topic").normalise, "spam",
         f"unknown consent topic 'spam'; allowed: {TOPICS}", TOPICS),
        (allowlist.FUNCTIONS["interaction"].param("kind").normalise, "dinner",
         f"unknown interaction kind 'dinner'; allowed: {INTERACTION_KINDS}", INTERACTION_KINDS),
    ],
)
def test_segment_functions_refuse_as_the_services_do(normalise: Callable[[str], Any], typed: str, message: str,
                                                     allowed: str) -> None:
    with pytest.raises(SegmentError) as raised:
        normalise(typed)
    assert raised.value.message == message and ", ".join(raised.value.allowed) == allowed


@pytest.mark.parametrize("label", ["Effectif", "Courriels", "Noms", "organisation kinds", "Nom de l'entreprise",
                                   "Secteur", "Pays", "Taille"])
def test_other_headers_are_extra_columns(label: str) -> None:
    columns = headers.map_header([label, "Courriel"], "f.csv", 1)
    assert columns.extra == {0: label} and columns.fields == {"email": 1}
