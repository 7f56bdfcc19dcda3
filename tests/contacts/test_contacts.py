"""Contacts service: unique emails, validation naming the field, tags, typed custom fields, UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from crm import contacts, custom_fields
from crm.errors import Conflict, NotFound, ValidationError
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact, FieldType, TargetGroup


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0


# ---- unique email -------------------------------------------------------------------------


def test_same_email_in_another_case_is_a_conflict(session: Session) -> None:
    first = contacts.add(session, {"email": "Ann.Martin@Example.org", "first_name": "Ann"})
    assert first.email == "Ann.Martin@example.org"  # domain normalised, local part kept
    with pytest.raises(Conflict, match=f"#{first.id}"):
        contacts.add(session, {"email": "ann.martin@EXAMPLE.ORG"})
    other = contacts.add(session, {"email": "bob@example.org"})
    with pytest.raises(Conflict):
        contacts.edit(session, other.id, {"email": "ANN.MARTIN@example.org"})
    assert _count(session) == 2
    # Editing a contact to its own address in another case is not a conflict.
    assert contacts.edit(session, first.id, {"email": "ann.martin@example.org"}).email == "ann.martin@example.org"


def test_same_non_ascii_email_twice_is_a_conflict_not_a_crash(session: Session) -> None:
    """SQLite's lower() folds ASCII only: the look-up must lower like the unique index does."""
    contacts.add(session, {"email": "Emile.Durand@école.fr"})
    with pytest.raises(Conflict):
        contacts.add(session, {"email": "Emile.Durand@école.fr"})
    assert contacts.get(session, "Emile.Durand@école.fr").email == "Emile.Durand@école.fr"


def test_unique_email_index_in_the_database(session: Session) -> None:
    session.execute(insert(Contact).values(email="dup@example.org"))
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(insert(Contact).values(email="DUP@Example.ORG"))
    # The savepoint was rolled back; the outer transaction goes on.
    assert session.scalar(select(func.count()).select_from(Contact).where(func.lower(Contact.email) == "dup@example.org")) == 1
    session.execute(insert(Contact).values(email=None, last_name="No mail 1"))
    session.execute(insert(Contact).values(email=None, last_name="No mail 2"))  # NULLs never collide
    assert _count(session) == 3


def test_get_by_id_or_email(session: Session) -> None:
    ann = contacts.add(session, {"email": "ann@example.org"})
    assert contacts.get(session, ann.id) is ann
    assert contacts.get(session, str(ann.id)) is ann
    assert contacts.get(session, " ANN@example.org ") is ann
    with pytest.raises(NotFound):
        contacts.get(session, "nobody@example.org")
    with pytest.raises(NotFound):
        contacts.get(session, 999_999)


# ---- validation names the field -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@example.org", "phone": "call me"}, "phone"),
        ({"email": "a@example.org", "language": "xx-nowhere-99"}, "language"),
        ({"email": "a@example.org", "target": "martians"}, "target"),
        ({"email": "a@example.org", "membership": "maybe"}, "membership"),
        ({"email": "a@example.org", "member_since": "31/02/2026"}, "member_since"),
        ({"email": "a@example.org", "member_since": "2026-05-01", "member_until": "2026-01-01"}, "member_until"),
        ({"email": "a@example.org", "first_name": "x" * 121}, "first_name"),
        ({"email": "a@example.org", "favourite_colour": "blue"}, "favourite_colour"),
        ({"phone": "+33 1 23 45 67 89"}, "email"),  # neither an address nor a name
    ],
)
def test_add_rejects_bad_values_naming_the_field(session: Session, values: dict[str, str], field: str) -> None:
    before = _count(session)
    with pytest.raises(ValidationError) as caught:
        contacts.add(session, values)
    assert caught.value.where == field
    assert str(caught.value).startswith(f"{field}: ")
    assert _count(session) == before


def test_edit_rejects_bad_values_naming_the_field_and_changes_nothing(session: Session) -> None:
    ann = contacts.add(session, {"email": "ann@example.org", "phone": "+33 1 23 45 67 89", "city": "Lyon"})
    for values, clear, field in [
        ({"email": "ann@"}, (), "email"),
        ({"target": "nobody"}, (), "target"),
        ({}, ("shoe_size",), "clear"),
    ]:
        with pytest.raises(ValidationError) as caught:
            contacts.edit(session, ann.id, values, clear=clear)
        assert caught.value.where == field
    session.expire_all()
    again = contacts.get(session, ann.id)
    assert (again.email, again.city, again.target) == ("ann@example.org", "Lyon", None)


def test_add_and_edit_parse_people_s_words(session: Session) -> None:
    ann = contacts.add(
        session,
        {"email": "ann@example.org", "language": "Français", "target": "entreprise membre",
         "membership": "adhérent", "member_since": "01/09/2024", "phone": "+33 1 23 45 67 89"},
        organisation="Acme Robotics",
    )
    assert (ann.language, ann.target, ann.member_since) == ("fr", TargetGroup.MEMBER_COMPANY, date(2024, 9, 1))
    assert ann.organisation is not None and ann.organisation.name == "Acme Robotics"
    edited = contacts.edit(session, ann.id, {"city": "Lyon", "phone": ""}, clear=["member_since"])
    assert edited.city == "Lyon"
    assert edited.phone == "+33 1 23 45 67 89"  # a blank value is ignored, not a clear
    assert edited.member_since is None


# ---- tags -------------------------------------------------------------------------------------


def test_tags_are_lower_case_added_removed_and_filtered(session: Session) -> None:
    ann = contacts.add(session, {"email": "ann@example.org"}, add_tags=["Agrifood", "export", "AGRIFOOD"])
    bob = contacts.add(session, {"email": "bob@example.org"}, add_tags=["export"])
    assert [t.name for t in ann.tags] == ["agrifood", "export"]
    assert [c.id for c in contacts.list_page(session, tag="AgriFood")] == [ann.id]
    assert [c.id for c in contacts.list_page(session, tag="export")] == [ann.id, bob.id]
    contacts.edit(session, ann.id, {}, add_tags=["ag 2026"], remove_tags=["EXPORT"])
    assert [t.name for t in contacts.get(session, ann.id).tags] == ["ag 2026", "agrifood"]
    assert [c.id for c in contacts.list_page(session, tag="export")] == [bob.id]
    with pytest.raises(ValidationError) as caught:
        contacts.edit(session, ann.id, {}, add_tags=["x" * 81])
    assert caught.value.where == "tags"


# ---- typed custom fields ------------------------------------------------------------------------


@pytest.fixture
def typed_fields(session: Session) -> None:
    custom_fields.define(session, "Budget", FieldType.NUMBER)
    custom_fields.define(session, "Visited on", FieldType.DATE)
    custom_fields.define(session, "Active", FieldType.BOOLEAN)


def test_custom_values_are_stored_typed(session: Session, typed_fields: None) -> None:
    ann = contacts.add(
        session, {"email": "ann@example.org"},
        custom={"Budget": "1 200,5", "Visited on": "31/12/2026", "Active": "oui", "Remark": "met at AG"},
    )
    assert custom_fields.values(session, ann.id) == {
        "Active": True, "Budget": 1200.5, "Remark": "met at AG", "Visited on": date(2026, 12, 31),
    }
    contacts.edit(session, ann.id, {}, custom={"budget": "3", "Active": "no"})
    values = custom_fields.values(session, ann.id)
    assert (values["Budget"], values["Active"]) == (3.0, False)
    assert contacts.describe(session, ann)["custom"]["Budget"] == "3"


@pytest.mark.parametrize(
    ("label", "raw", "message"),
    [("Budget", "a lot", "not a number"), ("Visited on", "2026-13-01", "invalid date"), ("Active", "maybe", "yes/no")],
)
def test_custom_value_of_the_wrong_type_names_the_field(
    session: Session, typed_fields: None, label: str, raw: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        with session.begin_nested():
            contacts.add(session, {"email": "ann@example.org"}, custom={label: raw})
    assert caught.value.where == label
    assert message in caught.value.message
    assert contacts.find_by_email(session, "ann@example.org") is None


def test_redefining_a_field_with_another_type_is_refused(session: Session, typed_fields: None) -> None:
    assert custom_fields.define(session, "budget", FieldType.NUMBER).key == "budget"
    with pytest.raises(ValidationError, match="already exists as number"):
        custom_fields.define(session, "Budget", FieldType.DATE)


# ---- UTC datetimes ------------------------------------------------------------------------------


def test_datetimes_come_back_aware_utc(session: Session) -> None:
    ann = contacts.add(session, {"email": "ann@example.org"})
    paris_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=paris_summer)
    session.add(ConsentEvent(contact_id=ann.id, topic=ConsentTopic.NEWSLETTER, action=ConsentAction.OPT_IN,
                             source=ConsentSource.ANIMATOR, at=moment))
    session.flush()
    session.expire_all()
    event = session.scalars(select(ConsentEvent).where(ConsentEvent.contact_id == ann.id)).one()
    assert event.at.utcoffset() == timedelta(0)
    assert event.at == moment
    assert (event.at.hour, event.at.microsecond) == (12, 123456)
    assert session.scalar(select(Contact.created_at).where(Contact.id == ann.id)).tzinfo is not None
    # Comparisons in SQL use the same instant whatever offset the parameter carries.
    assert session.scalar(select(func.count()).select_from(ConsentEvent).where(ConsentEvent.at == moment.astimezone(timezone.utc))) == 1


def test_naive_datetime_is_refused(session: Session) -> None:
    ann = contacts.add(session, {"email": "ann@example.org"})
    with pytest.raises(StatementError, match="naive datetime"):
        with session.begin_nested():
            session.add(ConsentEvent(contact_id=ann.id, topic=ConsentTopic.EVENTS, action=ConsentAction.OPT_IN,
                                     source=ConsentSource.ANIMATOR, at=datetime(2026, 7, 1, 14, 30)))
            session.flush()
