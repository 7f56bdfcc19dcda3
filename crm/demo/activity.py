"""The demo cluster's year: its calendar, the interactions around it, perception history."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from random import Random
from typing import NamedTuple

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm import calendar_events
from crm.demo import data
from crm.demo.people import PARIS, UTC, Demo, Person, insert_with_ids
from crm.models import (
    AssessmentSource,
    EventKind,
    Interaction,
    InteractionKind,
    Level,
    Membership,
    OrganisationKind,
    PerceptionAssessment,
    PerceptionSegment,
    TargetGroup,
    interaction_contacts,
)

T, E, I, S = TargetGroup, EventKind, InteractionKind, PerceptionSegment
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre")


class Plan(NamedTuple):
    kind: EventKind
    title: str
    day: date
    start: time
    hours: float
    place: str
    online: bool
    capacity: int
    host: int | None = None  # organisation visited
    country: str | None = None  # regional meetings


def _weekday_from(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    return _weekday_from(date(year, month, 1), weekday) + timedelta(weeks=n - 1)


def plan_events(demo: Demo) -> list[Plan]:
    """The seeds' calendar over the past year, plus the next few dates."""
    today, rng = demo.today, demo.rng
    first = demo.year_start.date() + timedelta(days=1)
    plans: list[Plan] = []
    upcoming: set[EventKind] = set()
    themes = list(data.DEBATES)
    rng.shuffle(themes)
    for offset in range(-12, 3):
        year, month = divmod(today.year * 12 + today.month - 1 + offset, 12)
        month += 1
        for kind, every, weekday, nth in ((E.MONTHLY_MEETING, 1, 1, 2), (E.THEMATIC_DEBATE, 2, 3, 3)):
            day = _nth_weekday(year, month, weekday, nth)
            if offset % every or month == 8 or day < first or (day >= today and kind in upcoming):
                continue
            if day >= today:
                upcoming.add(kind)
            if kind is E.MONTHLY_MEETING:
                plans.append(Plan(kind, f"Réunion mensuelle, {_MONTHS[month - 1]} {year}", day, time(9, 30),
                                  2, data.HOME, rng.random() < 0.3, 25))
            else:
                theme = themes[sum(p.kind is kind for p in plans) % len(themes)]
                plans.append(Plan(kind, f"Débat thématique : {theme}", day, time(18), 2, data.HOME, True, 60))

    def at(days: int, weekday: int) -> date:
        """A weekday about ``days`` ago, out of August and the year-end holidays."""
        day = _weekday_from(today - timedelta(days=days), weekday)
        while day.month == 8 or (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 5):
            day -= timedelta(weeks=1)
        return day

    plans += [
        Plan(E.ANNUAL_MEETING, f"Réunion annuelle {at(320, 1).year} : bilan et programme d'actions",
             at(320, 1), time(9, 30), 7, data.HOME, False, 150),
        Plan(E.GENERAL_ASSEMBLY, f"Assemblée générale {at(150, 4).year}", at(150, 4), time(14), 3.5,
             "Amphithéâtre A, Université Méditerranée Sud, Montpellier", True, 200),
        Plan(E.AWARD_CEREMONY, f"Trophées de l'innovation {data.CLUSTER} {at(60, 3).year}", at(60, 3),
             time(18, 30), 4, "Salle des congrès, Montpellier", False, 250),
        Plan(E.PRESS_CONFERENCE, "Conférence de presse : les finalistes des trophées de l'innovation",
             at(67, 1), time(11), 1, data.HOME, True, 40),
        Plan(E.PRESS_CONFERENCE, "Conférence de presse : lancement de l'appel à projets collaboratifs",
             at(200, 1), time(11), 1, data.HOME, False, 40),
        Plan(E.TEAM_BUILDING, "Journée team building entreprises et porteurs de projets", at(250, 4),
             time(9), 8, "Domaine des Garrigues, Saint-Martin-de-Londres", False, 40),
    ]
    for days, (title, place, country) in zip((280, 180, 100), data.REGIONAL, strict=False):
        plans.append(Plan(E.REGIONAL_MEETING, title, at(days, 2), time(14), 3, place, False, 80, country=country))
    for i, days in enumerate((300, 210, 120, 30, -21)):
        plans.append(Plan(E.WORKSHOP, f"Atelier : {data.WORKSHOPS[i]}", at(days, 3), time(9, 30), 3,
                          data.HOME, i % 2 == 1, 30))
    hosts = [i for i, s in enumerate(data.ORGANISATIONS) if s.kind is OrganisationKind.COMPANY
             and s.country in _NEAR and demo.org_status[i][0] is Membership.MEMBER]
    for days, host in zip((310, 260, 190, 130, 75, 20), rng.sample(hosts, min(6, len(hosts))), strict=False):
        spec = data.ORGANISATIONS[host]
        plans.append(Plan(E.COMPANY_VISIT, f"Visite {_of(spec.name)}", at(days, 2), time(10), 2,
                          f"{spec.name}, {spec.city}", False, 20, host=host))
    return sorted(plans, key=lambda p: (p.day, p.start))


def _of(name: str) -> str:
    """French 'de' before a name: "d'Irrigalia", "de Sud Semences"."""
    return f"d'{name}" if name[0].lower() in "aeiouyéèêîô" else f"de {name}"


_NEAR = ("FR", "MA", "TN")  # where the team goes on visits


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, PARIS).astimezone(UTC)


_FROM_EVENT = {
    E.THEMATIC_DEBATE: I.THEMATIC_DEBATE, E.MONTHLY_MEETING: I.MONTHLY_MEETING,
    E.ANNUAL_MEETING: I.ANNUAL_MEETING, E.GENERAL_ASSEMBLY: I.GENERAL_ASSEMBLY,
    E.COMPANY_VISIT: I.VISIT, E.REGIONAL_MEETING: I.EVENT_ATTENDANCE, E.AWARD_CEREMONY: I.EVENT_ATTENDANCE,
    E.WORKSHOP: I.WORKSHOP, E.TEAM_BUILDING: I.EVENT_ATTENDANCE, E.PRESS_CONFERENCE: I.PRESS_CONTACT,
}
_ANYONE = frozenset(TargetGroup) - {T.STAFF}
_MEMBERS = frozenset({T.GOVERNANCE, T.MEMBER_COMPANY, T.COMMISSION})
# Event kind -> (who may come, fewest, most)
_AUDIENCE: dict[EventKind, tuple[frozenset[TargetGroup], int, int]] = {
    E.THEMATIC_DEBATE: (_ANYONE, 15, 40),
    E.MONTHLY_MEETING: (_MEMBERS, 8, 18),
    E.ANNUAL_MEETING: (_MEMBERS | {T.PARTNER, T.PUBLIC_INSTITUTION, T.LOCAL_AUTHORITY, T.RESEARCH}, 40, 80),
    E.GENERAL_ASSEMBLY: (_MEMBERS | {T.PARTNER, T.RESEARCH}, 50, 90),
    E.COMPANY_VISIT: (_MEMBERS | {T.PROJECT_HOLDER, T.INVESTOR, T.RESEARCH}, 5, 12),
    E.REGIONAL_MEETING: (_ANYONE, 15, 40),
    E.AWARD_CEREMONY: (_ANYONE, 60, 120),
    E.WORKSHOP: (frozenset({T.MEMBER_COMPANY, T.PROJECT_HOLDER, T.COMMISSION, T.RESEARCH}), 8, 20),
    E.TEAM_BUILDING: (frozenset({T.MEMBER_COMPANY, T.PROJECT_HOLDER, T.STAFF}), 15, 30),
    E.PRESS_CONFERENCE: (frozenset({T.MEDIA}), 3, 8),
}


def add_calendar(session: Session, demo: Demo) -> list[tuple[int, Plan, datetime, str]]:
    """Every planned event through crm.calendar_events.add; returns (id, plan, start, organiser)."""
    made = []
    for i, plan in enumerate(plan_events(demo)):
        starts = _utc(plan.day, plan.start)
        organiser = data.ANIMATORS[i % len(data.ANIMATORS)]
        online = f"{data.ONLINE}{plan.day:%Y-%m-%d}-{plan.kind.value.replace('_', '-')}" if plan.online else None
        event = calendar_events.add(
            session, plan.kind, plan.title, starts, starts + timedelta(hours=plan.hours), data.TIMEZONE,
            place=plan.place, online_url=online, capacity=plan.capacity, organiser=organiser,
            description=f"{plan.title}. Organisé par {data.CLUSTER}.",
        )
        made.append((event.id, plan, starts, organiser))
    return made


def add_interactions(session: Session, demo: Demo, calendar: list[tuple[int, Plan, datetime, str]]) -> None:
    """A year of interactions, in one executemany, with their participants in another."""
    rng, people = demo.rng, demo.people
    rows: list[tuple[dict[str, object], list[Person]]] = []

    pools: dict[frozenset[TargetGroup], tuple[list[Person], list[datetime]]] = {}

    def pick(when: datetime, targets: frozenset[TargetGroup], low: int, high: int,
             also: Callable[[Person], bool] | None = None) -> list[Person]:
        """Between low and high people of the targets, already in the base at ``when``."""
        if targets not in pools:
            ordered = sorted((p for p in people if p.target in targets), key=lambda p: (p.joined, p.n))
            pools[targets] = (ordered, [p.joined for p in ordered])
        ordered, joined = pools[targets]
        pool = ordered[: bisect_left(joined, when)]
        if also is not None:
            pool = [p for p in pool if also(p)]
        return rng.sample(pool, min(len(pool), rng.randint(low, high)))

    def log(kind: InteractionKind, when: datetime, who: list[Person], led_by: str, subject: str, *,
            org: int | None = None, event: int | None = None, notes: str | None = None,
            outcome: str | None = None) -> None:
        if org is None and len(who) == 1 and who[0].org:
            org = who[0].org
        rows.append(({"kind": kind, "occurred_at": when, "led_by": led_by, "subject": subject,
                      "organisation_id": demo.org_ids[org] if org is not None else None, "event_id": event,
                      "notes": notes, "outcome": outcome, "created_at": when}, who))

    for event_id, plan, starts, organiser in calendar:
        if starts >= demo.now:
            continue
        targets, low, high = _AUDIENCE[plan.kind]
        local = None if plan.country is None else (lambda p, c=plan.country: p.country == c)
        first: list[Person] = []
        if plan.host is not None:
            first = [p for p in people if p.org == plan.host and p.joined < starts][:3]
        if plan.kind in (E.MONTHLY_MEETING, E.GENERAL_ASSEMBLY, E.PRESS_CONFERENCE):
            board = [p for p in people if p.target is T.GOVERNANCE and p.joined < starts]
            first += board[:2] if plan.kind is E.PRESS_CONFERENCE else board
        who = list(dict.fromkeys(first + pick(starts, targets, low, min(high, plan.capacity), local)))
        who = who[: plan.capacity]
        log(_FROM_EVENT[plan.kind], starts, who, organiser, plan.title, org=plan.host, event=event_id,
            outcome=f"{len(who)} participants")
    year = demo.year_start
    for quarter in range(4):
        start = year + timedelta(days=91 * quarter + 10)
        for i, name in enumerate(data.COMMISSIONS):
            when = demo.between(start, start + timedelta(days=60))
            who = pick(when, frozenset({T.COMMISSION}), 3, 8, lambda p, i=i: p.n % 3 == i)
            who += pick(when, frozenset({T.MEMBER_COMPANY}), 1, 4, lambda p: p.membership is Membership.MEMBER)
            log(I.COMMISSION, when, who, data.ANIMATORS[0], f"{name} : réunion du trimestre")
        when = demo.between(start, start + timedelta(days=60))
        log(I.STEERING_COMMITTEE, when, pick(when, frozenset({T.GOVERNANCE}), 3, 8),
            rng.choice(data.ANIMATORS), f"Comité de pilotage, trimestre {quarter + 1}")
    visitable = (OrganisationKind.COMPANY, OrganisationKind.RESEARCH_CENTRE, OrganisationKind.UNIVERSITY)
    by_org: dict[int | None, list[Person]] = {}
    for person in people:
        by_org.setdefault(person.org, []).append(person)
    orgs = [i for i, s in enumerate(data.ORGANISATIONS)
            if s.kind in visitable and s.country in _NEAR and i in by_org]
    for _ in range(max(10, demo.size // 6)):
        org = rng.choice(orgs)
        when = demo.between(year, demo.now)
        spec = data.ORGANISATIONS[org]
        who = [p for p in by_org[org] if p.joined < when][: rng.randint(1, 3)]
        if not who:
            continue
        log(I.VISIT, when, who, rng.choice(data.ANIMATORS), f"Visite {_of(spec.name)}", org=org,
            notes=f"Présentation du cluster ; besoins en {spec.sector}", outcome=rng.choice(data.VISIT_OUTCOMES))
    singles = ((I.CALL, demo.size // 3, data.CALLS, _ANYONE), (I.EMAIL, demo.size // 4, data.EMAILS, _ANYONE),
               (I.PRESS_CONTACT, max(6, demo.size // 25), data.PRESS, frozenset({T.MEDIA})))
    for kind, count, subjects, targets in singles:
        for _ in range(count):
            when = demo.between(year, demo.now)
            who = pick(when, targets, 1, 1)
            if who:
                log(kind, when, who, rng.choice(data.ANIMATORS), rng.choice(subjects))
    if not rows:
        return
    ids = insert_with_ids(session, Interaction, [row for row, _ in rows])
    links = []
    for interaction_id, (row, who) in zip(ids, rows, strict=True):
        for person in dict.fromkeys(who):
            links.append({"interaction_id": interaction_id, "contact_id": person.id})
            moment = (row["occurred_at"], row["kind"].value, row["led_by"])  # type: ignore[union-attr]
            demo.moments.setdefault(person.id, []).append(moment)  # type: ignore[arg-type]
    if links:
        session.execute(insert(interaction_contacts), links)


_LEVELS = {S.OPPONENT: (Level.LOW, Level.LOW), S.INDIFFERENT: (Level.HIGH, Level.LOW),
           S.SKEPTIC: (Level.LOW, Level.HIGH), S.ACQUIRED: (Level.HIGH, Level.HIGH)}
_UNKNOWN = ((Level.UNKNOWN, Level.UNKNOWN), (Level.HIGH, Level.UNKNOWN), (Level.UNKNOWN, Level.HIGH))
# Final segment weights per kind of target (opponent, indifferent, skeptic, acquired, no opinion).
_FINAL = {
    "inner": (5, 12, 15, 50, 18), "media": (10, 30, 25, 20, 15),
    "public": (5, 30, 15, 30, 20), "other": (10, 15, 25, 30, 20),
}
_GROUP = {T.MEMBER_COMPANY: "inner", T.COMMISSION: "inner", T.PARTNER: "inner", T.MEDIA: "media",
          T.PUBLIC_INSTITUTION: "public", T.LOCAL_AUTHORITY: "public", T.FUNDING_PROGRAMME: "public",
          T.PRIVATE_INSTITUTION: "public"}
# Where someone who ends in a segment is likely to have come from.
_BEFORE = {S.ACQUIRED: ((S.SKEPTIC, 40), (S.INDIFFERENT, 35), (S.NO_OPINION, 25)),
           S.SKEPTIC: ((S.NO_OPINION, 40), (S.OPPONENT, 30), (S.ACQUIRED, 30)),
           S.INDIFFERENT: ((S.NO_OPINION, 40), (S.ACQUIRED, 35), (S.OPPONENT, 25)),
           S.OPPONENT: ((S.SKEPTIC, 50), (S.INDIFFERENT, 50))}
_SOURCE = {"visit": AssessmentSource.VISIT, "call": AssessmentSource.ANIMATOR,
           "email": AssessmentSource.ANIMATOR, "press_contact": AssessmentSource.ANIMATOR}


def _origin(rng: Random, final: PerceptionSegment) -> PerceptionSegment:
    """Where someone now in ``final`` plausibly stood before."""
    segments, weights = zip(*_BEFORE[final], strict=True)
    return rng.choices(segments, weights=weights)[0]


def _finals(demo: Demo) -> list[PerceptionSegment]:
    """Everyone's segment at the end of the year; each segment gets someone."""
    rng, order = demo.rng, list(PerceptionSegment)
    finals = []
    for person in demo.people:
        if person.target in (T.STAFF, T.GOVERNANCE):
            finals.append(S.ACQUIRED)
        else:
            finals.append(rng.choices(order, weights=_FINAL[_GROUP.get(person.target, "other")])[0])
    others = [i for i, p in enumerate(demo.people) if p.target not in (T.STAFF, T.GOVERNANCE)]
    for segment in order:  # every segment ends up with contacts, whatever the size
        if segment not in finals:
            counts = Counter(finals)
            finals[rng.choice([i for i in others if counts[finals[i]] > 1])] = segment
    return finals


def add_perception(session: Session, demo: Demo) -> None:
    """A baseline survey before the year, then assessments at the year's visits and meetings."""
    rng = demo.rng
    baseline = _utc((demo.year_start - timedelta(days=20)).date(), time(10))
    survey = _utc((demo.year_start + timedelta(days=180)).date(), time(10))
    rows: list[dict[str, object]] = []

    def assess(person: Person, segment: PerceptionSegment, when: datetime, source: AssessmentSource,
               author: str | None, note: str) -> None:
        credibility, interest = _LEVELS.get(segment) or rng.choice(_UNKNOWN)
        rows.append({"contact_id": person.id, "credibility": credibility, "interest": interest,
                     "assessed_at": when, "source": source, "author": author, "note": note, "created_at": when})

    for person, final in zip(demo.people, _finals(demo), strict=True):
        before_year = person.joined < baseline
        path: list[PerceptionSegment] = []
        moves = rng.random() < 0.6 and person.target not in (T.STAFF, T.GOVERNANCE)
        if final is S.NO_OPINION:
            path = [S.NO_OPINION] if rng.random() < 0.3 else []
        elif before_year and rng.random() < 0.9:
            origin = _origin(rng, final) if moves else final
            assess(person, origin, baseline, AssessmentSource.SURVEY, None, f"Enquête de perception {baseline.year}")
            if moves and rng.random() < 0.2:
                path = [rng.choice([s for s in _LEVELS if s not in (origin, final)]), final]
            else:
                path = [final] if moves or rng.random() < 0.4 else []
        else:
            path = [_origin(rng, final), final] if moves else [final]
        start = max(person.joined, demo.year_start)
        options = [(w, k, by) for w, k, by in demo.moments.get(person.id, []) if w > start]
        if person.joined < survey:
            options.append((survey, "survey", None))
        while len(options) < len(path):
            options.append((demo.between(start, demo.now), "animator", rng.choice(data.ANIMATORS)))
        chosen = sorted(rng.sample(options, len(path)), key=lambda option: option[0])
        for segment, (when, kind, by) in zip(path, chosen, strict=True):
            if kind == "survey":
                assess(person, segment, when, AssessmentSource.SURVEY, None, f"Enquête de mi-année {when.year}")
                continue
            source = _SOURCE.get(kind, AssessmentSource.MEETING if kind != "animator" else AssessmentSource.ANIMATOR)
            after = min(when + timedelta(hours=3), demo.now - timedelta(minutes=1))
            assess(person, segment, after, source, by, data.AFTER.get(kind, "Après la réunion"))
    if rows:
        session.execute(insert(PerceptionAssessment).execution_options(render_nulls=True), rows)

