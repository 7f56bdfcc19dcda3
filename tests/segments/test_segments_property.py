"""Properties of the rule language, with hypothesis.

- text -> rule -> text -> rule and rule -> JSON -> rule are stable for any rule;
- the SQL a rule compiles to selects exactly the contacts the plain-Python reference
  evaluator (crm.segments.reference) selects, on random small contact bases with tags,
  consent and perception histories (ties included), interactions and organisations, on
  SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session

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
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationSize,
    PerceptionAssessment,
    PerceptionSegment,
    Tag,
    TargetGroup,
    contact_tags,
    interaction_contacts,
)
from crm.segments import Call, Compare, Not, Rule, all_of, any_of, contact_ids_query, from_json, parse, to_json, to_text
from crm.segments import reference as ref
from crm.segments.allowlist import FIELDS

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
EVENT_IDS = (900001, 900002)

# ---- rules -------------------------------------------------------------------------------

POOLS: dict[str, list[str]] = {
    "language": ["fr", "en", "pt", "pt-BR", "fr-CA"],
    "target": [t.value for t in TargetGroup],
    "membership": [m.value for m in Membership],
    "perception": [p.value for p in PerceptionSegment],
    "tag": ["agrifood", "export", "ag 2026", "absent"],
    "city": ["Angers", "ÉVRY", "nantes", "Paris", "L'Isle-d'Abeau", 'Le "Mans"', "and", "x, y (z) = 1", "a\\b"],
    "country": ["FR", "MA"],
    "email_domain": ["example.org", "lists.example.org", "other.net"],
    "organisation.kind": ["company", "university", "media"],
    "organisation.size": [s.value for s in OrganisationSize],
}
DURATIONS = ["7d", "30d", "2w", "6m", "180d", "181d", "1y"]
DATES = ["2025-06-15", "2025-12-17", "2026-01-01", "2026-06-15"]


@st.composite
def comparisons(draw: st.DrawFn) -> Compare:
    name = draw(st.sampled_from(sorted(POOLS)))
    op = draw(st.sampled_from(["=", "!=", "in", "not in"]))
    size = draw(st.integers(1, 3)) if op in ("in", "not in") else 1
    raw = draw(st.lists(st.sampled_from(POOLS[name]), min_size=size, max_size=size))
    return Compare(name, op, tuple(dict.fromkeys(FIELDS[name].normalise(v) for v in raw)))


def _call(fn: str, **args: Any) -> Call:
    order = {"topic": 0, "kind": 1, "within": 2, "since": 3, "event": 4}
    return Call(fn, tuple(sorted(((k, v) for k, v in args.items() if v is not None), key=lambda kv: order[kv[0]])))


maybe = st.none().__or__
calls = st.one_of(
    st.sampled_from([Call("all"), Call("member"), Call("internal"), Call("external")]),
    st.builds(lambda t: _call("consent", topic=t), st.sampled_from(["newsletter", "events"])),
    st.builds(
        lambda k, w, s, e: _call("interaction", kind=k, within=w, since=s, event=e),
        maybe(st.sampled_from(["visit", "call", "workshop"])), maybe(st.sampled_from(DURATIONS)),
        maybe(st.sampled_from(DATES)), maybe(st.sampled_from([*EVENT_IDS, 900003])),
    ),
    st.builds(lambda w, s: _call("created", within=w, since=s), st.sampled_from(DURATIONS), maybe(st.sampled_from(DATES)))
    | st.builds(lambda s: _call("created", since=s), st.sampled_from(DATES)),
)


def _combine(children: st.SearchStrategy[Rule]) -> st.SearchStrategy[Rule]:
    some = st.lists(children, min_size=2, max_size=3)
    return st.one_of(some.map(all_of), some.map(any_of), children.map(Not))


rules = st.recursive(st.one_of(comparisons(), calls), _combine, max_leaves=6)

# ---- contact bases -----------------------------------------------------------------------

OFFSETS = [-400, -366, -365, -200, -181, -180, -179.5, -30, -14, -7, 0, 5]  # days from NOW; repeats make ties
moments = st.sampled_from(OFFSETS).map(lambda d: NOW + timedelta(days=d))


@st.composite
def people(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "email": draw(st.sampled_from([None, "example.org", "Example.ORG", "lists.example.org", "other.net"])),
        "language": draw(st.sampled_from([None, "fr", "fr-CA", "frr", "en", "pt", "pt-BR"])),
        "target": draw(maybe(st.sampled_from(POOLS["target"]))),
        "membership": draw(maybe(st.sampled_from(POOLS["membership"]))),
        "city": draw(st.sampled_from([None, "Angers", "angers", "Évry", "ÉVRY", "Nantes", 'le "mans"', "L'ISLE-D'ABEAU"])),
        "org": draw(maybe(st.integers(0, 2))),
        "tags": draw(st.frozensets(st.sampled_from(["agrifood", "export", "ag 2026"]), max_size=3)),
        "created_at": draw(moments),
        "consents": draw(st.lists(st.tuples(st.sampled_from(["newsletter", "events"]),
                                            st.sampled_from(["opt_in", "opt_out"]), moments), max_size=4)),
        "assessments": draw(st.lists(st.tuples(st.sampled_from(list(Level)), st.sampled_from(list(Level)), moments),
                                     max_size=3)),
        "interactions": draw(st.lists(st.tuples(st.sampled_from(["visit", "call", "workshop"]), moments,
                                                maybe(st.sampled_from(EVENT_IDS))), max_size=3)),
    }


organisations = st.lists(
    st.tuples(st.sampled_from(POOLS["organisation.kind"]), maybe(st.sampled_from(POOLS["organisation.size"])),
              maybe(st.sampled_from(["FR", "MA"]))),
    min_size=3, max_size=3,
)


def _store(session: Session, base: list[dict[str, Any]], orgs: list[tuple]) -> list[ref.Person]:
    """Write the base (set-based where it can) and describe it for the reference evaluator."""
    org_rows = [Organisation(name=f"org {n}", kind=OrganisationKind(k), size=s, country=c) for n, (k, s, c) in enumerate(orgs)]
    session.add_all(org_rows)
    session.add_all(Event(id=i, kind=EventKind.WORKSHOP, title=f"event {i}", starts_at=NOW, ends_at=NOW,
                          timezone="UTC") for i in EVENT_IDS)
    contacts = [
        Contact(email=f"p{n}@{p['email']}" if p["email"] else None, language=p["language"], city=p["city"],
                target=TargetGroup(p["target"]) if p["target"] else None,
                membership=Membership(p["membership"]) if p["membership"] else None,
                organisation=None, created_at=p["created_at"])
        for n, p in enumerate(base)
    ]
    session.add_all(contacts)
    session.flush()
    for contact, p in zip(contacts, base, strict=True):
        contact.organisation_id = org_rows[p["org"]].id if p["org"] is not None else None
    tag_rows = {name: Tag(name=name) for name in ("agrifood", "export", "ag 2026")}
    session.add_all(tag_rows.values())
    session.flush()
    consent_rows = [
        (n, ConsentEvent(contact_id=c.id, topic=ConsentTopic(t), action=ConsentAction(a), at=at,
                         source=ConsentSource.IMPORT))
        for n, c in enumerate(contacts) for t, a, at in base[n]["consents"]
    ]
    assessment_rows = [
        (n, PerceptionAssessment(contact_id=c.id, credibility=cr, interest=it, assessed_at=at,
                                 source=AssessmentSource.SURVEY))
        for n, c in enumerate(contacts) for cr, it, at in base[n]["assessments"]
    ]
    interaction_rows = [
        (n, Interaction(kind=InteractionKind(k), occurred_at=at, event_id=e))
        for n, c in enumerate(contacts) for k, at, e in base[n]["interactions"]
    ]
    for _, row in consent_rows + assessment_rows + interaction_rows:
        session.add(row)
        session.flush()  # one at a time: ids grow in the order written, as in life
    links = [{"contact_id": c.id, "tag_id": tag_rows[t].id} for c, p in zip(contacts, base, strict=True) for t in p["tags"]]
    if links:
        session.execute(insert(contact_tags), links)
    if interaction_rows:
        session.execute(insert(interaction_contacts),
                        [{"contact_id": contacts[n].id, "interaction_id": i.id} for n, i in interaction_rows])

    def org(index: int | None) -> ref.Organisation | None:
        if index is None:
            return None
        kind, size, country = orgs[index]
        return ref.Organisation(kind=kind, size=size, country=country)

    result = []
    for n, (contact, p) in enumerate(zip(contacts, base, strict=True)):
        result.append(ref.Person(
            id=contact.id, created_at=p["created_at"], email=contact.email, language=p["language"],
            target=p["target"], membership=p["membership"], city=p["city"], organisation=org(p["org"]),
            tags=p["tags"],
            consents=[ref.ConsentFact(r.id, r.topic.value, r.action.value, r.at) for m, r in consent_rows if m == n],
            assessments=[ref.AssessmentFact(r.id, r.credibility.value, r.interest.value, r.assessed_at)
                         for m, r in assessment_rows if m == n],
            interactions=[ref.InteractionFact(r.kind.value, r.occurred_at, r.event_id) for m, r in interaction_rows if m == n],
        ))
    return result


# ---- properties --------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(rules)
def test_text_and_json_forms_are_stable(rule: Rule) -> None:
    text = to_text(rule)
    assert parse(text) == rule, text
    assert to_text(parse(text)) == text
    assert from_json(json.loads(json.dumps(to_json(rule)))) == rule


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(base=st.lists(people(), max_size=8), orgs=organisations, checks=st.lists(rules, min_size=1, max_size=6))
def test_sql_selects_what_the_reference_evaluator_selects(session: Session, base: list[dict[str, Any]],
                                                          orgs: list[tuple], checks: list[Rule]) -> None:
    savepoint = session.begin_nested()
    try:
        persons = _store(session, base, orgs)
        ids = [p.id for p in persons]
        for rule in checks:
            query = contact_ids_query(rule, NOW).where(Contact.id.in_(ids))
            expected = ref.select_ids(rule, persons, NOW)
            event("selects none" if not expected else "selects all" if len(expected) == len(ids) else "selects some")
            assert set(session.scalars(query)) == expected, to_text(rule)
    finally:
        savepoint.rollback()
