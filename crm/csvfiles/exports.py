"""Contact export to CSV: safe to open in a spreadsheet, and read back by the import as is.

Every field of a contact and of its organisation is written, custom fields with their type
in the header ("Effectif [number]"), so that importing the file into an empty database and
exporting again gives the same bytes. Every cell, headers included, goes through
safety.neutralise (the import undoes it).
"""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crm import contacts, custom_fields, fields
from crm.csvfiles.safety import neutralise
from crm.errors import NotFound
from crm.csvfiles.headers import ORGANISATION_FIELDS, typed_label
from crm.models import Contact, CustomField

_BATCH = 2000

# Headers the import maps back to the same fields (crm.csvfiles.headers).
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



@contextmanager
def target_file(output: str) -> Iterator[TextIO]:
    """A text stream (UTF-8 with BOM) onto the export's target, closed and in place on exit.

    A regular file, or a new path, is written beside it and renamed at the end: a failed
    export leaves no half file and never truncates an earlier one (a symbolic link is followed:
    the file it names is replaced, with its permissions, and the link stays). Anything else
    that exists — /dev/stdout, a FIFO, a terminal — is written in place: renaming over it
    would put a plain file where the device was. A write that fails (a full disk, /dev/full)
    raises OSError naming the target (crm.failures tells it).
    """
    try:
        mode: int | None = os.stat(output).st_mode
    except FileNotFoundError:
        mode = None
    try:
        if mode is not None and not stat.S_ISREG(mode):
            with open(output, "w", encoding="utf-8-sig", newline="") as out:
                yield out
            return
        target = Path(os.path.realpath(output))
        if not target.parent.is_dir():
            raise NotFound(f"{output}: the folder {Path(output).parent} does not exist")
        partial = target.with_name(f".{target.name}.part")
        try:
            with open(partial, "w", encoding="utf-8-sig", newline="") as out:
                yield out
            if mode is not None:
                os.chmod(partial, stat.S_IMODE(mode))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = output
        raise
