"""The demo cluster's people: organisations, contacts, tags and the consent log."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import consent, tags
from crm.db import insert_rows
from crm.demo import data
from crm.models import (
    ConsentAction,
    ConsentSource,
    ConsentTopic,
    Contact,
    Membership,
    Organisation,
    OrganisationKind,
    TargetGroup,
)

UTC = timezone.utc
PARIS = ZoneInfo(data.TIMEZONE)
_STOP = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "of", "the"}
_TLD = {OrganisationKind.COMPANY: "com", OrganisationKind.INVESTOR: "com", OrganisationKind.MEDIA: "net"}
_HOME_CITIES = {"FR": ("Montpellier", "Nîmes", "Toulouse"), "MA": ("Agadir", "Rabat"), "TN": ("Tunis", "Sousse")}


@dataclass(eq=False)
class Person:
    """One demo contact as generated, before and after it has its id (compared by identity)."""

    n: int  # rank in the plan: stable for a seed, unlike database ids
    target: TargetGroup
    first: str
    last: str
    latin: str  # address local part
    female: bool
    arabic_script: bool
    language: str
    country: str
    org: int | None  # index in demo_data.ORGANISATIONS
    joined: datetime
    membership: Membership | None = None
    since: date | None = None
    until: date | None = None
    tags: list[str] = field(default_factory=list)
    email: str | None = None
    id: int = 0


@dataclass
class Demo:
    """What the build steps share: the random stream, the calendar, what was made so far."""

    rng: random.Random
    today: date
    size: int
    org_ids: dict[int, int] = field(default_factory=dict)
    org_status: dict[int, tuple[Membership | None, date | None, date | None]] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    # contact id -> [(when, what, who led it)] of the interactions they took part in
    moments: dict[int, list[tuple[datetime, str, str | None]]] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, time(0), UTC)

    @property
    def year_start(self) -> datetime:
        return self.now - timedelta(days=365)

    def between(self, start: datetime, end: datetime) -> datetime:
        """A random working moment (weekday, 9:00-17:59 Paris time) in [start, end)."""
        span = max(1, (end - start).days)
        for _ in range(20):
            day = (start + timedelta(days=self.rng.randrange(span))).astimezone(PARIS).date()
            if day.weekday() < 5:
                break
        local = datetime.combine(day, time(self.rng.randint(9, 17), self.rng.choice((0, 15, 30, 45))), PARIS)
        return min(max(local.astimezone(UTC), start), end - timedelta(minutes=1))


def insert_with_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in one executemany and return their ids, in order.

    The ids are matched back by content (one SELECT): RETURNING in parameter order is
    row-at-a-time on SQLite. Rows alike in every column are interchangeable, so which of
    them gets which id does not matter. Meant for tables the demo is the only writer of.
    """
    if not rows:
        return []
    insert_rows(session, model, rows)
    names = list(rows[0])
    table = model.__table__
    found: dict[tuple[Any, ...], list[int]] = {}
    for row in session.execute(select(table.c.id, *(table.c[n] for n in names)).order_by(table.c.id)):
        found.setdefault(tuple(row[1:]), []).append(row[0])
    return [found[tuple(r[n] for n in names)].pop(0) for r in rows]


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _domains() -> list[str]:
    result: list[str] = []
    for spec in data.ORGANISATIONS:
        if spec.name == data.CLUSTER:
            result.append(data.CLUSTER_DOMAIN)
            continue
        words = [w for w in slug(spec.name).split("-") if w not in _STOP]
        label = "-".join(words)
        if len(label) > 24:
            label = "".join(w[0] for w in words)
        while any(d.split(".")[0] == label for d in result):
            label += "2"
        result.append(f"{label}.example.{_TLD.get(spec.kind, 'org')}")
    return result


DOMAINS = _domains()


def add_organisations(session: Session, demo: Demo) -> None:
    """Every organisation of demo_data, in one executemany, with a membership status each."""
    rows = []
    for index, spec in enumerate(data.ORGANISATIONS):
        at = demo.year_start - timedelta(days=demo.rng.randint(30, 900))
        rows.append({"name": spec.name, "kind": spec.kind, "sector": spec.sector, "region": spec.region,
                     "country": spec.country, "size": spec.size, "website": f"https://www.{DOMAINS[index]}",
                     "created_at": at, "updated_at": at})
        demo.org_status[index] = _org_status(demo, spec)
    demo.org_ids = dict(enumerate(insert_with_ids(session, Organisation, rows)))


def _org_status(demo: Demo, spec: data.OrgSpec) -> tuple[Membership | None, date | None, date | None]:
    rng, today = demo.rng, demo.today
    kind = spec.kind
    roll = rng.random()
    if spec.name == data.CLUSTER or kind is OrganisationKind.MEDIA:
        return None, None, None
    if kind is OrganisationKind.COMPANY:
        status = (Membership.MEMBER if roll < (0.4 if spec.startup else 0.72)
                  else Membership.PROSPECT if spec.startup or roll < 0.86 else Membership.FORMER)
    elif kind in (OrganisationKind.RESEARCH_CENTRE, OrganisationKind.UNIVERSITY):
        status = Membership.MEMBER if roll < 0.5 else Membership.PARTNER
    else:
        share = {OrganisationKind.PRIVATE_INSTITUTION: 0.6, OrganisationKind.OTHER: 0.6,
                 OrganisationKind.INVESTOR: 0.3}.get(kind, 0.45)
        status = Membership.PARTNER if roll < share else None
    if status in (None, Membership.PROSPECT):
        return status, None, None
    recent = rng.random() < 0.15 and status is not Membership.FORMER
    since = today - timedelta(days=rng.randint(20, 340) if recent else rng.randint(370, 3600))
    until = today - timedelta(days=rng.randint(20, 330)) if status is Membership.FORMER else None
    if until is not None and until <= since:
        since = until - timedelta(days=rng.randint(365, 1500))
    return status, since, until


def _quotas(total: int) -> dict[TargetGroup, int]:
    """Contacts per target group (largest remainder, at least one each)."""
    weights = data.TARGET_WEIGHTS
    scale = sum(weights.values())
    quotas = {t: max(1, total * w // scale) for t, w in weights.items()}
    order = sorted(weights, key=lambda t: -(total * weights[t] % scale))
    i = 0
    while sum(quotas.values()) < total:
        quotas[order[i % len(order)]] += 1
        i += 1
    return quotas


def _candidates(demo: Demo, target: TargetGroup) -> list[int]:
    kinds = data.TARGET_KINDS[target]
    found = [i for i, s in enumerate(data.ORGANISATIONS) if s.kind in kinds and s.name != data.CLUSTER]
    if target is TargetGroup.PROJECT_HOLDER:
        return [i for i in found if data.ORGANISATIONS[i].startup]
    if target is TargetGroup.MEMBER_COMPANY:
        return [i for i in found if not data.ORGANISATIONS[i].startup]
    if target in (TargetGroup.GOVERNANCE, TargetGroup.COMMISSION):
        return [i for i in found if demo.org_status[i][0] is Membership.MEMBER] or found
    return found


def _person(demo: Demo, target: TargetGroup, country: str, org: int | None) -> Person:
    """Someone working in ``country``: a name of there, the language they read."""
    rng = demo.rng
    choices = data.SPEAKERS[country]
    _, language, pool = rng.choices(choices, weights=[c[0] for c in choices])[0]
    female = rng.random() < 0.5
    if language == "ar" and pool in ("ma", "tn", "lb") and rng.random() < 0.5:
        half = len(data.ARABIC_FIRST) // 2
        first, first_latin = rng.choice(data.ARABIC_FIRST[half:] if female else data.ARABIC_FIRST[:half])
        last, last_latin = rng.choice(data.ARABIC_LAST)
        return Person(len(demo.people), target, first, last, f"{first_latin}.{last_latin}", female, True,
                      language, country, org, demo.now)
    women, men, lasts = data.POOLS[pool]
    first = rng.choice(women if female else men)
    last = rng.choice([n for n in lasts if n != first])
    return Person(len(demo.people), target, first, last, _local_part(first, last), female, False,
                  language, country, org, demo.now)


def _local_part(first: str, last: str) -> str:
    """'Fatima-Zahra', 'El Amrani' -> 'fatima-zahra.elamrani'."""
    return f"{slug(first)}.{slug(last).replace('-', '')}"


def _joined(demo: Demo, target: TargetGroup, since: date | None, until: date | None = None) -> datetime:
    rng = demo.rng
    if until is not None:  # known while the organisation was a member
        return datetime.combine(until, time(9), UTC) - timedelta(days=rng.randint(60, 900))
    if since is not None and since > demo.year_start.date():
        return demo.between(datetime.combine(since, time(0), UTC) - timedelta(days=20),
                            datetime.combine(since, time(0), UTC))
    if target in (TargetGroup.STAFF, TargetGroup.GOVERNANCE) or rng.random() < 0.65:
        return demo.year_start - timedelta(days=rng.randint(15, 1400), hours=rng.randint(0, 23))
    return demo.between(demo.year_start, demo.now - timedelta(days=15))


def plan_contacts(demo: Demo) -> None:
    """Fill demo.people: the staff first, then every target group by quota."""
    for first, last, title, language, _city in data.STAFF:
        female = "Chargée" in title or "Directrice" in title
        demo.people.append(Person(len(demo.people), TargetGroup.STAFF, first, last, _local_part(first, last),
                                  female, False, language, "FR", 0, _joined(demo, TargetGroup.STAFF, None)))
    for target, count in _quotas(demo.size - len(data.STAFF)).items():
        candidates = _candidates(demo, target)
        demo.rng.shuffle(candidates)
        for n in range(count):
            # every organisation of the kind first, then at random
            org: int | None = candidates[n] if n < len(candidates) else demo.rng.choice(candidates)
            if target is TargetGroup.PROJECT_HOLDER and demo.rng.random() < 0.35:
                org = None
            country = data.ORGANISATIONS[org].country if org is not None else demo.rng.choice(("FR", "MA", "TN"))
            person = _person(demo, target, country, org)
            status, since, until = demo.org_status[org] if org is not None else (None, None, None)
            if org is None and demo.rng.random() < 0.5:
                status = Membership.PROSPECT
            if target is TargetGroup.PARTNER and status is None:
                status = Membership.PARTNER
            person.membership, person.since, person.until = status, since, until
            person.joined = _joined(demo, target, since, until)
            demo.people.append(person)


def _position(demo: Demo, person: Person) -> str:
    if person.target is TargetGroup.STAFF:
        return next(s[2] for s in data.STAFF if s[0] == person.first and s[1] == person.last)
    arabic = data.ARABIC_TITLES.get(person.target)
    if person.arabic_script and arabic:
        return arabic[person.female]
    french, english = data.TITLES[person.target]
    if person.language not in ("fr", "ar"):
        return demo.rng.choice(english)
    forms = demo.rng.choice(french).split("|")
    return forms[-1] if person.female else forms[0]


def _phone(demo: Demo, country: str) -> str:
    return "".join(str(demo.rng.randrange(10)) if c == "#" else c for c in data.PHONES[country])


def add_contacts(session: Session, demo: Demo) -> None:
    """All demo contacts in one executemany (ids back in order), then their tags."""
    plan_contacts(demo)
    used: set[str] = set()
    rows = []
    for person in demo.people:
        domain = DOMAINS[person.org] if person.org is not None else data.PERSONAL_DOMAIN
        local = person.latin
        n = 1
        while f"{local}@{domain}" in used:
            n += 1
            local = f"{person.latin}{n}"
        no_email = person.target not in (TargetGroup.STAFF, TargetGroup.MEDIA) and demo.rng.random() < 0.015
        person.email = None if no_email else f"{local}@{domain}"
        if person.email:
            used.add(person.email)
        if person.target is TargetGroup.STAFF:
            city = next(s[4] for s in data.STAFF if s[0] == person.first and s[1] == person.last)
        elif person.org is not None:
            city = data.ORGANISATIONS[person.org].city
        else:
            city = demo.rng.choice(_HOME_CITIES[person.country])
        rows.append({
            "first_name": person.first, "last_name": person.last, "email": person.email,
            "phone": _phone(demo, person.country) if no_email or demo.rng.random() < 0.8 else None,
            "language": person.language, "position": _position(demo, person), "city": city,
            "target": person.target, "membership": person.membership, "member_since": person.since,
            "member_until": person.until,
            "organisation_id": demo.org_ids[person.org] if person.org is not None else None,
            "created_at": person.joined, "updated_at": person.joined,
        })
    ids = insert_with_ids(session, Contact, rows)
    for person, contact_id in zip(demo.people, ids, strict=True):
        person.id = contact_id
        themes = list(data.ORGANISATIONS[person.org].tags) if person.org is not None else []
        if demo.rng.random() < 0.35:
            themes.append(demo.rng.choice(data.THEMES))
        person.tags = [data.MARKER_TAG, *dict.fromkeys(themes)]
    tag_ids = tags.ids(session, [data.MARKER_TAG, *data.THEMES])
    tags.link(session, [(p.id, tag_ids[t]) for p in demo.people for t in p.tags])


def add_consents(session: Session, demo: Demo) -> None:
    """The consent log: imports and forms for the newsletter, some other topics, a few opt-outs."""
    rng = demo.rng
    rows: list[dict[str, object]] = []
    line = 1

    def opt(person: Person, topic: ConsentTopic, at: datetime, source: ConsentSource, proof: str,
            action: ConsentAction = ConsentAction.OPT_IN, by: str | None = None) -> None:
        rows.append({"contact_id": person.id, "topic": topic, "action": action, "at": at,
                     "source": source, "proof": proof, "recorded_by": by})

    for person in demo.people:
        if person.email is None:
            continue
        joined = person.joined
        roll = rng.random()
        if roll < 0.45 and joined < demo.year_start:
            line += 1
            opt(person, ConsentTopic.NEWSLETTER, joined, ConsentSource.IMPORT,
                f"annuaire-cluster-{joined.year}.csv:{line}", by=rng.choice(data.ANIMATORS))
        elif roll < 0.78:
            confirmed = joined + timedelta(hours=rng.randint(1, 40))
            opt(person, ConsentTopic.NEWSLETTER, confirmed, ConsentSource.FORM,
                f"form {joined:%Y-%m-%d} confirmed {confirmed:%Y-%m-%d}")
        else:
            continue
        last: datetime = rows[-1]["at"]  # type: ignore[assignment]
        if rng.random() < 0.4:
            when = demo.between(max(joined, demo.year_start), demo.now)
            opt(person, ConsentTopic.EVENTS, when, rng.choice((ConsentSource.FORM, ConsentSource.ANIMATOR)),
                f"inscription aux événements, {when:%Y-%m-%d}", by=rng.choice(data.ANIMATORS))
            later = when + timedelta(days=rng.randint(10, 60))
            if rng.random() < 0.05 and later < demo.now:
                opt(person, ConsentTopic.EVENTS, later, ConsentSource.FORM, "préférences modifiées",
                    ConsentAction.OPT_OUT)
        if person.target is TargetGroup.MEDIA or rng.random() < 0.08:
            opt(person, ConsentTopic.PRESS, last + timedelta(minutes=5), ConsentSource.ANIMATOR,
                "liste presse", by=rng.choice(data.ANIMATORS))
        if person.target in (TargetGroup.MEMBER_COMPANY, TargetGroup.PROJECT_HOLDER, TargetGroup.RESEARCH) \
                and rng.random() < 0.35:
            opt(person, ConsentTopic.CALLS, last + timedelta(minutes=10), ConsentSource.FORM,
                f"form {last:%Y-%m-%d} appels à projets")
        if person.membership is Membership.MEMBER and rng.random() < 0.4:
            opt(person, ConsentTopic.SURVEYS, last + timedelta(minutes=15), ConsentSource.ANIMATOR,
                "bulletin d'adhésion", by=rng.choice(data.ANIMATORS))
        if rng.random() < 0.07:
            out = max(last, demo.year_start) + timedelta(days=rng.randint(5, 200))
            if out < demo.now:
                opt(person, ConsentTopic.NEWSLETTER, out, ConsentSource.UNSUBSCRIBE,
                    "List-Unsubscribe one-click", ConsentAction.OPT_OUT)
    consent.record_many(session, rows)
