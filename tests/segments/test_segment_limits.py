"""Rule size: refused at its place before any database sees it, and the largest rule of
every shape runs on SQLite and PostgreSQL (count, preview, INSERT … SELECT)."""

from __future__ import annotations

import pytest
from babel.localedata import locale_identifiers
from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session

from crm import fields
from crm.models import Contact, Segment, Tag, contact_tags
from crm.segments import SegmentError, from_json, limits, parse, service, to_text
from tests.segments.test_segments import NOW, World

L, N, V, D = limits.MAX_LIST_VALUES, limits.MAX_CONDITIONS, limits.MAX_VALUES, limits.MAX_DEPTH


def _list(field: str, values: list[str], op: str = "in") -> str:
    return f"{field} {op} ({', '.join(values)})"


def _fake(prefix: str, count: int, suffix: str = "") -> list[str]:
    return [f"{prefix}{i}{suffix}" for i in range(count)]


# ---- over a limit: refused, with the place ---------------------------------------------------


def test_a_list_of_too_many_values_is_refused_at_the_first_value_too_many() -> None:
    rule = _list("city", _fake("c", L + 1))
    with pytest.raises(SegmentError) as caught:
        parse(rule)
    assert caught.value.where == f"rule:{rule.index(f'c{L}') + 1}"
    assert caught.value.message == (f"more than {L} values in one in (…) list; tag those contacts and select "
                                    "the tag instead")
    parse(_list("city", _fake("c", L)))  # exactly at the limit


def test_too_many_conditions_are_refused_at_the_condition_too_many() -> None:
    rule = " and ".join(f"city != c{i}" for i in range(N + 1))
    with pytest.raises(SegmentError) as caught:
        parse(rule)
    assert caught.value.where == f"rule:{rule.index(f'city != c{N}') + 1}"
    assert caught.value.message.startswith(f"more than {N} conditions in one rule; write it shorter")
    parse(" or ".join(f"city = c{i}" for i in range(N)))


def test_too_many_values_in_all_are_refused_at_the_value_too_many() -> None:
    per = V // 4
    rule = " or ".join(_list("email_domain", _fake(f"d{j}x", per, ".example")) for j in range(4))
    parse(rule)
    rule += " or city = extra"
    with pytest.raises(SegmentError) as caught:
        parse(rule)
    assert caught.value.where == f"rule:{rule.index('extra') + 1}"
    assert caught.value.message.startswith(f"more than {V} values in one rule")


def test_too_deep_and_too_long_are_refused() -> None:
    with pytest.raises(SegmentError) as caught:
        parse("not " * (D + 1) + "member")
    assert (caught.value.where, caught.value.message) == (
        f"rule:{4 * D + 1}", f"rule nested more than {D} levels deep; remove parentheses or nots")
    parse("not " * D + "member")
    long = "city = " + "x" * limits.MAX_CHARACTERS
    with pytest.raises(SegmentError) as caught:
        parse(long)
    assert caught.value.where == f"rule:{limits.MAX_CHARACTERS + 1}"
    assert caught.value.message.startswith(f"rule longer than 20,000 characters ({len(long):,})")


def test_the_json_form_has_the_same_limits() -> None:
    with pytest.raises(SegmentError) as caught:
        from_json({"field": "city", "op": "in", "value": _fake("c", L + 1)})
    assert caught.value.where == f"$.value[{L}]"
    with pytest.raises(SegmentError) as caught:
        from_json({"or": [{"field": "city", "value": f"c{i}"} for i in range(N + 1)]})
    assert (caught.value.where, caught.value.message[:31]) == (f"$.or[{N}]", f"more than {N} conditions in one")
    with pytest.raises(SegmentError) as caught:
        from_json({"or": [{"field": "tag", "op": "in", "value": _fake(f"t{j}x", 300)} for j in range(4)]})
    assert caught.value.where == "$.or[3].value[100]"
    nested: dict = {"fn": "member"}
    for _ in range(D + 1):
        nested = {"not": nested}
    with pytest.raises(SegmentError, match=f"nested more than {D} levels"):
        from_json(nested)


# ---- at every limit: runs on both databases ------------------------------------------------------

_LANGUAGES = sorted({fields.language(i) for i in locale_identifiers()} - {"en", "fr", "frr"}
                    - {t for t in (fields.language(i) for i in locale_identifiers()) if t.split("-")[0] in ("en", "fr")})
_SKEPTICS_OR_NEWSLETTER = "(perception = skeptic or (consent(newsletter) and "
LARGEST = {
    "one list of cities": (_list("city", ["angers", *_fake("c", L - 1)]), "ann cid"),
    "one list of email domains": (_list("email_domain", ["acme.example", *_fake("d", L - 1, ".example")]),
                                  "ann bob eve"),
    "one list of languages, not in": (_list("language", ["en", *_LANGUAGES[: L - 1]], "not in"), "ann bob dee eve fay"),
    "one list of tags": (_list("tag", ["export", *_fake("t", L - 1)]), "bob"),
    "the longest text": (_list("city", ["angers", *_fake("c" * 33, L - 1)]), "ann cid"),
    f"{N} conditions with and, {V} values": (
        " and ".join([_list("email_domain", ["acme.example", *_fake("d", V // N - 1, ".example")])]
                     + [_list("city", _fake(f"c{j}x", V // N), "not in") for j in range(N - 1)]),
        "ann bob eve"),
    f"{N} conditions with or, {V} values": (
        " or ".join([_list("city", ["angers", *_fake("c", V // N - 1)])]
                    + [_list("email_domain", _fake(f"d{j}x", V // N, ".example")) for j in range(N - 1)]),
        "ann cid"),
    f"{N} heavy conditions": (" and ".join(["perception in (skeptic, no_opinion)", "not consent(events)"] * (N // 2)),
                              "ann bob dee eve fay"),
    f"{N} functions with or": (" or ".join(f"interaction(kind=visit, within={j + 1}d, since=2026-01-01)"
                                           for j in range(N)), "cid eve"),
    f"{D} levels of not": ("not " * D + "city = angers", "ann cid"),
    f"{D} levels, the heaviest": (_SKEPTICS_OR_NEWSLETTER * (D // 2) + "perception in (skeptic, no_opinion)"
                                  + "))" * (D // 2), "ann bob dee eve fay"),
    f"{D} levels with lists": ("not (language = en or not (email_domain in (acme.example, b.example) and " * (D // 4)
                               + "consent(newsletter)" + "))" * (D // 4), "ann eve"),
}


@pytest.mark.parametrize("name", list(LARGEST))
def test_the_largest_rules_run_on_each_database(session: Session, name: str) -> None:
    world = World(session)
    text, expected = LARGEST[name]
    rule = parse(text)
    assert parse(to_text(rule)) == rule  # what a saved segment stores reads back
    assert world.select(text) == set(expected.split())
    everyone = service.count(session, rule, now=NOW)
    assert everyone >= len(expected.split())
    assert service.preview(session, rule, sample=3, now=NOW)["count"] == everyone
    # a campaign's INSERT … SELECT nests the rule one level deeper
    marker = Tag(name="limit marker")
    session.add(marker)
    session.flush()
    members = service.contact_ids_query(rule, NOW).subquery()
    session.execute(insert(contact_tags).from_select(
        ["contact_id", "tag_id"],
        select(members.c.id, literal(marker.id)).where(members.c.id.in_(select(Contact.id))),
    ))
    assert world.select("tag = 'limit marker'") == set(expected.split())
    session.execute(delete(contact_tags).where(contact_tags.c.tag_id == marker.id))


def test_a_segment_the_database_cannot_run_is_never_saved(session: Session) -> None:
    World(session)
    with pytest.raises(SegmentError, match=f"more than {L} values"):
        service.save(session, "big", _list("city", _fake("c", 1500)))
    with pytest.raises(SegmentError, match=f"more than {N} conditions"):
        service.save(session, "big", " and ".join(f"city = c{i}" for i in range(500)))
    assert session.scalars(select(Segment.name)).all() == []
    segment, members = service.save(session, "angevins", "city = angers", now=NOW)
    assert (segment.name, members) == ("angevins", 2)


def test_one_bad_stored_segment_does_not_stop_the_listing(session: Session) -> None:
    World(session)
    service.save(session, "angevins", "city = angers")
    session.add_all([Segment(name="too_big", rule=_list("city", _fake("c", 1500))),
                     Segment(name="old_word", rule="langage = fr")])
    session.flush()
    rows = {r["name"]: r for r in service.list_all(session, counts=True, now=NOW)}
    assert rows["angevins"]["count"] == 2 and "error" not in rows["angevins"]
    assert rows["too_big"]["count"] is None
    assert rows["too_big"]["error"].startswith("rule:") and f"more than {L} values" in rows["too_big"]["error"]
    assert rows["old_word"]["error"].startswith("rule:1: unknown field or function 'langage'")
    assert rows["skeptics"]["count"] == 3
    assert service.delete_saved(session, "too big")["name"] == "too_big"
    assert sorted(session.scalars(select(Segment.name))) == ["angevins", "old_word"]


def test_when_the_database_refuses_a_rule_nothing_is_saved_and_the_listing_goes_on(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net under the limits: with them lifted, a rule SQLite cannot parse (too
    deep) is refused by `save` before anything is stored, and counted as an error row."""
    World(session)
    monkeypatch.setattr(limits, "MAX_DEPTH", 1_000)
    deep = "not " * 150 + "city = angers"
    service.save(session, "angevins", "city = angers")
    if session.get_bind().dialect.name == "sqlite":
        with pytest.raises(SegmentError) as caught:
            service.save(session, "deep", deep)
        assert caught.value.where == "rule"
        assert caught.value.message == "the database cannot evaluate this rule (parser stack overflow); make it smaller"
        assert session.scalars(select(Segment.name)).all() == ["angevins"]
        expected: int | None = None
    else:  # PostgreSQL runs it
        assert service.save(session, "deep", deep)[1] == 2
        session.execute(delete(Segment).where(Segment.name == "deep"))
        expected = 2
    session.add(Segment(name="deep", rule=deep))
    session.flush()
    rows = {r["name"]: r for r in service.list_all(session, counts=True, now=NOW)}
    assert rows["deep"]["count"] == expected
    assert ("error" in rows["deep"]) == (expected is None)
    assert rows["angevins"]["count"] == 2 and rows["everyone"]["count"] == 6
