"""Property: export -> import into an empty database -> export gives the same contacts and the
same bytes (both databases). Contacts are made through the service every way in uses."""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm import contacts, custom_fields, migrate, organisations
from crm.db import make_engine
from crm.csvfiles.exports import export_contacts
from crm.csvfiles.imports import import_contacts
from crm.models import Contact, FieldType, Membership, OrganisationKind, OrganisationSize, TargetGroup

# Accents (composed and decomposed), quotes, delimiters, formula starters.
WORD = "aé" + "e\u0301" + "ÉçÀ'\";,=+-@ xZ"
one_line = st.text(alphabet=WORD, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
multi_line = st.text(alphabet=WORD + "\n", min_size=1, max_size=12).filter(lambda s: s.strip() != "")
day = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
LABELS = ["Effectif", "=SUM(A1)", "@SUM(1+1)*cmd|' /C calc'!A0=1", "-Moins", "Adhérent CA", "'Cité"]


def value_for(kind: FieldType) -> st.SearchStrategy[str]:
    if kind is FieldType.NUMBER:
        return st.floats(allow_nan=False, allow_infinity=False).map(repr)
    if kind is FieldType.DATE:
        return day.map(date.isoformat)
    if kind is FieldType.BOOLEAN:
        return st.sampled_from(["yes", "no"])
    return multi_line


@st.composite
def bases(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=3))
    defined = {label: draw(st.sampled_from(list(FieldType))) for label in labels}
    orgs = draw(st.lists(
        st.fixed_dictionaries({
            "name": one_line.filter(lambda s: not s.strip().isdigit() and not s.strip().startswith("#")),
            "kind": st.sampled_from(list(OrganisationKind)),
            "country": st.sampled_from([None, "FR", "MA"]),
            "sector": st.one_of(st.none(), one_line),
            "region": st.one_of(st.none(), one_line),
            "website": st.one_of(st.none(), st.just("https://example.org/=x")),
            "size": st.one_of(st.none(), st.sampled_from(list(OrganisationSize))),
        }),
        max_size=2, unique_by=lambda o: organisations.key(unicodedata.normalize("NFC", o["name"])),
    ))
    people = []
    for index in range(draw(st.integers(1, 5))):
        since = draw(st.one_of(st.none(), day))
        person = {
            "values": {
                "email": draw(st.one_of(st.none(), st.sampled_from(["", "=", "+", "-x", "o'", "@"]).map(lambda p, i=index: f"{p}p{i}@example.org".lstrip("@")))),
                "first_name": draw(st.one_of(st.none(), one_line)),
                "last_name": draw(st.one_of(st.none(), st.sampled_from(["Dupont", "Dupont"]), one_line)),
                "phone": draw(st.one_of(st.none(), st.sampled_from(["+33 1 23 45 67 89", "01 23 45 67 89", "-1234"]))),
                "language": draw(st.one_of(st.none(), st.sampled_from(["fr", "en", "ar", "pt-BR"]))),
                "position": draw(st.one_of(st.none(), one_line)),
                "city": draw(st.one_of(st.none(), st.sampled_from(["Béziers", "Be\u0301ziers"]), one_line)),
                "target": draw(st.one_of(st.none(), st.sampled_from(list(TargetGroup)))),
                "membership": draw(st.one_of(st.none(), st.sampled_from(list(Membership)))),
                "member_since": since.isoformat() if since else None,
                "member_until": draw(st.one_of(st.none(), st.dates(min_value=since or date(1900, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat))),
                "notes": draw(st.one_of(st.none(), multi_line)),
            },
            "organisation": draw(st.one_of(st.none(), st.sampled_from([o["name"] for o in orgs]))) if orgs else None,
            "tags": draw(st.lists(st.text(alphabet="abé=-@ ", min_size=1, max_size=6).filter(lambda s: s.strip()), max_size=2)),
            "custom": {label: draw(value_for(kind)) for label, kind in defined.items() if draw(st.booleans())},
        }
        if not (person["values"]["email"] or (person["values"]["first_name"] or "").strip() or (person["values"]["last_name"] or "").strip()):
            person["values"]["last_name"] = "Sans-Adresse"
        people.append({**person, "values": {k: (str(v) if v is not None else None) for k, v in person["values"].items()}})
    return {"defined": defined, "orgs": orgs, "people": people}


def snapshot(session: Session) -> list[dict[str, Any]]:
    """Every contact as plain data, without ids and times."""
    rows = []
    for contact in session.query(Contact).order_by(Contact.id):
        data = contacts.summary(contact)
        data.pop("id")
        data["custom"] = custom_fields.values(session, contact.id)
        data["org"] = organisations.summary(contact.organisation) if contact.organisation else None
        if data["org"]:
            data["org"].pop("id")
        rows.append(data)
    return rows


@pytest.fixture
def empty(fresh_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(base=bases())
def test_export_import_export_is_exact(session: Session, empty: Engine, base: dict[str, Any]) -> None:
    nested = session.begin_nested()
    try:
        for label, kind in base["defined"].items():
            custom_fields.define(session, label, kind)
        for org in base["orgs"]:
            organisations.add(session, org["name"], **{k: v for k, v in org.items() if k != "name"})
        for person in base["people"]:
            contacts.add(session, person["values"], organisation=person["organisation"], add_tags=person["tags"], custom=person["custom"])
        first = io.StringIO()
        export_contacts(session, first)
        for row in csv.reader(io.StringIO(first.getvalue(), newline="")):  # formula-safe, headers too
            assert not [cell for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], row
        before = snapshot(session)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "export.csv"
            path.write_text(first.getvalue(), encoding="utf-8-sig", newline="")
            same = import_contacts(session, path)  # into the same database: nothing changes
            assert (same.created, same.updated, same.rejected) == (0, 0, [])
            with empty.connect() as connection, connection.begin() as transaction:
                other = Session(bind=connection, join_transaction_mode="create_savepoint")
                result = import_contacts(other, path)
                assert (result.created, result.rejected) == (len(base["people"]), [])
                second = io.StringIO()
                export_contacts(other, second)
                after = snapshot(other)
                other.close()
                transaction.rollback()
        assert after == before
        assert second.getvalue() == first.getvalue()
    finally:
        nested.rollback()
