"""Contact import on ugly real-world files, and the export round trip (both databases)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm import consent, contacts, custom_fields, migrate, organisations
from crm.csvfiles.safety import restore
from crm.db import make_engine, make_session_factory
from crm.errors import ImportFileError, ValidationError
from crm.csvfiles.exports import export_contacts
from crm.csvfiles.imports import import_contacts
from crm.models import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic, Contact, CustomField, TargetGroup

FRENCH_EXCEL = (
    "Nom;Prénom;Courriel;Société;Catégorie;Téléphone;Langue;Ville;Secteur préféré\r\n"
    "Lefèvre;Hélène;helene.lefevre@example.org;Coopérative Agri-Réseau;entreprise membre;01 23 45 67 89;français;Angers;Élevage\r\n"
    ";;;;;;;;\r\n"
    "Benali;Karim;k.benali@example.net;Université d'Angers;université;+33 6 11 22 33 44;arabe;Angers;Recherche\r\n"
    "Durand;Zoé;zoe.durand@example.com;Région Pays de la Loire;collectivité territoriale;;fr;Nantes;\r\n"
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count_contacts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Contact)) or 0


def test_windows_1252_semicolons_french_headers(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "adherents.csv", FRENCH_EXCEL, "cp1252")
    result = import_contacts(session, path)
    assert (result.encoding, result.delimiter) == ("cp1252", ";")
    assert (result.created, result.updated, result.skipped, result.rejected) == (3, 0, 0, [])
    helene = contacts.get(session, "helene.lefevre@example.org")
    assert (helene.first_name, helene.last_name, helene.city) == ("Hélène", "Lefèvre", "Angers")
    assert helene.organisation is not None and helene.organisation.name == "Coopérative Agri-Réseau"
    assert helene.target is TargetGroup.MEMBER_COMPANY and helene.language == "fr"
    karim = contacts.get(session, "k.benali@example.net")
    assert karim.target is TargetGroup.RESEARCH and karim.language == "ar"
    assert contacts.get(session, "zoe.durand@example.com").target is TargetGroup.LOCAL_AUTHORITY
    assert custom_fields.values(session, helene.id) == {"Secteur préféré": "Élevage"}


def test_bom_quoted_newlines_blank_lines_bad_address_and_duplicates(session: Session, tmp_path: Path) -> None:
    text = (
        "\ufeffFirst name,Last name,E-mail,Organisation,Category,Notes\n"  # line 1
        "Jean,Dupont,Jean.Dupont@Example.org,ACME,member company,\"first line\n"  # line 2
        "second line\"\n"  # line 3
        "\n"  # line 4 (blank)
        "Anne,Martin,anne@@example.org,ACME,partner,\n"  # line 5: bad address
        "JEAN,DUPONT,jean.dupont@example.ORG,ACME,member company,\"again\n\nwith a blank line inside\"\n"  # 6-8
        "Ali,Haddad,ali.haddad@example.org,,investisseur,\n"  # line 9
        ",,,,,\n"  # line 10 (empty cells)
        "Eve,Noaddress,,ACME,partner,\n"  # line 11: no address, a name: a contact known by name
        ",,,ACME,partner,\n"  # line 12: neither address nor name
    )
    path = write(tmp_path, "contacts.csv", text)
    result = import_contacts(session, path)
    assert result.encoding == "utf-8-sig"
    assert [r["line"] for r in result.rejected] == [5, 12]
    assert result.rejected[0]["reason"].startswith("E-mail: invalid email address 'anne@@example.org'")
    assert result.rejected[1]["reason"] == "E-mail: no email address and no name: give at least one of them"
    assert (result.created, result.updated, result.skipped) == (3, 1, 0)
    assert count_contacts(session) == 3
    jean = contacts.get(session, "JEAN.DUPONT@example.org")
    assert jean.email == "Jean.Dupont@example.org"  # first spelling kept
    assert jean.first_name == "JEAN" and jean.notes == "again\n\nwith a blank line inside"
    assert contacts.get(session, "ali.haddad@example.org").target is TargetGroup.INVESTOR


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet evaluates (OWASP), written here, not imported


def export_text(session: Session) -> str:
    out = io.StringIO()
    export_contacts(session, out)
    return out.getvalue()


def everything(session: Session) -> dict[str | None, tuple[object, ...]]:
    """Every stored value of every contact, by address."""
    return {c.email: (*(getattr(c, n) for n in contacts.PARSERS), c.organisation and c.organisation.name,
                      sorted(t.name for t in c.tags), custom_fields.values(session, c.id))
            for c in session.scalars(select(Contact))}


def test_formula_cells_are_stored_literally_and_neutralised_on_export(session: Session, tmp_path: Path, fresh_url: str) -> None:
    custom_fields.define(session, "Solde", custom_fields.FieldType.NUMBER)
    text = (
        "Email;Nom;Prénom;Fonction;Téléphone;Ville;Notes;Tags;Société;Remarque;Solde\n"
        'x@example.org;"=HYPERLINK(""http://evil"";""clic"")";-Moins;@SUM(A1);+33 1 23 45 67 89;\'=Cité;"\'\'=sneaky";-tag;=Org;+1;-3,5\n'
        "y@example.org;'Quote;''Deux;-1+2;;@Lyon;'-x;@tag;@Org;'@r;\n"
    )
    assert import_contacts(session, write(tmp_path, "f.csv", text)).rejected == []
    x, y = contacts.get(session, "x@example.org"), contacts.get(session, "y@example.org")
    assert (x.last_name, x.first_name, x.position, x.city, x.notes) == (
        '=HYPERLINK("http://evil";"clic")', "-Moins", "@SUM(A1)", "=Cité", "'=sneaky")
    assert (y.last_name, y.first_name, y.position, y.city, y.notes) == ("'Quote", "'Deux", "-1+2", "@Lyon", "-x")
    assert custom_fields.values(session, x.id) == {"Remarque": "+1", "Solde": -3.5}
    # No way in stores a value starting with a tab or a CR (all strip): only a direct write can.
    session.add(Contact(email="t@example.org", notes="\t=1+2", city="\r=3"))
    session.flush()

    header, *data = csv.reader(io.StringIO(export_text(session), newline=""))  # the exporter's dialect: excel, ','
    cells = {row[header.index("email")]: dict(zip(header, row)) for row in data}
    for row in [header, *data]:
        for cell in row:
            assert not cell.startswith(TRIGGERS), repr(cell)
    expected = {
        "x@example.org": {"last_name": """'=HYPERLINK("http://evil";"clic")""", "first_name": "'-Moins",
                          "position": "'@SUM(A1)", "phone": "'+33 1 23 45 67 89", "city": "'=Cité",
                          "notes": "''=sneaky", "tags": "'-tag", "organisation": "'=Org", "Remarque [text]": "'+1",
                          "Solde [number]": "'-3.5"},
        "y@example.org": {"last_name": "''Quote", "first_name": "''Deux", "position": "'-1+2", "city": "'@Lyon",
                          "notes": "'-x", "tags": "'@tag", "organisation": "'@Org", "Remarque [text]": "'@r"},
        "t@example.org": {"notes": "'\t=1+2", "city": "'\r=3"},
    }
    assert {e: {k: cells[e].get(k) for k in wanted} for e, wanted in expected.items()} == expected
    assert (restore(cells["t@example.org"]["notes"]), restore(cells["t@example.org"]["city"])) == ("\t=1+2", "\r=3")

    session.delete(session.scalars(select(Contact).where(Contact.email == "t@example.org")).one())
    session.flush()
    path = tmp_path / "export.csv"
    path.write_text(export_text(session), encoding="utf-8-sig")
    before = everything(session)
    engine = make_engine(fresh_url)  # export -> import gives back every value exactly
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine).begin() as other:
            assert import_contacts(other, path).rejected == []
            assert everything(other) == before
    finally:
        engine.dispose()


def test_extra_columns_kept_typed_or_ignored(session: Session, tmp_path: Path) -> None:
    custom_fields.define(session, "Effectif", custom_fields.FieldType.NUMBER)
    text = "email,Effectif,Couleur\na@example.org,\"1 250,5\",vert\nb@example.org,beaucoup,rouge\n"
    result = import_contacts(session, write(tmp_path, "x.csv", text))
    assert result.new_custom_fields == ["Couleur"]
    assert result.rejected == [{"line": 3, "reason": "Effectif: 'beaucoup' is not a number"}]
    assert contacts.find_by_email(session, "b@example.org") is None  # never a partial contact
    a = contacts.get(session, "a@example.org")
    assert custom_fields.values(session, a.id) == {"Effectif": 1250.5, "Couleur": "vert"}

    ignored = import_contacts(session, write(tmp_path, "y.csv", "email,Pointure\nc@example.org,42\n"), keep_extra_columns=False)
    assert ignored.ignored_columns == ["Pointure"] and ignored.created == 1
    assert session.scalar(select(CustomField).where(CustomField.key == "pointure")) is None


def test_dry_run_writes_nothing_and_predicts_the_real_run(session: Session, tmp_path: Path) -> None:
    path = write(tmp_path, "adherents.csv", FRENCH_EXCEL, "cp1252")
    contacts.add(session, {"email": "ZOE.durand@example.com", "first_name": "Zoé"})
    before = count_contacts(session)
    dry = import_contacts(session, path, dry_run=True, consent_topics=[ConsentTopic.NEWSLETTER])
    assert count_contacts(session) == before
    assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0
    assert session.scalar(select(func.count()).select_from(CustomField)) == 0
    real = import_contacts(session, path, consent_topics=[ConsentTopic.NEWSLETTER])
    assert (dry.created, dry.updated, dry.skipped, dry.rejected) == (real.created, real.updated, real.skipped, real.rejected)
    assert (real.created, real.updated) == (2, 1)
    assert dry.consent_recorded == real.consent_recorded == 3


def test_consent_option_records_proof_and_never_resubscribes(session: Session, tmp_path: Path) -> None:
    gone = contacts.add(session, {"email": "gone@example.org"})
    consent.record(session, gone.id, ConsentTopic.NEWSLETTER, ConsentAction.OPT_IN, ConsentSource.FORM)
    consent.record(session, gone.id, ConsentTopic.NEWSLETTER, ConsentAction.OPT_OUT, ConsentSource.UNSUBSCRIBE)
    path = write(tmp_path, "salon.csv", "email;nom\nnew@example.org;Neuf\ngone@example.org;Parti\n")
    result = import_contacts(session, path, consent_topics=[ConsentTopic.NEWSLETTER, ConsentTopic.EVENTS], recorded_by="Claire")
    assert (result.consent_recorded, result.consent_kept_out) == (3, 1)
    new = contacts.get(session, "new@example.org")
    assert consent.current(session, new.id)[ConsentTopic.NEWSLETTER] is True
    proofs = {e.proof for e in consent.history(session, new.id)}
    assert proofs == {"salon.csv:2"}
    state = consent.current(session, gone.id)
    assert state[ConsentTopic.NEWSLETTER] is False and state[ConsentTopic.EVENTS] is True
    again = import_contacts(session, path, consent_topics=[ConsentTopic.NEWSLETTER])
    assert again.consent_recorded == 0  # already opted in: the log is not padded


def test_strict_and_unreadable_files_change_nothing(session: Session, tmp_path: Path) -> None:
    text = "email;nom\nok@example.org;Bon\nbad;Mauvais\n"
    with pytest.raises(ValidationError, match=r"s.csv:3.*--strict"):
        import_contacts(session, write(tmp_path, "s.csv", text), strict=True)
    assert count_contacts(session) == 0
    with pytest.raises(ImportFileError, match=r"n.csv:1: no email column"):
        import_contacts(session, write(tmp_path, "n.csv", "Nom;Prénom\nA;B\n"))
    with pytest.raises(ImportFileError, match="both give the email"):
        import_contacts(session, write(tmp_path, "d.csv", "Email;Courriel\na@example.org;b@example.org\n"))
    with pytest.raises(ImportFileError, match="empty"):
        import_contacts(session, write(tmp_path, "e.csv", "\n\n"))
    assert count_contacts(session) == 0


def test_row_errors_name_the_column_and_line(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Catégorie;Langue;Membre depuis\n"
        "a@example.org;martien;fr;2024-01-01\n"
        "b@example.org;média;klingon;\n"
        "c@example.org;média;fr;31/02/2024\n"
        "d@example.org;média;fr;15/03/2024;surplus\n"
        "e@example.org;Média;EN;15/03/2024\n"
    )
    result = import_contacts(session, write(tmp_path, "r.csv", text))
    reasons = {r["line"]: r["reason"] for r in result.rejected}
    assert reasons[2].startswith("Catégorie: unknown target group 'martien'; allowed: staff,")
    assert reasons[3].startswith("Langue: unknown language 'klingon'")
    assert reasons[4].startswith("Membre depuis: invalid date '31/02/2024'")
    assert reasons[5].startswith("row: 5 cells for 4 columns")
    assert result.created == 1
    e = contacts.get(session, "e@example.org")
    assert (e.target, e.language, e.member_since.isoformat()) == (TargetGroup.MEDIA, "en", "2024-03-15")


def test_export_then_import_gives_the_same_contacts(session: Session, tmp_path: Path, fresh_url: str) -> None:
    custom_fields.define(session, "Effectif", custom_fields.FieldType.NUMBER)
    custom_fields.define(session, "Adhérent CA", custom_fields.FieldType.BOOLEAN)
    custom_fields.define(session, "Dernière visite", custom_fields.FieldType.DATE)
    text = (
        "Nom;Prénom;Courriel;Société;Catégorie;Téléphone;Langue;Tags;Effectif;Adhérent CA;Dernière visite;Notes;Membership;Member since\n"
        "Lefèvre;Hélène;helene@example.org;Agri-Réseau;entreprise membre;+33 1 23 45 67 89;fr;agrifood, export;12;oui;2026-03-01;\"deux\nlignes\";member;2020-01-15\n"
        "'Quote;=1+1;f@example.org;;média;;en;;-3,5;non;;'=sneaky;;\n"
        "بن علي;كريم;karim@example.net;جامعة;université;;ar;ملف;;;;;prospect;\n"
    )
    first = import_contacts(session, write(tmp_path, "in.csv", text))
    assert first.rejected == [] and first.created == 3
    exported = io.StringIO()
    assert export_contacts(session, exported) == 3
    path = tmp_path / "export.csv"
    path.write_text(exported.getvalue(), encoding="utf-8-sig")

    again = import_contacts(session, path)  # into the same database: nothing changes
    assert (again.created, again.updated, again.skipped, again.rejected) == (0, 0, 3, [])

    engine = make_engine(fresh_url)  # and into an empty one: the same export comes out
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine).begin() as other:
            result = import_contacts(other, path)
            assert (result.created, result.rejected) == (3, [])
            second = io.StringIO()
            export_contacts(other, second)
        assert second.getvalue() == exported.getvalue()
    finally:
        engine.dispose()
    f = contacts.get(session, "f@example.org")
    assert (f.last_name, f.first_name, f.notes) == ("'Quote", "=1+1", "=sneaky")  # the guard apostrophe is dropped
    assert custom_fields.values(session, f.id)["Effectif"] == -3.5


# ---- issue 7: nothing lost, nothing garbled ---------------------------------------------------


def test_a_stray_quote_rejects_its_line_and_the_rows_after_it_are_read(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Nom;Société\n"
        "r1@example.org;Un;Org1\n"
        'r2@example.org;Deux;"Les Jardins;Lyon\n'  # line 3: the quote is never closed
        "r3@example.org;Trois;Org3\n"
        "r4@example.org;Quatre;Org4\n"
        "r5@example.org;Cinq;Org5\n"
    )
    result = import_contacts(session, write(tmp_path, "q.csv", text))
    assert [r["line"] for r in result.rejected] == [3]
    assert result.rejected[0]["reason"].startswith('Société: a quote (") opens a value that is not closed')
    assert result.created == 4
    assert [contacts.get(session, f"r{i}@example.org").organisation.name for i in (1, 3, 4, 5)] == ["Org1", "Org3", "Org4", "Org5"]
    # A later quote that closes the runaway value does not save it either, nor the end of the file.
    text = 'Courriel;Nom;Société\nr6@example.org;Six;"Les Jardins\nr7@example.org;Sept;Org7\nr8@example.org;"Huit";Org8\nr9@example.org;Neuf;"Org9\n'
    result = import_contacts(session, write(tmp_path, "q2.csv", text))
    assert [r["line"] for r in result.rejected] == [2] and result.created == 3
    assert contacts.get(session, "r8@example.org").last_name == "Huit"


def test_quoted_line_breaks_that_look_like_one_record_are_kept(session: Session, tmp_path: Path) -> None:
    text = (
        'Notes,Email,Nom,Ville\n'
        '"12 rue des Lilas\nBP 4, 49000 Angers",a@example.org,Alpha,Angers\n'  # first column spans lines
        'rien,b@example.org,"Be\nta",Nantes\n'  # a line break in a name: rejected by its column
        'x,c@example.org,Gamma,"Saint-\nÉtienne"\n'
    )
    result = import_contacts(session, write(tmp_path, "m.csv", text))
    assert result.created == 1
    assert [(r["line"], r["reason"].split(":")[0]) for r in result.rejected] == [(4, "Nom"), (6, "Ville")]
    assert "line break" in result.rejected[0]["reason"]
    assert contacts.get(session, "a@example.org").notes == "12 rue des Lilas\nBP 4, 49000 Angers"


def test_encoding_is_decided_per_file_and_odd_lines_are_rejected_by_number(session: Session, tmp_path: Path) -> None:
    utf8 = "Prénom;Courriel;Ville\nHélène;h@example.org;Angers\nZoé;z@example.org;Nantes\nAnne;a@example.org;Lyon\n"
    data = utf8.encode("utf-8").replace("Zoé".encode(), "Zoé".encode("cp1252"))  # one Latin-1 line (3)
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    result = import_contacts(session, path)
    assert result.encoding == "utf-8" and result.created == 2 and result.new_custom_fields == []
    assert [r["line"] for r in result.rejected] == [3] and "not UTF-8" in result.rejected[0]["reason"]
    assert contacts.get(session, "h@example.org").first_name == "Hélène"

    cp1252 = "Prénom;Courriel\nJérôme;j@example.org\nNoël;n@example.org\nAmélie;m@example.org\n"
    data = cp1252.encode("cp1252").replace("Noël".encode("cp1252"), "Noël".encode())  # one UTF-8 line (3)
    path.write_bytes(data)
    result = import_contacts(session, path)
    assert result.encoding == "cp1252" and result.created == 2
    assert [r["line"] for r in result.rejected] == [3] and "UTF-8 while the rest" in result.rejected[0]["reason"]
    assert contacts.get(session, "j@example.org").first_name == "Jérôme"


def test_long_values_nul_nfd_and_blank_headers(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Nom;Ville;;Notes\n"
        f"long@example.org;Long;Lyon;;{'x' * 140_000}\n"  # over csv's field limit: this row only
        "nul@example.org;Nu\x00l;Lyon;;\n"
        "nfd@example.org;Nfd;Be\u0301ziers;lost;\n"
        "ok@example.org;Ok;Lyon;;\n"
    )
    result = import_contacts(session, write(tmp_path, "l.csv", text))
    reasons = {r["line"]: r["reason"] for r in result.rejected}
    assert set(reasons) == {2, 3}
    assert "131072" in reasons[2] and reasons[3].startswith("Nom: contains a NUL character")
    assert result.created == 2 and result.ignored_columns == ["column 4 (no header)"]
    assert contacts.get(session, "nfd@example.org").city == "Béziers"  # NFC
    assert session.scalar(select(func.count()).select_from(Contact).where(Contact.city == "Béziers")) == 1
    ignored = import_contacts(session, write(tmp_path, "i.csv", "Courriel;;Pointure\nz@example.org;a;42\n"), keep_extra_columns=False)
    assert ignored.ignored_columns == ["column 2 (no header)", "Pointure"]


def test_control_characters_and_unicode_local_parts_are_refused_at_the_door(session: Session, tmp_path: Path) -> None:
    text = (
        "Courriel;Prénom;Fonction;Société\n"
        "a@example.org;Ann\x0bie;;\n"
        "hélène@example.org;Hélène;;\n"
        "c@example.org;Cé;\"Directrice\r\nBcc: x@evil.example\";\n"
        "d@example.org;Dé;;\"ACME\nLyon\"\n"
        "e@example.org;Eve;Gérante;ACME\n"
    )
    result = import_contacts(session, write(tmp_path, "c.csv", text))
    reasons = {r["line"]: r["reason"] for r in result.rejected}
    assert reasons[2].startswith("Prénom: contains the control character U+000B")
    assert reasons[3].startswith("Courriel:") and "SMTPUTF8" in reasons[3]
    assert reasons[4].startswith("Fonction: contains a line break")
    assert reasons[6].startswith("Société: contains a line break")
    assert result.created == 1
    for values in ({"email": "x@example.org", "last_name": "A\r\nBcc: y"}, {"email": "zoé@example.org"}):
        with pytest.raises(ValidationError) as caught:
            contacts.add(session, values)
        assert caught.value.where in ("last_name", "email")
    with pytest.raises(ValidationError, match="line break"):
        contacts.add(session, {"email": "y@example.org"}, organisation="ACME\nLyon")


def test_header_formulas_are_neutralised_and_restored(session: Session, tmp_path: Path, fresh_url: str) -> None:
    evil = "@SUM(1+1)*cmd|' /C calc'!A0=1"
    contacts.add(session, {"email": "a@example.org"}, custom={evil: "x"})
    import_contacts(session, write(tmp_path, "h.csv", 'email,"=HYPERLINK(""http://evil"")"\nb@example.org,y\n'))
    out = io.StringIO()
    export_contacts(session, out)
    header = out.getvalue().splitlines()[0]
    for cell in next(csv.reader([header])):
        assert not cell.startswith(("=", "+", "-", "@")), cell
    path = tmp_path / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine).begin() as other:
            assert import_contacts(other, path).rejected == []
            labels = sorted(f.label for f in other.scalars(select(CustomField)))
            again = io.StringIO()
            export_contacts(other, again)
        assert labels == sorted([evil, '=HYPERLINK("http://evil")'])
        assert again.getvalue() == out.getvalue()
    finally:
        engine.dispose()


def test_round_trip_keeps_contacts_without_email_and_organisation_fields(session: Session, tmp_path: Path, fresh_url: str) -> None:
    organisations.add(session, "Université d'Angers", kind="université", country="fr", sector="Recherche",
                      region="Pays de la Loire", website="https://univ-angers.fr", size="large")
    contacts.add(session, {"first_name": "Jean", "last_name": "Sans-Adresse"}, organisation="Université d'Angers")
    contacts.add(session, {"first_name": "Jean", "last_name": "Sans-Adresse"}, organisation="Université d'Angers")  # a namesake
    contacts.add(session, {"last_name": "Seul", "phone": "+33 1 23 45 67 89"})
    contacts.add(session, {"email": "a@example.org"}, organisation="Université d'Angers")
    out = io.StringIO()
    export_contacts(session, out)
    path = tmp_path / "export.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    same = import_contacts(session, path)
    assert (same.created, same.updated, same.skipped, same.rejected, same.organisations_updated) == (0, 0, 4, [], 0)
    engine = make_engine(fresh_url)
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine).begin() as other:
            result = import_contacts(other, path)
            assert (result.created, result.rejected) == (4, [])
            again = io.StringIO()
            export_contacts(other, again)
            org = organisations.get(other, "université d'angers")
            assert (org.kind.value, org.country, org.size.value, org.website) == ("university", "FR", "large", "https://univ-angers.fr")
        assert again.getvalue() == out.getvalue()
    finally:
        engine.dispose()
