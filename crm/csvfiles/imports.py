"""`import_contacts`: a whole file in one transaction, set-based, bad rows reported by line.

Every row is parsed and validated first; rejected rows are never written, accepted rows
are written with a handful of executemany statements (no query per row), and any
database error rolls the whole file back. A dry run computes the same summary and
writes nothing.

Which contact a row is: the one with its email address (case-insensitively). A row without
an address is a contact known by its first name, last name and organisation: the n-th such
row of a file is the n-th such contact (by id) with that name and organisation, or a new
one. So re-importing an export changes nothing and two namesakes at one organisation stay
two contacts; and a file that lists an address-less person twice makes two contacts
(nothing says they are one: give them an address to merge them).

Organisation fields (kind, sector, region, country, website, size) in a row set those of
its organisation; a blank cell keeps what is known; two rows giving different values for
one organisation: the later row is rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm import consent, custom_fields, fields, organisations, tags
from crm.db import insert_rows, utcnow
from crm.errors import ImportFileError, ValidationError
from crm.csvfiles import headers, reading, rows, state
from crm.models import ConsentAction, ConsentSource, ConsentTopic, Contact, CustomField, FieldType


@dataclass
class ImportResult:
    file: str
    encoding: str
    delimiter: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    new_custom_fields: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    organisations_updated: int = 0  # existing organisations whose kind, country … the file changes
    consent_recorded: int = 0
    consent_kept_out: int = 0  # opted out earlier: an import never re-subscribes anybody

    def as_dict(self) -> dict[str, Any]:
        """The answer of `contacts import`: the four counts of the contract first, then the rest."""
        data = asdict(self)
        return {k: data[k] for k in ("created", "updated", "skipped", "rejected")} | data


@dataclass
class _Pending:
    known: state.Known
    new: bool
    dirty: bool = False
    lines: list[int] = field(default_factory=list)


def _custom_columns(
    session: Session, columns_: headers.ColumnMap, keep: bool, name: str, line: int, result: ImportResult
) -> dict[int, CustomField] | None:
    """Extra column index -> its custom field; a header 'Label [number]' gives the type of a
    new field (the export writes it) and must match an existing one's."""
    unnamed = {index: f"column {index + 1} (no header)" for index in columns_.unnamed}
    extra = columns_.extra
    if not keep:
        result.ignored_columns = [label for _, label in sorted({**extra, **unnamed}.items())]
        return None
    known = custom_fields.by_key(session)
    columns: dict[int, CustomField] = {}
    seen: dict[str, str] = {}
    ignored = dict(unnamed)
    for index, header in extra.items():
        label, kind = headers.custom_label(header)
        try:
            label = fields.text(label, "header", limit=200)
            key = fields.slug(label)
        except ValidationError:
            ignored[index] = header
            continue
        if key in seen:
            raise ImportFileError(f"{name}:{line}: columns {seen[key]!r} and {header!r} would be the same custom field {key!r}: rename one")
        seen[key] = header
        definition = known.get(key)
        if definition is None:
            definition = CustomField(key=key, label=label, type=kind or FieldType.TEXT)  # added only when writing
            result.new_custom_fields.append(label)
        elif kind is not None and definition.type is not kind:
            raise ImportFileError(
                f"{name}:{line}: column {header!r}: the custom field {definition.label!r} exists as "
                f"{definition.type.value}: write [{definition.type.value}] or rename the column"
            )
        columns[index] = definition
    result.ignored_columns = [label for _, label in sorted(ignored.items())]
    return columns


def _merge(pending: _Pending, row: rows.ParsedRow) -> bool:
    """Apply a row on what is known of its contact; True if it changed anything."""
    known = pending.known
    changed = False
    for name, value in row.values.items():
        if name == "email" and known.values.get("email"):
            continue  # same address, maybe another case: keep the first spelling
        if known.values.get(name) != value:
            known.values[name] = value
            changed = True
    if row.organisation and organisations.key(row.organisation) != known.organisation:
        known.organisation = organisations.key(row.organisation)
        known.organisation_name = row.organisation
        changed = True
    new_tags = set(row.tags) - known.tags
    if new_tags:
        known.tags |= new_tags
        changed = True
    for key, value in row.custom.items():
        if known.custom.get(key) != value:
            known.custom[key] = value
            changed = True
    return changed


def import_contacts(
    session: Session,
    path: str | Path,
    *,
    dry_run: bool = False,
    keep_extra_columns: bool = True,
    consent_topics: Iterable[ConsentTopic] = (),
    recorded_by: str | None = None,
    strict: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    path = Path(path)
    name = path.name
    decoded = reading.decode(reading.file_bytes(path), name, encoding)
    records = reading.records(decoded.text, name, delimiter, decoded.bad_lines)
    columns = headers.map_header(records.header, name, records.header_line)
    result = ImportResult(name, decoded.encoding, records.delimiter, dry_run)
    custom = _custom_columns(session, columns, keep_extra_columns, name, records.header_line, result)

    parsed: list[rows.ParsedRow] = []
    for count, (line, cells) in enumerate(records.rows, 1):
        if isinstance(cells, reading.RowError):
            where = f"{rows.column_name(cells.column, records.header)}: " if cells.column is not None else ""
            result.rejected.append({"line": line, "reason": f"{where}{cells.message}"})
            continue
        try:
            parsed.append(rows.parse(line, cells, columns, len(records.header), custom))
        except ValidationError as exc:
            result.rejected.append({"line": line, "reason": rows.reason(exc, columns, records.header)})
        if on_progress and count % 1000 == 0:
            on_progress(count)
    parsed = _organisation_conflicts(parsed, columns, records.header, result)
    result.rejected.sort(key=lambda r: r["line"])
    if strict and result.rejected:
        first = result.rejected[0]
        raise ValidationError(
            f"{first['reason']} ({len(result.rejected)} rows rejected; --strict: nothing imported)",
            f"{name}:{first['line']}",
        )

    _number_namesakes(parsed)
    fields_by_id = {f.id: f for f in (custom or {}).values() if f.id is not None}
    existing = state.load(session, (r.key for r in parsed), fields_by_id)
    pending: dict[str, _Pending] = {}
    for row in parsed:
        item = pending.get(row.key)
        first = item is None
        if item is None:
            known = existing.get(row.key)
            item = pending[row.key] = _Pending(known or state.Known(None, {}), new=known is None)
        changed = _merge(item, row)
        if first and item.new:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.skipped += 1
        item.dirty = item.dirty or (changed and not item.new)
        item.lines.append(row.line)

    org_values = _organisation_values(parsed)
    result.organisations_updated = organisations.count_changes(session, org_values)

    topics = list(consent_topics)
    ids = [p.known.id for p in pending.values() if p.known.id is not None]
    latest = state.latest_consent(session, ids, topics)
    opt_ins: list[dict[str, Any]] = []
    for key, item in pending.items():
        for topic in topics:
            action = latest.get((item.known.id, topic)) if item.known.id else None
            if action is ConsentAction.OPT_OUT:
                result.consent_kept_out += 1
            elif action is None:
                opt_ins.append({"key": key, "topic": topic, "line": item.lines[0]})
    result.consent_recorded = len(opt_ins)

    if not dry_run:
        _write(session, pending, custom, opt_ins, name, recorded_by, org_values)
    return result


def _number_namesakes(parsed: list[rows.ParsedRow]) -> None:
    """Rows without an address: the n-th row of a name and organisation gets occurrence n."""
    seen: dict[str, int] = {}
    for row in parsed:
        if row.key.startswith("\0"):
            seen[row.key] = seen.get(row.key, 0) + 1
            row.key = state.occurrence(row.key, seen[row.key])


def _organisation_values(parsed: list[rows.ParsedRow]) -> dict[str, tuple[str, dict[str, Any]]]:
    """organisations.key(name) -> (name as first written, the fields the file gives it)."""
    wanted: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in parsed:
        if row.organisation:
            _, values = wanted.setdefault(organisations.key(row.organisation), (row.organisation, {}))
            values.update(row.organisation_values)
    return wanted


def _organisation_conflicts(
    parsed: list[rows.ParsedRow], columns: headers.ColumnMap, header: list[str], result: ImportResult
) -> list[rows.ParsedRow]:
    """Reject the rows that give one organisation another kind, country … than an earlier row."""
    given: dict[tuple[str, str], tuple[Any, int]] = {}
    kept = []
    for row in parsed:
        if row.organisation_values:
            org = organisations.key(row.organisation or "")
            clash = next(
                ((name, value, given[(org, name)]) for name, value in row.organisation_values.items()
                 if (org, name) in given and given[(org, name)][0] != value),
                None,
            )
            if clash is not None:
                name, value, (before, line) = clash
                where = rows.column_name(columns.fields[f"organisation_{name}"], header)
                result.rejected.append({"line": row.line, "reason": (
                    f"{where}: {value!s} here but {before!s} on line {line} for the organisation "
                    f"{row.organisation!r}: make the rows agree")})
                continue
            for name, value in row.organisation_values.items():
                given.setdefault((org, name), (value, row.line))
        kept.append(row)
    return kept


def _write(
    session: Session,
    pending: dict[str, _Pending],
    custom: dict[int, CustomField] | None,
    opt_ins: list[dict[str, Any]],
    name: str,
    recorded_by: str | None,
    org_values: dict[str, tuple[str, dict[str, Any]]],
) -> None:
    now = utcnow()
    for definition in (custom or {}).values():
        if definition.id is None:
            session.add(definition)
    session.flush()
    definitions = {d.key: d for d in (custom or {}).values()}

    # A new organisation is named as the file first writes it (a set of spellings would pick one by hash).
    needed = {p.known.organisation for p in pending.values() if p.known.organisation_name}
    needed |= {k for k, (_, values) in org_values.items() if values}
    org_names = [name for k, (name, _) in org_values.items() if k in needed]
    org_ids = organisations.ids_by_name(session, org_names, create=True) if org_names else {}
    organisations.set_attributes(session, {org_ids[k]: v for k, (_, v) in org_values.items() if v})

    def row_values(item: _Pending) -> dict[str, Any]:
        values = {c: item.known.values.get(c) for c in state.COLUMNS}
        name = item.known.organisation_name
        values["organisation_id"] = org_ids[item.known.organisation] if name else item.known.organisation_id
        return values

    new_items = [p for p in pending.values() if p.new]
    if new_items:
        # Plain executemany, then the new ids in one primary-key range scan: INSERT …
        # RETURNING over many batches costs quadratic time in SQLAlchemy's result splicing.
        before = state.max_contact_id(session)
        new_rows = [{**row_values(p), "created_at": now, "updated_at": now} for p in new_items]
        insert_rows(session, Contact, new_rows)
        by_email, by_name = state.ids_after(session, before)
        for item, values in zip(new_items, new_rows):
            email = item.known.values.get("email")
            if email:
                item.known.id = by_email[email.lower()]
            else:  # namesakes: in insertion order, which is id order
                item.known.id = by_name[(values["first_name"], values["last_name"], values["organisation_id"])].pop(0)
    dirty = [p for p in pending.values() if not p.new and p.dirty]
    if dirty:
        session.execute(update(Contact), [{"id": p.known.id, **row_values(p), "updated_at": now} for p in dirty])

    tag_names = {t for p in new_items + dirty for t in p.known.tags}
    if tag_names:
        tag_ids = tags.ids(session, tag_names)
        tags.link(session, [(p.known.id, tag_ids[t]) for p in new_items for t in p.known.tags], new_contacts=True)
        tags.link(session, [(p.known.id, tag_ids[t]) for p in dirty for t in p.known.tags])

    def custom_rows(items: list[_Pending]) -> list[dict[str, Any]]:
        return [
            custom_fields.row_for(p.known.id, definitions[k], v)
            for p in items for k, v in p.known.custom.items() if v is not None and k in definitions
        ]

    custom_fields.put(session, custom_rows(new_items), new_contacts=True)
    custom_fields.put(session, custom_rows(dirty))
    consent.record_many(
        session,
        (
            {"contact_id": pending[o["key"]].known.id, "topic": o["topic"], "action": ConsentAction.OPT_IN,
             "source": ConsentSource.IMPORT, "proof": f"{name}:{o['line']}", "recorded_by": recorded_by, "at": now}
            for o in opt_ins
        ),
    )
    session.flush()
