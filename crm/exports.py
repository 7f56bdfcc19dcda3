"""Contact export to CSV: safe to open in a spreadsheet, and read back by the import as is.

Every field of a contact and of its organisation is written, custom fields with their type
in the header ("Effectif [number]"), so that importing the file into an empty database and
exporting again gives the same bytes. Every cell, headers included, goes through
csv_safety.neutralise (the import undoes it).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import contacts, custom_fields, fields
from crm.csv_safety import neutralise
from crm.imports.headers import ORGANISATION_FIELDS, typed_label
from crm.models import Contact, CustomField

_BATCH = 2000

# Headers the import maps back to the same fields (crm.imports.headers).
HEADERS = (
    [name for name in contacts.PARSERS] + ["organisation"] + [f"organisation_{n}" for n in ORGANISATION_FIELDS] + ["tags"]
)


def _cells(contact: Contact, custom: list[CustomField]) -> list[str]:
    cells = []
    for name in contacts.PARSERS:
        value = getattr(contact, name)
        cells.append(fields.format_custom(value) if value is not None else "")
    org = contact.organisation
    cells.append(org.name if org else "")
    for name in ORGANISATION_FIELDS:
        value = getattr(org, name) if org else None
        cells.append(str(value) if value is not None else "")
    cells.append("; ".join(t.name for t in contact.tags))
    by_field = {v.field_id: v for v in contact.field_values}
    for definition in custom:
        value = by_field.get(definition.id)
        cells.append(fields.format_custom(custom_fields.value_of(value, definition.type)) if value else "")
    return [neutralise(str(c)) for c in cells]


def rows(session: Session) -> Iterator[list[str]]:
    """Header, then one row per contact, read in batches (constant memory)."""
    custom = list(session.scalars(select(CustomField).order_by(CustomField.id)))
    yield [neutralise(h) for h in HEADERS + [typed_label(f.label, f.type) for f in custom]]
    last_id = 0
    while True:
        batch = session.scalars(
            select(Contact)
            .options(selectinload(Contact.tags), selectinload(Contact.field_values))
            .where(Contact.id > last_id)
            .order_by(Contact.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        for contact in batch:
            yield _cells(contact, custom)
        last_id = batch[-1].id
        session.expunge_all()


def export_contacts(session: Session, out: TextIO, *, delimiter: str = ",") -> int:
    """Write every contact; returns how many."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    count = -1
    for row in rows(session):
        writer.writerow(row)
        count += 1
    return count

