"""Issue 9: an import never erases what is known with a blank cell or a missing column (README:
"blank cells never erase what is known"), on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from crm import contacts, custom_fields, organisations
from crm.csvfiles.imports import import_contacts

HEADER = ("Email,First name,Last name,Phone,Position,City,Language,Target,Membership,Member since,Member until,"
          "Notes,Organisation,Organization kind,Organization country,Tags,Effectif")
FULL = ("ann@example.org,Ann,Martin,+33 1 23 45 67 89,Directrice,Angers,fr,member company,member,2020-01-15,"
        "2030-12-31,a note,Acme,company,FR,agrifood; export,12")
KNOWN = {
    "first_name": "Ann", "last_name": "Martin", "email": "ann@example.org", "phone": "+33 1 23 45 67 89",
    "language": "fr", "position": "Directrice", "city": "Angers", "target": "member_company",
    "membership": "member", "member_since": "2020-01-15", "member_until": "2030-12-31", "notes": "a note",
    "organisation": "Acme", "organisation_kind": "company", "organisation_country": "FR",
    "tags": ["agrifood", "export"], "custom": {"Effectif": 12.0},
}


def known(session: Session) -> dict[str, Any]:
    """Everything stored about Ann, read back from the database."""
    session.expire_all()
    ann = contacts.get(session, "ann@example.org")
    org = ann.organisation
    return {
        **{n: (str(v.value if hasattr(v, "value") else v) if v is not None else None)
           for n in contacts.PARSERS for v in [getattr(ann, n)]},
        "organisation": org.name if org else None,
        "organisation_kind": org.kind.value if org and org.kind else None,
        "organisation_country": org.country if org else None,
        "tags": sorted(t.name for t in ann.tags),
        "custom": custom_fields.values(session, ann.id),
    }


@pytest.mark.parametrize(
    ("file", "changed"),
    [
        (f"{HEADER}\nann@example.org,,,,,,,,,,,,,,,,\n", {}),  # every column, every cell blank
        (f"{HEADER}\nann@example.org,  ,,,,,,,,,,, ,,,,\n", {}),  # blank is blank with spaces too
        ("Email\nann@example.org\n", {}),  # only the address: every other column absent
        ("Email,First name,Phone\nANN@example.org,,\n", {}),  # no Organisation column, blank names and phone
        ("Email,Organisation,Organization kind\nann@example.org,acme,\n", {}),  # same organisation, blank kind
        # Something changes: the contact is written again, and the blanks around the change still keep.
        (f"{HEADER}\nann@example.org,,,+33 9 99 99 99 99,,,,,,,,,,,,,\n", {"phone": "+33 9 99 99 99 99"}),
        ("Email;Ville;Société;Langue\nann@example.org;Nantes;;\n", {"city": "Nantes"}),
    ],
    ids=["all-blank", "spaces", "email-only", "no-organisation-column", "organisation-kind-blank",
         "phone-changes", "city-changes-organisation-blank"],
)
def test_blank_cells_and_absent_columns_never_erase_what_is_known(session: Session, tmp_path: Path, file: str,
                                                                  changed: dict[str, str]) -> None:
    custom_fields.define(session, "Effectif", custom_fields.FieldType.NUMBER)
    first = tmp_path / "first.csv"
    first.write_text(f"{HEADER}\n{FULL}\n", encoding="utf-8")
    assert import_contacts(session, first).created == 1
    assert known(session) == KNOWN  # the starting point is what the file says

    again = tmp_path / "again.csv"
    again.write_text(file, encoding="utf-8")
    result = import_contacts(session, again)
    assert known(session) == KNOWN | changed
    assert (result.created, result.updated, result.skipped, result.rejected) == (0, int(bool(changed)),
                                                                                 int(not changed), [])
    assert organisations.get(session, "Acme").kind.value == "company"
