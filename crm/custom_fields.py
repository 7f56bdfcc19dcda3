"""Typed custom fields: definitions, and values stored in the column of their type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from crm import fields
from crm.db import insert_rows
from crm.errors import ValidationError
from crm.models import ContactFieldValue, CustomField, FieldType
from crm.vocabulary import COLUMNS

_CHUNK = 500
_COLUMN = {
    FieldType.TEXT: "text_value",
    FieldType.NUMBER: "number_value",
    FieldType.DATE: "date_value",
    FieldType.BOOLEAN: "bool_value",
}


def define(session: Session, label: str, kind: FieldType = FieldType.TEXT) -> CustomField:
    label = fields.text(label, "field", limit=200)
    key = fields.slug(label)
    if COLUMNS.read(label) is not None:  # 'Courriel', 'Prénom': a column of its own
        raise ValidationError(f"{label!r} is a contact field, not a custom one", "field")
    existing = session.scalar(select(CustomField).where(CustomField.key == key))
    if existing is not None:
        if existing.type is not kind:
            raise ValidationError(f"custom field {key!r} already exists as {existing.type.value}", label)
        return existing
    field = CustomField(key=key, label=label, type=kind)
    session.add(field)
    session.flush()
    return field


def by_key(session: Session) -> dict[str, CustomField]:
    return {f.key: f for f in session.scalars(select(CustomField))}


def ensure(session: Session, labels: Iterable[str]) -> dict[str, CustomField]:
    """key -> field for every label, defining the new ones as text."""
    known = by_key(session)
    for label in labels:
        key = fields.slug(label)
        if key not in known:
            known[key] = define(session, label)
    return known


def row_for(contact_id: int, field: CustomField, value: str | float | date | bool) -> dict[str, object]:
    row: dict[str, object] = {"contact_id": contact_id, "field_id": field.id}
    row.update({column: None for column in _COLUMN.values()})
    row[_COLUMN[field.type]] = value
    return row


def value_of(row: ContactFieldValue, kind: FieldType) -> str | float | date | bool | None:
    return getattr(row, _COLUMN[kind])


def put(session: Session, rows: list[dict[str, object]], *, new_contacts: bool = False) -> None:
    """Upsert values portably: delete the (contact, field) pairs, insert them again.

    ``new_contacts``: the contacts were just created, so there is nothing to delete.
    """
    if not rows:
        return
    if new_contacts:
        insert_rows(session, ContactFieldValue, rows)
        return
    by_field: dict[object, list[object]] = {}
    for row in rows:
        by_field.setdefault(row["field_id"], []).append(row["contact_id"])
    for field_id, contact_ids in by_field.items():
        for start in range(0, len(contact_ids), _CHUNK):
            session.execute(
                delete(ContactFieldValue).where(
                    ContactFieldValue.field_id == field_id,
                    ContactFieldValue.contact_id.in_(contact_ids[start : start + _CHUNK]),
                )
            )
    session.execute(insert(ContactFieldValue), rows)


def values(session: Session, contact_id: int) -> dict[str, str | float | date | bool | None]:
    rows = session.execute(
        select(ContactFieldValue, CustomField)
        .join(CustomField)
        .where(ContactFieldValue.contact_id == contact_id)
        .order_by(CustomField.key)
    )
    return {field.label: value_of(value, field.type) for value, field in rows}


def coerce(known: Mapping[str, CustomField], raw: Mapping[str, str]) -> dict[str, str | float | date | bool]:
    """label/key -> text, checked against each field's type (keys must be defined).

    A blank value gives no value (it is left out), as a blank cell does in an import."""
    result: dict[str, str | float | date | bool] = {}
    for label, text in raw.items():
        if not text.strip():
            continue
        key = fields.slug(label)
        field = known[key]
        result[key] = fields.custom_value(text, field.type, label)
    return result
