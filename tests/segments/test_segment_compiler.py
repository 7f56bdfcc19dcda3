"""The segment compiler, one construct at a time: the exact contacts a rule selects on a small
town of six contacts, on SQLite and PostgreSQL.

Each contact is there for an edge: ``nul`` has every field empty (no language, target,
membership, city, e-mail, organisation, tag, consent, assessment or interaction); the others
sit on the edges of what a rule tells apart: regional languages (fr-CA) against another
language that starts alike (frr), cities that differ by case only (Évry, ÉVRY, évry) or by an
accent (Evry), e-mail domains that end alike (subacme.example, acme.example.org), an
organisation without country or size, and interactions and creation dates exactly at `now`,
one second after it, exactly ``within`` before it, one second earlier, and at the first
second of a ``since`` day and the last second of the day before.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import tags
from crm.db import utcnow
from crm.models import (
    AssessmentSource,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    ConsentTopic,
    Contact,
    Event,
    EventKind,
    Interaction,
    InteractionKind,
    Level,
    Organisation,
    PerceptionAssessment,
)
from crm.segments import Call, Compare, compile_rule, parse
from crm.segments.allowlist import FIELDS
from crm.segments.ast import And, Not, Or, Rule

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
JUNE_1 = datetime(2026, 6, 1, tzinfo=timezone.utc)
EVERYONE = "fr frca frr ptbr pt nul"


class Town:
    """Six contacts; ``select`` gives the keys of those a rule picks, at NOW unless told."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[str, int] = {}
        acme = Organisation(name="Acme", kind="company", country="FR", size="small")
        bare = Organisation(name="Bare", kind="other")  # no country, no size
        uni = Organisation(name="Université", kind="university", country="MA", size="large")
        self.event = Event(kind=EventKind.WORKSHOP, title="Atelier", starts_at=JUNE_1, ends_at=JUNE_1,
                           timezone="Europe/Paris")
        session.add_all([acme, bare, uni, self.event])
        session.flush()
        self.add("fr", NOW, org=acme, labels=("agrifood",), language="fr", email="fr@acme.example", city="Évry",
                 target="member_company", membership="member")
        self.add("frca", NOW + SECOND, org=bare, labels=("agrifood", "export"), language="fr-CA",
                 email="frca@ACME.Example", city="ÉVRY", target="partner", membership="prospect")
        self.add("frr", NOW - timedelta(days=30), language="frr", email="frr@subacme.example", city="Evry",
                 target="investor", membership="former")
        self.add("ptbr", NOW - timedelta(days=30) - SECOND, labels=("export",), language="pt-BR",
                 email="ptbr@acme.example.org", city="évry", target="staff")
        self.add("pt", JUNE_1, org=uni, language="pt", email="pt@uni.example", city="angers", target="research",
                 membership="partner")
        self.add("nul", NOW - timedelta(days=1000))

        self.consent("fr", ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, NOW - timedelta(days=10))
        self.consent("frca", ConsentTopic.EVENTS, ConsentAction.OPT_IN, NOW - timedelta(days=10))
        self.consent("ptbr", ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, NOW - timedelta(days=20))
        self.consent("ptbr", ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, NOW - timedelta(days=5))
        self.assess("fr", Level.LOW, Level.HIGH)  # skeptic
        self.assess("pt", Level.HIGH, Level.HIGH)  # acquired

        self.interact("fr", InteractionKind.VISIT, NOW)  # at now: counts
        self.interact("frca", InteractionKind.VISIT, NOW + SECOND)  # planned: not yet
        self.interact("frca", InteractionKind.WORKSHOP, JUNE_1 - SECOND)  # the last second of May 31
        self.interact("frr", InteractionKind.CALL, NOW - timedelta(days=30))  # exactly 30 days ago
        self.interact("ptbr", InteractionKind.CALL, NOW - timedelta(days=30) - SECOND)  # one second more
        self.interact("pt", InteractionKind.WORKSHOP, JUNE_1, event=self.event)  # the first second of June 1
        session.flush()

    def add(self, key: str, created: datetime, *, org: Organisation | None = None, labels: tuple[str, ...] = (),
            **values: str) -> None:
        contact = Contact(first_name=key, organisation_id=org.id if org else None, created_at=created, **values)
        self.session.add(contact)
        self.session.flush()
        self.ids[key] = contact.id
        tags.link(self.session, [(contact.id, t) for t in tags.ids(self.session, labels).values()])

    def consent(self, key: str, topic: ConsentTopic, action: ConsentAction, at: datetime) -> None:
        self.session.add(ConsentEvent(contact_id=self.ids[key], topic=topic, action=action, at=at,
                                      source=ConsentSource.ANIMATOR))
        self.session.flush()

    def assess(self, key: str, credibility: Level, interest: Level) -> None:
        self.session.add(PerceptionAssessment(contact_id=self.ids[key], credibility=credibility, interest=interest,
                                              assessed_at=NOW - timedelta(days=10), source=AssessmentSource.ANIMATOR))
        self.session.flush()

    def interact(self, key: str, kind: InteractionKind, at: datetime, event: Event | None = None) -> None:
        contact = self.session.get(Contact, self.ids[key])
        self.session.add(Interaction(kind=kind, occurred_at=at, contacts=[contact],
                                     event_id=event.id if event else None))
        self.session.flush()

    def select(self, rule: Rule | str, now: datetime | None = NOW) -> str:
        tree = parse(rule) if isinstance(rule, str) else rule
        query = select(Contact.id).where(compile_rule(tree, now=now), Contact.id.in_(self.ids.values()))
        found = set(self.session.scalars(query))
        return " ".join(key for key, contact_id in self.ids.items() if contact_id in found)


@pytest.fixture
def town(session: Session) -> Town:
    return Town(session)


def _check(town: Town, rule: str, expected: str) -> None:
    assert town.select(rule) == expected, rule


# ---- fields: =, !=, in, not in; an empty field is never equal and always "not equal" ------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("language = fr", "fr frca"),  # fr-CA is French, frr is another language
        ("language = pt", "ptbr pt"),
        ("language = pt-BR", "ptbr"),  # a regional value means only itself
        ("language = frr", "frr"),
        ("language in (fr, frr)", "fr frca frr"),  # prefixes of two lengths in one list
        ("language in (pt-BR, fr)", "fr frca ptbr"),
        ("language in (pt, fr)", "fr frca ptbr pt"),
        ("language != fr", "frr ptbr pt nul"),
        ("language not in (fr, pt)", "frr nul"),
        ("target = partner", "frca"),
        ("target != partner", "fr frr ptbr pt nul"),
        ("target in (staff, research)", "ptbr pt"),
        ("target not in (staff, research)", "fr frca frr nul"),
        ("membership = member", "fr"),
        ("membership != member", "frca frr ptbr pt nul"),
        ("membership in (prospect, partner)", "frca pt"),
        ("tag = agrifood", "fr frca"),
        ("tag in (export, nothing)", "frca ptbr"),
        ("tag != agrifood", "frr ptbr pt nul"),
        ("tag not in (agrifood, export)", "frr pt nul"),
        ("country = FR", "fr"),
        ("country != FR", "frca frr ptbr pt nul"),  # frca's organisation has no country
        ("country in (FR, MA)", "fr pt"),
        ("organisation.kind = university", "pt"),
        ("organisation.kind in (company, other)", "fr frca"),
        ("organisation.kind != company", "frca frr ptbr pt nul"),
        ("organisation.size = small", "fr"),
        ("organisation.size in (small, large)", "fr pt"),
        ("organisation.size != small", "frca frr ptbr pt nul"),  # frca's organisation has no size
        ("perception = skeptic", "fr"),
        ("perception = acquired", "pt"),
        ("perception = no_opinion", "frca frr ptbr nul"),  # never assessed
        ("perception != no_opinion", "fr pt"),
    ],
)
def test_field_comparisons(town: Town, rule: str, expected: str) -> None:
    _check(town, rule, expected)


def test_a_language_with_a_region_or_script_means_only_itself(session: Session) -> None:
    """``fr`` takes in fr-CA; ``zh-Hant`` is already a variant and does not take in zh-Hant-TW."""
    people = {code: Contact(first_name=code, language=code) for code in ("zh", "zh-Hant", "zh-Hant-TW", "zh-Hans")}
    session.add_all(people.values())
    session.flush()

    def select_codes(rule: str) -> list[str]:
        query = select(Contact.language).where(compile_rule(parse(rule), now=NOW),
                                               Contact.id.in_([p.id for p in people.values()]))
        return sorted(session.scalars(query))

    assert select_codes("language = zh-Hant") == ["zh-Hant"]
    assert select_codes("language in (zh-Hant, zh-Hans)") == ["zh-Hans", "zh-Hant"]
    assert select_codes("language = zh") == ["zh", "zh-Hans", "zh-Hant", "zh-Hant-TW"]
    assert select_codes("language != zh-Hant") == ["zh", "zh-Hans", "zh-Hant-TW"]


# ---- city: any case, Unicode included; an accent is a different letter -----------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("city = évry", "fr frca ptbr"),  # Évry, ÉVRY, évry; not Evry
        ("city = ÉVRY", "fr frca ptbr"),
        ("city = EVRY", "frr"),
        ("city = Evry", "frr"),
        ("city in (évry, ANGERS)", "fr frca ptbr pt"),
        ("city != Évry", "frr pt nul"),
        ("city not in (évry, evry)", "pt nul"),
    ],
)
def test_city_ignores_case_in_every_alphabet(town: Town, rule: str, expected: str) -> None:
    _check(town, rule, expected)


# ---- e-mail domain: the whole domain after the @, any case -------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("email_domain = acme.example", "fr frca"),  # not subacme.example nor acme.example.org
        ("email_domain = acme.example.org", "ptbr"),
        ("email_domain = example.org", ""),  # a domain is matched whole, not its last labels
        ("email_domain = uni.example", "pt"),
        ("email_domain in (acme.example, uni.example)", "fr frca pt"),  # two lengths in one list
        ("email_domain in (uni.example, acme.example.org)", "ptbr pt"),
        ("email_domain != acme.example", "frr ptbr pt nul"),
        ("email_domain not in (acme.example, uni.example)", "frr ptbr nul"),
    ],
)
def test_email_domain(town: Town, rule: str, expected: str) -> None:
    _check(town, rule, expected)


# ---- functions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("all", EVERYONE),
        ("not all", ""),
        ("member", "fr"),
        ("not member", "frca frr ptbr pt nul"),
        ("internal", "fr frca ptbr"),
        ("external", "frr pt"),
        ("not internal", "frr pt nul"),  # no target: neither internal nor external
        ("not external", "fr frca ptbr nul"),
        ("consent(newsletter)", "fr"),  # ptbr withdrew
        ("consent(events)", "frca"),
        ("not consent(newsletter)", "frca frr ptbr pt nul"),
    ],
)
def test_functions(town: Town, rule: str, expected: str) -> None:
    _check(town, rule, expected)


# ---- dates: up to now, within a duration before now, since the start of a UTC day ---------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("interaction()", "fr frca frr ptbr pt"),
        ("not interaction()", "nul"),
        ("interaction(kind=visit)", "fr"),  # at now counts, one second after does not
        ("interaction(within=1d)", "fr"),
        ("interaction(within=30d)", "fr frca frr pt"),  # exactly 30 days before now counts; a second more not
        ("interaction(kind=call)", "frr ptbr"),
        ("interaction(kind=call, within=30d)", "frr"),
        ("interaction(kind=call, within=1m)", "frr"),
        ("interaction(since=2026-06-01)", "fr pt"),  # from 00:00 UTC that day
        ("interaction(since=2026-05-31)", "fr frca pt"),
        ("interaction(kind=workshop, since=2026-06-01)", "pt"),
        ("interaction(within=30d, since=2026-06-01)", "fr pt"),
        ("interaction(kind=visit, within=30d, since=2026-06-01)", "fr"),
        ("interaction(event=%(event)s)", "pt"),
        ("interaction(kind=workshop, event=%(event)s)", "pt"),
        ("interaction(kind=visit, event=%(event)s)", ""),
        ("created(within=30d)", "fr frr pt"),  # created at now counts, created a second later not
        ("created(within=1w)", "fr"),
        ("created(within=3y)", "fr frr ptbr pt nul"),
        ("created(since=2026-06-01)", "fr pt"),
        ("created(since=2026-06-02)", "fr"),
        ("created(within=30d, since=2026-06-01)", "fr pt"),
        ("not created(within=30d)", "frca ptbr nul"),
    ],
)
def test_dates_relative_to_now(town: Town, rule: str, expected: str) -> None:
    _check(town, rule % {"event": town.event.id} if "%(" in rule else rule, expected)


def test_now_moves_the_windows(town: Town) -> None:
    assert town.select("interaction(kind=visit)", now=NOW + SECOND) == "fr frca"
    assert town.select("interaction(kind=call, within=30d)", now=NOW - SECOND) == "frr ptbr"
    assert town.select("created(within=30d)", now=NOW + SECOND) == "fr frca pt"
    assert town.select("interaction(since=2026-06-01)", now=JUNE_1) == "pt"


def test_now_defaults_to_the_current_time(session: Session) -> None:
    recent = Contact(first_name="recent", created_at=utcnow() - timedelta(hours=1))
    old = Contact(first_name="old", created_at=utcnow() - timedelta(days=2))
    future = Contact(first_name="future", created_at=utcnow() + timedelta(hours=1))
    session.add_all([recent, old, future])
    session.flush()
    query = select(Contact.first_name).where(compile_rule(parse("created(within=1d)")),
                                             Contact.id.in_([recent.id, old.id, future.id]))
    assert session.scalars(query).all() == ["recent"]


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="^now must be timezone-aware$"):
        compile_rule(parse("all"), now=datetime(2026, 6, 15, 12, 0))


# ---- not, and, or: precedence and negation of compound rules ----------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("language = pt or language = fr and target = partner", "frca ptbr pt"),  # and binds tighter
        ("(language = pt or language = fr) and target = partner", "frca"),
        ("not language = fr and internal", "ptbr"),  # not binds tighter than and
        ("not (language = fr and internal)", "frr ptbr pt nul"),
        ("not not language = fr", "fr frca"),
        ("language = fr and not tag = export", "fr"),
        ("tag = export or city = EVRY or country = MA", "frca frr ptbr pt"),
        ("not (tag = export or member)", "frr pt nul"),
        ("language != fr and language != pt", "frr nul"),
        ("not language in (fr, pt) or city = EVRY", "frr nul"),
        ("not (language != fr)", "fr frca"),  # double negation of an empty field: still out
        ("member or interaction(kind=call)", "fr frr ptbr"),  # dates inside or, and, not: the same now
        ("not member and interaction()", "frca frr ptbr pt"),
        ("not (created(since=2026-06-01) or interaction(kind=call))", "frca nul"),
    ],
)
def test_not_and_or(town: Town, rule: str, expected: str) -> None:
    _check(town, rule, expected)


def test_hand_built_trees_mean_what_the_parsed_ones_mean(town: Town) -> None:
    fr, partner = Compare("language", "=", ("fr",)), Compare("target", "=", ("partner",))
    assert town.select(And((fr, Not(partner)))) == "fr"
    assert town.select(Or((Not(fr), partner))) == "frca frr ptbr pt nul"
    assert town.select(Compare("language", "!=", ("fr",))) == town.select(Not(fr)) == "frr ptbr pt nul"


# ---- empty lists (only hand-built trees can hold one): nobody, and its negation everybody ---------


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_an_empty_list_matches_nobody(town: Town, field: str) -> None:
    assert town.select(Compare(field, "in", ())) == ""
    assert town.select(Compare(field, "not in", ())) == EVERYONE


# ---- what is not a rule ------------------------------------------------------------------------


def test_a_function_without_sql_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="^no SQL for function 'shout'$"):
        compile_rule(Call("shout"), now=NOW)


def test_something_else_than_a_rule_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^not a rule: 'language = fr'$"):
        compile_rule("language = fr", now=NOW)  # type: ignore[arg-type]
