"""Segments: the rule language (parser, errors, text and JSON forms), the SQL it compiles to,
built-in and saved segments, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import ClauseElement, Executable, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session

from crm import tags
from crm.errors import Conflict, NotFound, ValidationError
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
    PerceptionSegment,
    Segment,
    Tag,
    contact_tags,
)
from crm.perception import segment_case
from crm.segments import (
    BUILTINS,
    And,
    Call,
    Compare,
    Not,
    Or,
    SegmentError,
    compile_rule,
    contact_ids_query,
    from_json,
    parse,
    to_json,
    to_text,
)
from crm.segments import service

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
ISSUE_RULE = (
    "target in (member_company, partner) and perception = skeptic and language = fr and "
    "not interaction(kind=visit, within=180d) and tag = agrifood and consent(newsletter)"
)


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


# ---- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    ["all", "language = fr", "target in (member_company, partner)", "perception = skeptic", "tag = agrifood",
     "consent(newsletter)", "member", "(language = fr or language = en) and not member",
     "internal", "external", "membership = prospect", "organisation.kind = university", "country = FR",
     "city = Angers", "email_domain = example.org", "interaction(kind=visit, within=180d)",
     "interaction(since=2026-01-01)", "interaction(event=12)", "created(within=30d)", "language != fr",
     "target not in (media, investor)", ISSUE_RULE],
)
def test_design_and_issue_rules_parse_and_print_back(rule: str) -> None:
    tree = parse(rule)
    assert parse(to_text(tree)) == tree
    assert from_json(json.loads(json.dumps(to_json(tree)))) == tree


def test_precedence_not_and_or() -> None:
    fr, en, member = (Compare("language", "=", ("fr",)), Compare("language", "=", ("en",)), Call("member"))
    assert parse("language = fr or language = en and member") == Or((fr, And((en, member))))
    assert parse("not language = fr and member") == And((Not(fr), member))
    assert parse("not (language = fr and member)") == Not(And((fr, member)))
    assert parse("(language = fr or language = en) and member") == And((Or((fr, en)), member))
    assert parse("language = fr and (language = en and member)") == And((fr, en, member))  # flattened
    assert parse("NOT Language = FR AND Member") == And((Not(fr), member))  # any case


def test_values_are_normalised_to_canonical_ones() -> None:
    assert parse('target = "entreprise membre"') == Compare("target", "=", ("member_company",))
    assert parse("target in ('Université', partenaire, partner)") == Compare("target", "in", ("research", "partner"))
    assert parse("perception = sceptiques") == Compare("perception", "=", ("skeptic",))
    assert parse("language = Français") == Compare("language", "=", ("fr",))
    assert parse("tag = 'Ag  2026'") == Compare("tag", "=", ("ag 2026",))
    assert parse("country = fr") == Compare("country", "=", ("FR",))
    assert parse("email_domain = @Example.ORG") == Compare("email_domain", "=", ("example.org",))
    assert parse("organisation.kind = école") == Compare("organisation.kind", "=", ("university",))
    assert parse("consent('lettre d information')") == Call("consent", (("topic", "newsletter"),))
    assert parse("interaction(visite, since=31/12/2025, within=6M, event=007)") == Call(
        "interaction", (("kind", "visit"), ("within", "6m"), ("since", "2025-12-31"), ("event", 7))
    )
    assert parse('city = "Saint \\"Malo\\""') == Compare("city", "=", ('Saint "Malo"',))
    assert to_text(parse('city = "Saint \\"Malo\\""')) == 'city = "Saint \\"Malo\\""'
    assert to_text(parse("city = 'and'")) == 'city = "and"'


@pytest.mark.parametrize(
    ("rule", "where", "words"),
    [
        ("langage = fr", "rule:1", ["unknown field or function 'langage'", "did you mean language", "allowed: all, city, consent(), country"]),
        ("language = fr and tagg = x", "rule:19", ["'tagg'", "did you mean tag", "email_domain"]),
        ("target = membre_x", "rule:10", ["unknown target group 'membre_x'", "allowed: staff, governance, member_company"]),
        ("perception in (skeptic, fans)", "rule:25", ["unknown perception segment 'fans'", "acquired, no_opinion"]),
        ("membership = gold", "rule:14", ["unknown membership 'gold'", "member, prospect, partner, former"]),
        ("consent(spam)", "rule:9", ["unknown consent topic 'spam'", "newsletter, events, press, calls, surveys"]),
        ("interaction(kind=dinner)", "rule:18", ["unknown interaction kind 'dinner'", "visit"]),
        ("interaction(within=180)", "rule:20", ["duration '180'", "30d"]),
        ("interaction(when=1d)", "rule:13", ["unknown interaction() argument 'when'", "kind, within, since, event"]),
        ("interaction(kind=visit, kind=call)", "rule:25", ["kind given twice"]),
        ("interaction(since=2026-13-01)", "rule:19", ["invalid date '2026-13-01'"]),
        ("interaction(visit, 180d)", "rule:20", ["write name=value"]),
        ("created", "rule:8", ["created needs arguments"]),
        ("consent()", "rule:1", ["consent() needs topic"]),
        ("member(1)", "rule:8", ["member takes no arguments"]),
        ("language = fr tag = x", "rule:15", ["expected and, or or the end of the rule, found 'tag'"]),
        ("language fr", "rule:10", ["expected =, !=, in or not in after language"]),
        ("language =", "rule:11", ["expected a value after language =, found the end of the rule"]),
        ("target = ", "rule:10", ["expected a value", "allowed: staff"]),
        ("target in member_company", "rule:11", ["expected '(' after in"]),
        ("(language = fr", "rule:15", ["expected ')' to close the parenthesis"]),
        ("language = fr and", "rule:18", ["expected a field, a function or '('", "allowed: all"]),
        ("and member", "rule:1", ["expected a field, a function or '('"]),
        ("city = 'Angers", "rule:8", ["unterminated quoted value"]),
        ("language == fr", "rule:11", ["expected a value", "found '='"]),
        ("member ! internal", "rule:8", ["unexpected character '!'"]),
        ("", "rule:1", ["empty rule"]),
        ("country = France", "rule:11", ["two-letter ISO code"]),
        ("email_domain = localhost", "rule:16", ["email domain 'localhost'"]),
        ("member and\n  langage = fr", "rule:2:3", ["unknown field or function 'langage'"]),
        ("(" * 13 + "member" + ")" * 13, "rule:13", ["nested more than 12 levels"]),
    ],
)
def test_errors_give_position_and_alternatives(rule: str, where: str, words: list[str]) -> None:
    with pytest.raises(SegmentError) as caught:
        parse(rule)
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.where == where, str(error)
    assert str(error).startswith(f"{where}: ")
    for word in words:
        assert word in str(error), str(error)


def test_unknown_words_carry_the_allowed_list() -> None:
    with pytest.raises(SegmentError) as caught:
        parse("target = nobody")
    assert "member_company" in caught.value.allowed and len(caught.value.allowed) == 15
    with pytest.raises(SegmentError) as caught:
        parse("langage = fr")
    assert {"language", "consent()", "all", "organisation.kind"} <= set(caught.value.allowed)


# ---- JSON form ---------------------------------------------------------------------------


def test_json_form_reads_the_documented_shape() -> None:
    obj = {"and": [
        {"field": "language", "op": "=", "value": "fr"},
        {"field": "target", "op": "in", "value": ["entreprise membre", "partner"]},
        {"not": {"fn": "interaction", "args": {"kind": "visit", "within": "180d"}}},
        {"fn": "consent", "args": {"topic": "newsletter"}},
        {"or": [{"fn": "member"}, {"fn": "interaction", "args": {"event": 12}}]},
    ]}
    rule = from_json(obj)
    assert to_text(rule) == (
        "language = fr and target in (member_company, partner) and not interaction(kind=visit, within=180d) "
        "and consent(newsletter) and (member or interaction(event=12))"
    )
    assert to_json(rule)["and"][1] == {"field": "target", "op": "in", "value": ["member_company", "partner"]}
    assert to_json(parse("all")) == {"fn": "all"}


@pytest.mark.parametrize(
    ("obj", "where", "words"),
    [
        ([], "$", ["expected an object"]),
        ({"and": [{"field": "langage", "op": "=", "value": "fr"}]}, "$.and[0].field", ["unknown field 'langage'", "language"]),
        ({"and": [{"fn": "all"}, {"not": {"fn": "interaction", "args": {"within": "180x"}}}]}, "$.and[1].not.args.within", ["duration '180x'"]),
        ({"field": "target", "op": "in", "value": ["partner", "nobody"]}, "$.value[1]", ["unknown target group 'nobody'", "member_company"]),
        ({"field": "target", "op": "in", "value": "partner"}, "$.value", ["needs a list"]),
        ({"field": "target", "op": "=", "value": ["partner"]}, "$.value", ["expected a text or a number"]),
        ({"field": "target", "op": "~", "value": "partner"}, "$.op", ["unknown operator '~'", "not in"]),
        ({"field": "target", "op": "="}, "$", ["needs a value"]),
        ({"fn": "consent"}, "$", ["consent() needs topic"]),
        ({"fn": "consent", "args": {"topic": "spam"}}, "$.args.topic", ["unknown consent topic"]),
        ({"fn": "shout"}, "$.fn", ["unknown function 'shout'", "interaction"]),
        ({"or": []}, "$.or", ["at least one rule"]),
        ({"field": "tag", "value": "x", "fn": "all"}, "$", ["exactly one of"]),
        ({"field": "tag", "op": "=", "value": "x", "extra": 1}, "$.extra", ["unexpected key 'extra'"]),
        ({"fn": "member", "args": {"x": 1}}, "$.args.x", ["unknown member() argument 'x'"]),
        ({"field": "tag", "op": "=", "value": True}, "$.value", ["expected a text or a number"]),
        (json.loads('{"not": ' * 14 + '{"fn": "all"}' + "}" * 14),
         "$" + ".not" * 13, ["nested more than 12 levels"]),
    ],
)
def test_json_errors_give_the_json_path(obj: Any, where: str, words: list[str]) -> None:
    with pytest.raises(SegmentError) as caught:
        from_json(obj)
    assert caught.value.where == where, str(caught.value)
    for word in words:
        assert word in str(caught.value), str(caught.value)


# ---- SQL: bound parameters only ----------------------------------------------------------

ODD_RULE = (
    "city = 'Qwertyville' and tag in (qwertytag, \"x'; drop table contacts; --\") and email_domain = qwerty.example "
    "and language = pt-BR and target = funding_programme and membership != former and perception = indifferent "
    "and country = QZ and organisation.kind = professional_association and organisation.size in (medium) "
    "and interaction(kind=press_contact, since=2031-07-19, event=987654) and created(within=123d) "
    "and consent(surveys)"
)


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()], ids=["postgresql", "sqlite"])
def test_compiled_sql_holds_no_value_only_bound_parameters(dialect: Any) -> None:
    rule = parse(ODD_RULE)
    compiled = contact_ids_query(rule, NOW).compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    sql = str(compiled)
    params = " | ".join(str(v) for v in compiled.params.values())
    for value in ("Qwertyville", "qwertytag", "drop table", "qwerty.example", "pt-BR", "funding_programme", "former",
                  "indifferent", "QZ", "professional_association", "medium", "press_contact", "2031", "987654",
                  "surveys"):
        assert value not in sql, value
        assert value in params, value
    assert "'" not in sql.replace("ESCAPE '/'", "")  # no quoted literal but LIKE's escape character


def test_compile_rule_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        compile_rule(parse("created(within=1d)"), now=datetime(2026, 1, 1))


# ---- meaning, on both databases ----------------------------------------------------------


class World:
    """A handful of contacts with everything a rule can look at."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: dict[str, int] = {}
        acme = Organisation(name="Acme", kind="company", country="FR", size="small")
        uni = Organisation(name="Université d'Angers", kind="university", country="MA", size="large")
        self.event = Event(kind=EventKind.WORKSHOP, title="Atelier", starts_at=days(-40), ends_at=days(-40),
                           timezone="Europe/Paris")
        session.add_all([acme, uni, self.event])
        session.flush()
        self.add("ann", email="ann@acme.example", language="fr", target="member_company", membership="member",
                 city="Angers", org=acme, labels=("agrifood",), created=-400)
        self.add("bob", email="bob@Acme.Example", language="fr-CA", target="partner", membership="prospect",
                 labels=("agrifood", "export"), created=-20)
        self.add("cid", email="cid@lab.uni.example", language="en", target="investor", city="ANGERS", org=uni,
                 created=-200)
        self.add("dee", email=None, language=None, target=None, created=-5)
        self.add("eve", email="eve@acme.example", language="fr", target="member_company", membership="member",
                 org=acme, labels=("agrifood",), created=-1)
        self.add("fay", email="fay@frr.example", language="frr", target="staff", membership="former", created=-90)
        self.consent("ann", "newsletter", "opt_in", -100)
        self.consent("bob", "newsletter", "opt_in", -100)
        self.consent("bob", "newsletter", "opt_out", -10)  # latest wins: withdrawn
        self.consent("dee", "newsletter", "opt_out", -30)
        self.consent("dee", "newsletter", "opt_in", -30)  # same instant, later row: wins
        self.consent("eve", "newsletter", "opt_in", -60)
        self.consent("eve", "events", "opt_out", -1)
        self.consent("fay", "newsletter", "opt_in", 30)  # dated in the future: still the latest
        self.assess("ann", "low", "high", -50)  # skeptic
        self.assess("bob", "low", "high", -50)
        self.assess("cid", "low", "high", -300)
        self.assess("cid", "high", "high", -20)  # acquired now
        self.assess("eve", "low", "high", -70)
        self.assess("fay", "unknown", "high", -70)  # no opinion, assessed
        self.interact("cid", InteractionKind.VISIT, -30)
        self.interact("eve", InteractionKind.VISIT, -100)
        self.interact("bob", InteractionKind.VISIT, -181)
        self.interact("ann", InteractionKind.WORKSHOP, -40, event=self.event)
        self.interact("fay", InteractionKind.VISIT, 10)  # planned: not yet an interaction
        session.flush()

    def add(self, key: str, *, org: Organisation | None = None, labels: tuple[str, ...] = (), created: int = 0,
            **values: Any) -> None:
        contact = Contact(first_name=key.title(), organisation_id=org.id if org else None, created_at=days(created),
                          **values)
        self.session.add(contact)
        self.session.flush()
        self.ids[key] = contact.id
        tag_ids = tags.ids(self.session, labels)
        tags.link(self.session, [(contact.id, t) for t in tag_ids.values()])

    def consent(self, key: str, topic: str, action: str, at: int) -> None:
        self.session.add(ConsentEvent(contact_id=self.ids[key], topic=ConsentTopic(topic), action=ConsentAction(action),
                                      at=days(at), source=ConsentSource.ANIMATOR))
        self.session.flush()

    def assess(self, key: str, credibility: str, interest: str, at: int) -> None:
        self.session.add(PerceptionAssessment(contact_id=self.ids[key], credibility=Level(credibility),
                                              interest=Level(interest), assessed_at=days(at),
                                              source=AssessmentSource.ANIMATOR))
        self.session.flush()

    def interact(self, key: str, kind: InteractionKind, at: int, event: Event | None = None) -> None:
        contact = self.session.get(Contact, self.ids[key])
        self.session.add(Interaction(kind=kind, occurred_at=days(at), contacts=[contact],
                                     event_id=event.id if event else None))
        self.session.flush()

    def select(self, rule: str) -> set[str]:
        query = contact_ids_query(service.resolve(self.session, rule), NOW)
        found = set(self.session.scalars(query.where(Contact.id.in_(self.ids.values()))))
        return {key for key, contact_id in self.ids.items() if contact_id in found}


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (ISSUE_RULE, "ann"),
        ("all", "ann bob cid dee eve fay"),
        ("not all", ""),
        ("language = fr", "ann bob eve"),  # fr-CA is French; frr is not
        ("language = fr-CA", "bob"),
        ("language != fr", "cid dee fay"),  # an unknown language is not French
        ("not language in (fr, en)", "dee fay"),
        ("target in (member_company, partner)", "ann bob eve"),
        ("target not in (member_company, partner)", "cid dee fay"),
        ("internal", "ann bob eve fay"),
        ("external", "cid"),
        ("not internal and not external", "dee"),
        ("member", "ann eve"),
        ("membership = prospect", "bob"),
        ("membership != member", "bob cid dee fay"),
        ("tag = agrifood", "ann bob eve"),
        ("tag in (export, nothing)", "bob"),
        ("tag != agrifood", "cid dee fay"),
        ("consent(newsletter)", "ann dee eve fay"),
        ("consent(events)", ""),
        ("not consent(newsletter)", "bob cid"),
        ("perception = skeptic", "ann bob eve"),
        ("perception = acquired", "cid"),
        ("perception = no_opinion", "dee fay"),
        ("perception in (acquired, no_opinion)", "cid dee fay"),
        ("perception != skeptic", "cid dee fay"),
        ("interaction(kind=visit, within=180d)", "cid eve"),
        ("interaction(kind=visit, within=6m)", "cid eve"),
        ("interaction(kind=visit, within=1y)", "bob cid eve"),
        ("interaction(kind=visit)", "bob cid eve"),  # the planned visit of fay does not count yet
        ("interaction(since=2026-05-01)", "ann cid"),
        ("interaction(event=%(event)s)", "ann"),
        ("interaction(kind=visit, event=%(event)s)", ""),
        ("not interaction()", "dee fay"),
        ("created(within=30d)", "bob dee eve"),
        ("created(since=2026-03-01)", "bob dee eve fay"),
        ("city = angers", "ann cid"),
        ("city != Angers", "bob dee eve fay"),
        ("email_domain = acme.example", "ann bob eve"),
        ("email_domain = uni.example", ""),
        ("email_domain != acme.example", "cid dee fay"),
        ("country = FR", "ann eve"),
        ("country != FR", "bob cid dee fay"),
        ("organisation.kind = university", "cid"),
        ("organisation.size in (small, large)", "ann cid eve"),
        ("skeptics", "ann bob eve"),
        ("newsletter_subscribers", "ann dee eve fay"),
        ("members", "ann eve"),
        ("member_company", "ann eve"),
        ("everyone", "ann bob cid dee eve fay"),
        ("(language = fr or city = angers) and not tag = export", "ann cid eve"),
    ],
)
def test_rules_select_the_right_contacts(world: World, rule: str, expected: str) -> None:
    assert world.select(rule % {"event": world.event.id} if "%(" in rule else rule) == set(expected.split())


# What each built-in selects in the World above, worked out by hand from its contacts; a
# built-in not listed selects nobody there (every other target group, opponents, indifferent).
BUILTIN_MEMBERS = {
    "everyone": "ann bob cid dee eve fay",
    "members": "ann eve",
    "internal": "ann bob eve fay",  # dee has no target: neither internal nor external
    "external": "cid",
    "newsletter_subscribers": "ann dee eve fay",  # bob withdrew; dee's opt-in is the later row
    "skeptics": "ann bob eve",
    "acquired": "cid",  # assessed skeptic before, acquired since
    "no_opinion": "dee fay",  # never assessed, or assessed without an opinion
    "staff": "fay",
    "member_company": "ann eve",
    "partner": "bob",
    "investor": "cid",
}


def test_every_builtin_segment_resolves_and_counts(world: World) -> None:
    names = {"opponents", "indifferent", "skeptics", "acquired", "no_opinion", "internal", "external", "members",
             "newsletter_subscribers", "everyone", "member_company", "media", "research"}
    assert names <= set(BUILTINS) and set(BUILTIN_MEMBERS) <= set(BUILTINS)
    for name, builtin in BUILTINS.items():
        assert service.resolve(world.session, name) == builtin.rule == parse(builtin.rule_text)
        expected = set(BUILTIN_MEMBERS.get(name, "").split())
        assert world.select(name) == expected, name
        # the session holds the World's contacts only (rolled back after each test)
        assert service.count(world.session, name, now=NOW) == len(expected), name


# ---- service ------------------------------------------------------------------------------


def test_preview_counts_and_samples(world: World) -> None:
    data = service.preview(world.session, "target = 'entreprise membre'", sample=1, now=NOW)
    assert data["count"] == 2
    assert data["rule"] == "target = member_company"
    assert data["sample"] == [{"id": world.ids["ann"], "email": "ann@acme.example", "name": "Ann", "language": "fr",
                               "target": "member_company"}]
    assert service.preview(world.session, "skeptics", now=NOW)["count"] == 3
    assert service.preview(world.session, "skeptics", sample=0, now=NOW)["sample"] == []


def test_the_compiled_query_is_a_subquery_for_set_based_writes(world: World) -> None:
    """The campaign engine's shape: INSERT … SELECT from the segment, no loop in Python."""
    marker = tags.ids(world.session, ["segment marker"])["segment marker"]
    members = contact_ids_query(parse("language = fr and consent(newsletter)"), NOW).subquery()
    world.session.execute(
        insert(contact_tags).from_select(["contact_id", "tag_id"], select(members.c.id, literal(marker)))
    )
    assert world.select("tag = 'segment marker'") == {"ann", "eve"}
    assert list(contact_ids_query("member").selected_columns.keys()) == ["id"]


def test_saved_segments_are_evaluated_when_used(world: World) -> None:
    session = world.session
    saved = service.create(session, "Agrifood Skeptics", "tag = agrifood and perception = sceptique",
                           "to convince")
    assert (saved.name, saved.rule, saved.description) == ("agrifood_skeptics", "tag = agrifood and perception = skeptic",
                                                           "to convince")
    assert world.select("agrifood_skeptics") == {"ann", "bob", "eve"}
    assert world.select("Agrifood_Skeptics") == {"ann", "bob", "eve"}
    world.assess("bob", "high", "high", -1)  # bob is convinced: he leaves the segment
    assert world.select("agrifood_skeptics") == {"ann", "eve"}
    assert service.get(session, "agrifood skeptics").id == saved.id
    rows = service.list_all(session, counts=True, now=NOW)
    assert rows[0] == service.describe(saved) | {"count": service.count(session, saved.rule, now=NOW)}
    assert [r["kind"] for r in rows].count("builtin") == len(BUILTINS)
    assert {r["name"]: r.get("count") for r in rows}["skeptics"] == 2


def test_create_saved_answers_the_stored_segment_and_its_count_now(world: World) -> None:
    session = world.session
    data = service.create_saved(session, "Agri Skeptics", "tag = agrifood and perception = sceptique", "to convince")
    stored = service.get(session, "agri_skeptics")
    assert data == service.describe(stored) | {"count": 3}
    assert list(data) == ["name", "kind", "rule", "description", "id", "created_at", "count"]
    assert (data["name"], data["rule"]) == ("agri_skeptics", "tag = agrifood and perception = skeptic")
    assert service.create_saved(session, "nobody", "language = pt-BR")["count"] == 0
    with pytest.raises(SegmentError):
        service.create_saved(session, "oops", "langage = fr")
    assert session.scalars(select(Segment.name).order_by(Segment.name)).all() == ["agri_skeptics", "nobody"]


def test_saving_refuses_bad_rules_and_names_and_changes_nothing(world: World) -> None:
    session = world.session
    service.create(session, "francophones", "language = fr")
    with pytest.raises(Conflict, match="already exists"):
        service.create(session, "Francophones", "language = en")
    with pytest.raises(Conflict, match="built-in"):
        service.create(session, "Skeptics", "all")
    with pytest.raises(ValidationError, match="word of the rule language"):
        service.create(session, "member", "all")
    with pytest.raises(ValidationError, match="invalid segment name"):
        service.create(session, "???", "all")
    with pytest.raises(SegmentError, match="rule:1: unknown field or function 'langage'"):
        service.create(session, "oops", "langage = fr")
    assert session.scalars(select(Segment.name)).all() == ["francophones"]
    with pytest.raises(NotFound):
        service.get(session, "oops")


def test_resolve_tells_names_from_rules(world: World) -> None:
    session = world.session
    service.create(session, "agri", "tag = agrifood")
    assert service.resolve(session, "agri") == parse("tag = agrifood")
    assert service.resolve(session, "  member ") == Call("member")
    assert service.resolve(session, "skeptics") == parse("perception = skeptic")
    assert service.resolve(session, parse("all")) == Call("all")
    with pytest.raises(SegmentError) as caught:
        service.resolve(session, "skeptix")
    message = str(caught.value)
    assert message.startswith("rule:1: 'skeptix' is neither a segment nor a rule (did you mean skeptics?)")
    assert "agri" in message and "consent()" in message
    with pytest.raises(SegmentError, match="rule:10: unknown target group"):
        service.resolve(session, "target = agri")


def test_a_saved_rule_the_language_no_longer_accepts_names_its_segment(world: World) -> None:
    world.session.add(Segment(name="legacy", rule="colour = blue"))
    world.session.flush()
    with pytest.raises(SegmentError) as caught:
        service.resolve(world.session, "legacy")
    assert str(caught.value).startswith("segment legacy: rule:1: unknown field or function 'colour'; allowed: all")


# ---- PostgreSQL: the planner knows how big a perception segment is ---------------------------


class _Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def _scan_rows(plan: dict[str, Any], relation: str) -> list[float]:
    found = [plan["Plan Rows"]] if plan.get("Relation Name") == relation else []
    for child in plan.get("Plans", []):
        found += _scan_rows(child, relation)
    return found


def test_postgresql_has_statistics_on_the_perception_segment_expression(session: Session) -> None:
    """Migration 0002's statistics match what crm.perception sends; else `perception = …` plans badly."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("extended statistics are a PostgreSQL feature")
    people = [Contact(email=f"stat{n}@example.org") for n in range(400)]
    session.add_all(people)
    session.flush()
    session.add_all(
        PerceptionAssessment(contact_id=p.id, credibility=Level.LOW, interest=Level.HIGH if n % 4 else Level.LOW,
                             assessed_at=NOW, source=AssessmentSource.SURVEY)
        for n, p in enumerate(people)
    )
    session.flush()
    session.execute(text("ANALYZE perception_assessments"))
    query = select(func.count()).select_from(PerceptionAssessment).where(
        segment_case(PerceptionAssessment) == PerceptionSegment.SKEPTIC.value
    )
    plan = session.execute(_Explain(query)).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    estimates = _scan_rows(plan[0]["Plan"], "perception_assessments")
    assert estimates and estimates[0] > 150, estimates  # 300 skeptics; without statistics: 2
