"""`import_contacts` as a person relies on it: exact counts, what is stored, the messages
that name the line, the column and the fix (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import consent, contacts, custom_fields, organisations
from crm.errors import ImportFileError, ValidationError
from crm.csvfiles.imports import import_contacts
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact, CustomField, Organisation


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def counts(result) -> tuple[int, int, int, int]:  # noqa: ANN001
    return result.created, result.updated, result.skipped, len(result.rejected)


def stored(session: Session, email: str) -> Contact:
    session.expire_all()
    return contacts.get(session, email)


def tag_names(contact: Contact) -> list[str]:
    return [t.name for t in contact.tags]


def all_contacts(session: Session) -> list[tuple[str | None, str | None, str | None, str | None]]:
    session.expire_all()
    found = session.scalars(select(Contact).order_by(Contact.id)).all()
    return [(c.email, c.first_name, c.last_name, c.organisation.name if c.organisation else None) for c in found]


def test_blank_cells_never_erase_what_is_known(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "anne@example.org", "first_name": "Anne", "city": "Angers", "phone": "0102030405"},
                 organisation="ACME", add_tags=["salon"], custom={"Pointure": "38"})
    text = "Courriel;Prénom;Ville;Téléphone;Société;Tags;Pointure\nanne@example.org;;;;;;\n"
    result = import_contacts(session, write(tmp_path, "vide.csv", text))
    assert counts(result) == (0, 0, 1, 0)
    anne = stored(session, "anne@example.org")
    assert (anne.first_name, anne.city, anne.phone) == ("Anne", "Angers", "0102030405")
    assert anne.organisation is not None and anne.organisation.name == "ACME"
    assert tag_names(anne) == ["salon"]
    assert custom_fields.values(session, anne.id) == {"Pointure": "38"}


def test_a_changed_cell_updates_and_keeps_the_rest(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "anne@example.org", "first_name": "Anne", "city": "Angers"}, organisation="ACME")
    text = "Courriel;Ville;Société\nanne@example.org;Nantes;\n"
    result = import_contacts(session, write(tmp_path, "ville.csv", text))
    assert counts(result) == (0, 1, 0, 0)
    anne = stored(session, "anne@example.org")
    assert (anne.first_name, anne.city, anne.organisation.name) == ("Anne", "Nantes", "ACME")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("Angers;;", (0, 0, 1)),  # same city, nothing else
        ("Angers;ACME;", (0, 0, 1)),  # same organisation (another case is the same one)
        ("Angers;Autre SA;", (0, 1, 0)),  # another organisation
        ("Angers;;salon", (0, 0, 1)),  # a tag it has
        ("Angers;;presse", (0, 1, 0)),  # a new tag
    ],
)
def test_what_counts_as_a_change(session: Session, tmp_path: Path, cells: str, expected: tuple[int, int, int]) -> None:
    contacts.add(session, {"email": "anne@example.org", "city": "Angers"}, organisation="Acme", add_tags=["salon"])
    result = import_contacts(session, write(tmp_path, "c.csv", f"email;ville;société;tags\nanne@example.org;{cells}\n"))
    assert counts(result)[:3] == expected


def test_new_organisation_and_tags_are_stored(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "anne@example.org"}, organisation="ACME", add_tags=["salon"])
    text = "email;société;tags\nanne@example.org;Autre SA;presse\n"
    assert counts(import_contacts(session, write(tmp_path, "o.csv", text))) == (0, 1, 0, 0)
    anne = stored(session, "anne@example.org")
    assert anne.organisation.name == "Autre SA"
    assert tag_names(anne) == ["presse", "salon"]  # tags are added, never removed


def test_the_same_address_twice_in_a_file_is_one_contact(session: Session, tmp_path: Path) -> None:
    text = (
        "email;prénom;ville;tags;Pointure\n"
        "Jean.Dupont@Example.org;Jean;Angers;a;40\n"  # 2: created
        "jean.dupont@example.org;;Angers;a;40\n"  # 3: nothing new: skipped
        "JEAN.DUPONT@EXAMPLE.ORG;;Nantes;b;41\n"  # 4: updated
    )
    result = import_contacts(session, write(tmp_path, "d.csv", text))
    assert counts(result) == (1, 1, 1, 0)
    jean = stored(session, "jean.dupont@example.org")
    assert jean.email == "Jean.Dupont@example.org"  # the first spelling is kept (domains are lower-cased)
    assert (jean.first_name, jean.city) == ("Jean", "Nantes")
    assert tag_names(jean) == ["a", "b"]
    assert custom_fields.values(session, jean.id) == {"Pointure": "41"}
    assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_an_existing_contact_seen_twice_counts_each_row(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "anne@example.org", "city": "Angers"})
    contacts.add(session, {"email": "bob@example.org", "city": "Angers"})
    text = ("email;ville\nanne@example.org;Angers\nanne@example.org;Nantes\nANNE@example.org;Nantes\n"
            "bob@example.org;Tours\nbob@example.org;Lyon\n")
    result = import_contacts(session, write(tmp_path, "e.csv", text))
    assert counts(result) == (0, 3, 2, 0)  # each row that changes something counts
    assert stored(session, "anne@example.org").city == "Nantes"
    assert stored(session, "bob@example.org").city == "Lyon"


def test_the_address_is_not_respelled_by_a_later_import(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "Anne.Martin@example.org", "city": "Angers"})
    result = import_contacts(session, write(tmp_path, "a.csv", "email;ville\nanne.martin@EXAMPLE.org;Angers\n"))
    assert counts(result) == (0, 0, 1, 0)
    assert stored(session, "anne.martin@example.org").email == "Anne.Martin@example.org"


def test_contacts_without_address_are_known_by_name_and_organisation(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Prénom;Nom;Société;Ville\n"
        ";Marie;Curie;Institut;Paris\n"
        ";Marie;Curie;Institut;Paris\n"  # a namesake at the same organisation: another contact
        ";Marie;Curie;;Paris\n"  # no organisation: another one
        ";Pierre;Curie;Institut;Paris\n"
    )
    path = write(tmp_path, "n.csv", text)
    assert counts(import_contacts(session, path)) == (4, 0, 0, 0)
    assert all_contacts(session) == [
        (None, "Marie", "Curie", "Institut"),
        (None, "Marie", "Curie", "Institut"),
        (None, "Marie", "Curie", None),
        (None, "Pierre", "Curie", "Institut"),
    ]
    again = import_contacts(session, path)  # the same file again changes nothing
    assert counts(again) == (0, 0, 4, 0)
    moved = "Courriel;Prénom;Nom;Société;Ville\n;marie;CURIE;institut;Lyon\n;Marie;Curie;Institut;\n"
    result = import_contacts(session, write(tmp_path, "m.csv", moved))
    assert counts(result) == (0, 1, 1, 0)  # the first Marie Curie moved; the second is unchanged
    session.expire_all()
    cities = session.scalars(select(Contact.city).order_by(Contact.id)).all()
    assert cities == ["Lyon", "Paris", "Paris", "Paris"]


def test_new_custom_columns_are_created_typed_and_stored(session: Session, tmp_path: Path) -> None:
    text = "email;Effectif [number];Couleur;Adhérent CA [boolean]\na@example.org;12;vert;oui\nb@example.org;;;\n"
    result = import_contacts(session, write(tmp_path, "x.csv", text))
    assert result.new_custom_fields == ["Effectif", "Couleur", "Adhérent CA"]
    assert result.ignored_columns == []
    assert counts(result) == (2, 0, 0, 0)
    types = dict(session.execute(select(CustomField.label, CustomField.type)).all())
    assert {k: v.value for k, v in types.items()} == {"Effectif": "number", "Couleur": "text", "Adhérent CA": "boolean"}
    a = stored(session, "a@example.org")
    assert custom_fields.values(session, a.id) == {"Effectif": 12, "Couleur": "vert", "Adhérent CA": True}
    b = stored(session, "b@example.org")
    assert custom_fields.values(session, b.id) == {}
    again = import_contacts(session, write(tmp_path, "x2.csv", "email;Effectif;Couleur\na@example.org;13;vert\n"))
    assert again.new_custom_fields == []
    assert counts(again) == (0, 1, 0, 0)
    assert custom_fields.values(session, a.id) == {"Effectif": 13, "Couleur": "vert", "Adhérent CA": True}


def test_unnamed_and_unusable_columns_are_reported_in_file_order(session: Session, tmp_path: Path) -> None:
    text = "Pointure;email;;Couleur;\n42;a@example.org;x;vert;y\n"
    kept = import_contacts(session, write(tmp_path, "u.csv", text))
    assert kept.ignored_columns == ["column 3 (no header)", "column 5 (no header)"]
    assert kept.new_custom_fields == ["Pointure", "Couleur"]
    dropped = import_contacts(session, write(tmp_path, "u2.csv", text), keep_extra_columns=False)
    assert dropped.ignored_columns == ["Pointure", "column 3 (no header)", "Couleur", "column 5 (no header)"]
    assert dropped.new_custom_fields == []
    assert counts(dropped) == (0, 0, 1, 0)


def test_a_header_that_is_no_field_name_is_ignored(session: Session, tmp_path: Path) -> None:
    text = "email;???;Couleur\na@example.org;x;vert\n"
    result = import_contacts(session, write(tmp_path, "q.csv", text))
    assert result.ignored_columns == ["???"]
    assert result.new_custom_fields == ["Couleur"]
    assert custom_fields.values(session, stored(session, "a@example.org").id) == {"Couleur": "vert"}


def test_two_columns_for_one_custom_field_stop_the_file(session: Session, tmp_path: Path) -> None:
    text = "email;Couleur préférée;Couleur-préférée\na@example.org;1;2\n"
    with pytest.raises(ImportFileError) as raised:
        import_contacts(session, write(tmp_path, "two.csv", text))
    assert str(raised.value) == (
        "two.csv:1: columns 'Couleur préférée' and 'Couleur-préférée' would be the same custom field "
        "'couleur_preferee': rename one"
    )
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_typed_column_must_match_the_existing_field(session: Session, tmp_path: Path) -> None:
    custom_fields.define(session, "Effectif", custom_fields.FieldType.NUMBER)
    with pytest.raises(ImportFileError) as raised:
        import_contacts(session, write(tmp_path, "t.csv", "\n\nemail;Effectif [date]\na@example.org;2024-01-01\n"))
    assert str(raised.value) == (
        "t.csv:3: column 'Effectif [date]': the custom field 'Effectif' exists as number: "
        "write [number] or rename the column"
    )
    same = import_contacts(session, write(tmp_path, "t2.csv", "email;Effectif [number]\na@example.org;7\n"))
    assert same.new_custom_fields == [] and counts(same) == (1, 0, 0, 0)
    assert custom_fields.values(session, stored(session, "a@example.org").id) == {"Effectif": 7}


def test_rejected_rows_name_line_column_and_fix_in_line_order(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Langue;Pays de l'organisation;Société\n"
        "pas-une-adresse;fr;;\n"  # 2
        'c@example.org;"fr;\n'  # 3: an open quote
        "ok@example.org;fr;;\n"  # 4
        "d@example.org;klingon;;\n"  # 5
        "e@example.org;fr;FR;\n"  # 6: organisation field without organisation
    )
    result = import_contacts(session, write(tmp_path, "r.csv", text))
    lines = [r["line"] for r in result.rejected]
    assert lines == sorted(lines) and lines[0] == 2
    reasons = {r["line"]: r["reason"] for r in result.rejected}
    assert reasons[2].startswith("Courriel: ")
    assert reasons[5].startswith("Langue: unknown language 'klingon'")
    assert reasons[6] == "Pays de l'organisation: an organisation field without an organisation: give its name"
    assert result.created == 1
    assert stored(session, "ok@example.org").language == "fr"


def test_an_unclosed_quote_names_its_column(session: Session, tmp_path: Path) -> None:
    text = 'email;ville;notes\na@example.org;Angers;"oops\nb@example.org;Nantes;fin\nc@example.org;Tours;x\n'
    result = import_contacts(session, write(tmp_path, "q.csv", text))
    assert result.rejected[0]["line"] == 2
    assert result.rejected[0]["reason"].startswith("notes: a quote (\") opens a value that is not closed on this line")


def test_a_line_that_cannot_be_decoded_is_rejected_without_a_column(session: Session, tmp_path: Path) -> None:
    text = "Prénom;Courriel\nHélène;h@example.org\nZoé;z@example.org\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode().replace("Zoé".encode(), "Zoé".encode("cp1252")))
    result = import_contacts(session, path)
    assert [r["line"] for r in result.rejected] == [3]
    assert result.rejected[0]["reason"].startswith("line 3 is not UTF-8")  # the line, no column before it


def test_strict_refuses_the_whole_file_with_the_first_reason(session: Session, tmp_path: Path) -> None:
    text = "email;langue\nok@example.org;fr\nbad@example.org;klingon\nworse;fr\n"
    with pytest.raises(ValidationError) as raised:
        import_contacts(session, write(tmp_path, "s.csv", text), strict=True)
    assert raised.value.where == "s.csv:3"
    assert raised.value.message.startswith("langue: unknown language 'klingon'")
    assert raised.value.message.endswith(" (2 rows rejected; --strict: nothing imported)")
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
    fine = import_contacts(session, write(tmp_path, "ok.csv", "email\nok@example.org\n"), strict=True)
    assert counts(fine) == (1, 0, 0, 0)


def test_organisation_fields_set_keep_and_count(session: Session, tmp_path: Path) -> None:
    organisations.add(session, "ACME", kind="company", country="FR", sector="Agri")
    organisations.add(session, "Stable", kind="company", country="FR")
    text = (
        "email;société;type de structure;pays de l'organisation;secteur de l'organisation\n"
        "a@example.org;ACME;;BE;\n"  # changes ACME's country, keeps its kind and sector
        "b@example.org;acme;;BE;\n"  # agrees
        "c@example.org;Stable;company;FR;\n"  # changes nothing
        "d@example.org;Neuve;university;;Recherche\n"  # a new organisation
    )
    path = write(tmp_path, "org.csv", text)
    dry = import_contacts(session, path, dry_run=True)
    assert dry.organisations_updated == 1 and counts(dry) == (4, 0, 0, 0)
    session.expire_all()
    assert session.scalar(select(Organisation.country).where(Organisation.name == "ACME")) == "FR"
    assert session.scalar(select(func.count()).select_from(Organisation)) == 2
    result = import_contacts(session, path)
    assert result.organisations_updated == 1 and counts(result) == (4, 0, 0, 0)
    session.expire_all()
    acme = organisations.get(session, "ACME")
    assert (acme.kind.value, acme.country, acme.sector) == ("company", "BE", "Agri")
    neuve = organisations.get(session, "Neuve")
    assert (neuve.kind.value, neuve.sector) == ("university", "Recherche")
    assert stored(session, "d@example.org").organisation.name == "Neuve"
    assert import_contacts(session, path).organisations_updated == 0


def test_an_organisation_named_only_by_its_fields_row_is_created(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "a@example.org"}, organisation="Vieille")
    text = "email;société;pays de l'organisation\na@example.org;Vieille;DE\n"
    result = import_contacts(session, write(tmp_path, "v.csv", text))
    assert counts(result) == (0, 0, 1, 0) and result.organisations_updated == 1
    session.expire_all()
    assert organisations.get(session, "Vieille").country == "DE"


def test_rows_that_disagree_on_an_organisation_reject_the_later_one(session: Session, tmp_path: Path) -> None:
    text = (
        "email;société;pays de l'organisation;taille de l'organisation\n"
        "a@example.org;ACME;FR;\n"  # 2
        "b@example.org;ACME;;small\n"  # 3: agrees (blank country)
        "c@example.org;Acme;BE;\n"  # 4: another country
        "d@example.org;Autre;BE;\n"  # 5: another organisation: fine
        "e@example.org;acme;FR;large\n"  # 6: another size
    )
    result = import_contacts(session, write(tmp_path, "k.csv", text))
    assert result.rejected == [
        {"line": 4, "reason": "pays de l'organisation: BE here but FR on line 2 for the organisation 'Acme': make the rows agree"},
        {"line": 6, "reason": "taille de l'organisation: large here but small on line 3 for the organisation 'acme': make the rows agree"},
    ]
    assert counts(result) == (3, 0, 0, 2)
    assert contacts.find_by_email(session, "c@example.org") is None
    session.expire_all()
    acme = organisations.get(session, "ACME")
    assert (acme.country, acme.size.value) == ("FR", "small")
    assert organisations.get(session, "Autre").country == "BE"


def test_consent_is_recorded_once_per_contact_and_topic_with_its_proof(session: Session, tmp_path: Path) -> None:
    old = contacts.add(session, {"email": "old@example.org"})
    consent.record(session, old.id, ConsentTopic.EVENTS, ConsentAction.OPT_IN, ConsentSource.FORM)
    left = contacts.add(session, {"email": "left@example.org"})
    consent.record(session, left.id, ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
    consent.record(session, left.id, ConsentTopic.EVENTS, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
    text = (
        "email;prénom;nom\n"
        "new@example.org;Neuf;A\n"  # 2
        ";Sans;Adresse\n"  # 3
        "NEW@example.org;Neuf;B\n"  # 4: the same contact: its proof stays line 2
        "old@example.org;;\n"  # 5
        "left@example.org;;\n"  # 6
    )
    topics = [ConsentTopic.NEWSLETTER, ConsentTopic.EVENTS]
    dry = import_contacts(session, write(tmp_path, "salon.csv", text), consent_topics=topics, recorded_by="Claire", dry_run=True)
    assert (dry.consent_recorded, dry.consent_kept_out) == (5, 2)
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 3
    result = import_contacts(session, write(tmp_path, "salon.csv", text), consent_topics=topics, recorded_by="Claire")
    assert (result.consent_recorded, result.consent_kept_out) == (5, 2)  # the opted-out stay out of both topics
    assert counts(result) == (2, 1, 2, 0)
    session.expire_all()
    events = session.execute(
        select(Contact.email, Contact.last_name, ConsentEvent.topic, ConsentEvent.action, ConsentEvent.source,
               ConsentEvent.proof, ConsentEvent.recorded_by)
        .join(Contact, Contact.id == ConsentEvent.contact_id)
        .where(ConsentEvent.source == ConsentSource.IMPORT)
    ).all()
    assert sorted(events, key=lambda e: (e[0] or "", e[2].value)) == sorted(
        [
            ("new@example.org", "B", ConsentTopic.EVENTS, ConsentAction.OPT_IN, ConsentSource.IMPORT, "salon.csv:2", "Claire"),
            ("new@example.org", "B", ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, ConsentSource.IMPORT, "salon.csv:2", "Claire"),
            (None, "Adresse", ConsentTopic.EVENTS, ConsentAction.OPT_IN, ConsentSource.IMPORT, "salon.csv:3", "Claire"),
            (None, "Adresse", ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, ConsentSource.IMPORT, "salon.csv:3", "Claire"),
            ("old@example.org", None, ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, ConsentSource.IMPORT, "salon.csv:5", "Claire"),
        ],
        key=lambda e: (e[0] or "", e[2].value),
    )
    state = consent.current(session, left.id)
    assert (state[ConsentTopic.NEWSLETTER], state[ConsentTopic.EVENTS]) == (False, False)


def test_without_topics_no_consent_is_recorded(session: Session, tmp_path: Path) -> None:
    result = import_contacts(session, write(tmp_path, "n.csv", "email\na@example.org\n"))
    assert (result.consent_recorded, result.consent_kept_out) == (0, 0)
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_a_dry_run_writes_nothing_at_all(session: Session, tmp_path: Path) -> None:
    contacts.add(session, {"email": "a@example.org", "city": "Angers"}, organisation="ACME")
    text = "email;ville;société;tags;Couleur;pays de l'organisation\na@example.org;Nantes;ACME;x;vert;BE\nb@example.org;Tours;Neuve;y;bleu;\n"
    path = write(tmp_path, "dry.csv", text)
    dry = import_contacts(session, path, dry_run=True)
    assert dry.dry_run is True
    assert counts(dry) == (1, 1, 0, 0) and dry.new_custom_fields == ["Couleur"] and dry.organisations_updated == 1
    session.expire_all()
    assert all_contacts(session) == [("a@example.org", None, None, "ACME")]
    assert stored(session, "a@example.org").city == "Angers" and tag_names(stored(session, "a@example.org")) == []
    assert session.scalar(select(func.count()).select_from(CustomField)) == 0
    assert session.scalar(select(Organisation.country).where(Organisation.name == "ACME")) is None
    assert session.scalar(select(func.count()).select_from(Organisation)) == 1
    real = import_contacts(session, path)
    assert real.dry_run is False
    assert (real.created, real.updated, real.skipped, real.rejected, real.new_custom_fields, real.organisations_updated) == (
        dry.created, dry.updated, dry.skipped, dry.rejected, dry.new_custom_fields, dry.organisations_updated)


def test_the_summary_names_the_file_encoding_and_delimiter(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "adhérents.csv", "Courriel\tVille\nelodie@example.org\tSaint-Étienne\n", "cp1252")
    result = import_contacts(session, path)
    assert result.as_dict() == {
        "file": "adhérents.csv", "encoding": "cp1252", "delimiter": "\t", "dry_run": False,
        "created": 1, "updated": 0, "skipped": 0, "rejected": [], "new_custom_fields": [], "ignored_columns": [],
        "organisations_updated": 0, "consent_recorded": 0, "consent_kept_out": 0,
    }
    assert list(result.as_dict())[:5] == ["created", "updated", "skipped", "rejected", "file"]  # the contract's first


def test_progress_is_reported_every_thousand_rows(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "email\n" + "".join(f"p{i}@example.org\n" for i in range(2999)))
    seen: list[int] = []
    result = import_contacts(session, path, on_progress=seen.append, dry_run=True)
    assert seen == [1000, 2000]  # rows read so far; not at 2999
    assert result.created == 2999
    assert import_contacts(session, path, dry_run=True).created == 2999  # no callback: none called


def test_an_unchanged_contact_is_not_written(session: Session, tmp_path: Path) -> None:
    anne = contacts.add(session, {"email": "anne@example.org", "city": "Angers"}, organisation="ACME", custom={"Couleur": "vert"})
    before = anne.updated_at
    text = "email;ville;société;Couleur\nanne@example.org;Angers;acme;vert\n"
    result = import_contacts(session, write(tmp_path, "same.csv", text))
    assert counts(result) == (0, 0, 1, 0)
    assert stored(session, "anne@example.org").updated_at == before
    changed = import_contacts(session, write(tmp_path, "other.csv", "email;Couleur\nanne@example.org;bleu\n"))
    assert counts(changed) == (0, 1, 0, 0)
    anne = stored(session, "anne@example.org")
    assert custom_fields.values(session, anne.id) == {"Couleur": "bleu"}
    assert anne.updated_at >= before and anne.city == "Angers"


def test_namesakes_keep_their_own_tags_custom_values_and_consent(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Prénom;Nom;Société;Ville;Tags;Couleur\n"
        ";Marie;Curie;Institut;Paris;premiere;rouge\n"  # 2
        ";Marie;Curie;Institut;Lyon;seconde;bleu\n"  # 3
    )
    result = import_contacts(session, write(tmp_path, "ns.csv", text), consent_topics=[ConsentTopic.EVENTS])
    assert counts(result) == (2, 0, 0, 0) and result.consent_recorded == 2
    session.expire_all()
    found = session.scalars(select(Contact).order_by(Contact.id)).all()
    assert [(c.city, tag_names(c), custom_fields.values(session, c.id)) for c in found] == [
        ("Paris", ["premiere"], {"Couleur": "rouge"}),
        ("Lyon", ["seconde"], {"Couleur": "bleu"}),
    ]
    proofs = [session.scalar(select(ConsentEvent.proof).where(ConsentEvent.contact_id == c.id)) for c in found]
    assert proofs == ["ns.csv:2", "ns.csv:3"]


def test_forced_encoding_and_delimiter_are_used(session: Session, tmp_path: Path) -> None:
    text = "email;ville,a,b\nx@example.org;Nîmes,c,d\n"  # read alone, the commas would win
    path = write(tmp_path, "f.csv", text, "latin-1")
    with pytest.raises(ImportFileError, match="no email column"):
        import_contacts(session, path)
    result = import_contacts(session, path, encoding="latin-1", delimiter=";")
    assert (result.encoding, result.delimiter) == ("latin-1", ";")
    assert counts(result) == (1, 0, 0, 0) and result.new_custom_fields == ["ville,a,b"]
    assert custom_fields.values(session, stored(session, "x@example.org").id) == {"ville,a,b": "Nîmes,c,d"}


def test_ignored_columns_are_listed_in_file_order_when_kept(session: Session, tmp_path: Path) -> None:
    result = import_contacts(session, write(tmp_path, "o.csv", "???;email;\nx;a@example.org;z\n"))
    assert result.ignored_columns == ["???", "column 3 (no header)"]
    assert result.new_custom_fields == []


def test_a_header_of_more_than_200_characters_is_ignored(session: Session, tmp_path: Path) -> None:
    long, longest = "L" * 200, "M" * 201
    result = import_contacts(session, write(tmp_path, "h.csv", f"email;{long};{longest}\na@example.org;x;y\n"))
    assert result.new_custom_fields == [long]
    assert result.ignored_columns == [longest]


def test_the_first_spelling_names_a_new_organisation_and_agreeing_rows_keep_the_first_line(session: Session, tmp_path: Path) -> None:
    text = (
        "email;société;pays de l'organisation\n"
        "a@example.org;Les Jardins;FR\n"  # 2
        "b@example.org;LES JARDINS;FR\n"  # 3: agrees
        "c@example.org;les jardins;IT\n"  # 4
        "pas-une-adresse;;\n"  # 5
    )
    result = import_contacts(session, write(tmp_path, "j.csv", text))
    assert [r["line"] for r in result.rejected] == [4, 5]  # in line order, whatever found them
    assert result.rejected[0] == {"line": 4, "reason": (
        "pays de l'organisation: IT here but FR on line 2 for the organisation 'les jardins': make the rows agree")}
    session.expire_all()
    assert session.execute(select(Organisation.name, Organisation.country)).all() == [("Les Jardins", "FR")]


def test_an_import_writes_one_moment_on_everything_it_touches(session: Session, tmp_path: Path) -> None:
    """created_at, updated_at and the consent time of one import are the same instant, so
    what an import changed can be found by that time (and a new contact is not 'updated')."""
    old = contacts.add(session, {"email": "old@example.org", "city": "Angers"})
    text = "email;ville\nnew@example.org;Tours\nold@example.org;Nantes\n"
    result = import_contacts(session, write(tmp_path, "t.csv", text), consent_topics=[ConsentTopic.NEWSLETTER])
    assert counts(result) == (1, 1, 0, 0)
    new = stored(session, "new@example.org")
    moment = session.scalar(select(ConsentEvent.at).where(ConsentEvent.contact_id == new.id))
    assert new.created_at == new.updated_at == moment
    old = stored(session, "old@example.org")
    assert old.updated_at == moment and old.created_at < moment


def test_unreadable_files_are_named_in_the_message(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "email;ville\na@example.org;Angers\nb@example.org;Nîmes\n", "cp1252")
    with pytest.raises(ImportFileError) as raised:
        import_contacts(session, path, encoding="utf-8")
    assert str(raised.value) == (
        "w.csv:3: not utf-8 (byte 0xEE): give the file's real encoding with --encoding, "
        "or leave it out to let the import decide"
    )
    with pytest.raises(ImportFileError) as raised:
        import_contacts(session, write(tmp_path, "vide.csv", "\n\n"))
    assert str(raised.value) == "vide.csv: the file is empty"
    assert session.scalar(select(func.count()).select_from(Contact)) == 0
