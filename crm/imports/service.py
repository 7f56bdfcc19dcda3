"""`import_contacts`: a whole file in one transaction, set-based, bad rows reported by line.

Every row is parsed and validated first; rejected rows are never written, accepted rows
are written with a handful of executemany statements (no query per row), and any
database error rolls the whole file back. A dry run computes the same summary and
writes nothing.
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
from crm.imports import headers, reading, rows, state
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
    consent_recorded: int = 0
    consent_kept_out: int = 0  # opted out earlier: an import never re-subscribes anybody

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Pending:
    known: state.Known
    new: bool
    dirty: bool = False
    lines: list[int] = field(default_factory=list)


def _custom_columns(session: Session, extra: dict[int, str], keep: bool, name: str, result: ImportResult) -> dict[int, CustomField] | None:
    if not keep:
        result.ignored_columns = list(extra.values())
        return None
    known = custom_fields.by_key(session)
    columns: dict[int, CustomField] = {}
    seen: dict[str, str] = {}
    for index, label in extra.items():
        try:
            key = fields.slug(label)
        except ValidationError:
            result.ignored_columns.append(label)
            continue
        if key in seen:
            raise ImportFileError(f"{name}: columns {seen[key]!r} and {label!r} would be the same custom field {key!r}")
        seen[key] = label
        definition = known.get(key)
        if definition is None:
            definition = CustomField(key=key, label=label, type=FieldType.TEXT)  # added only when writing
            result.new_custom_fields.append(label)
        columns[index] = definition
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
    decoded = reading.decode(path.read_bytes(), name, encoding)
    records = reading.records(decoded.text, name, delimiter)
    columns = headers.map_header(records.header, name, records.header_line)
    result = ImportResult(name, decoded.encoding, records.delimiter, dry_run)
    custom = _custom_columns(session, columns.extra, keep_extra_columns, name, result)

    parsed: list[rows.ParsedRow] = []
    for count, (line, cells) in enumerate(records.rows, 1):
        try:
            parsed.append(rows.parse(line, cells, columns, len(records.header), custom))
        except ValidationError as exc:
            result.rejected.append({"line": line, "reason": rows.reason(exc, columns, records.header)})
        if on_progress and count % 1000 == 0:
            on_progress(count)
    if strict and result.rejected:
        first = result.rejected[0]
        raise ValidationError(
            f"{first['reason']} ({len(result.rejected)} rows rejected; --strict: nothing imported)",
            f"{name}:{first['line']}",
        )

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
        _write(session, pending, custom, opt_ins, name, recorded_by)
    return result


def _write(
    session: Session,
    pending: dict[str, _Pending],
    custom: dict[int, CustomField] | None,
    opt_ins: list[dict[str, Any]],
    name: str,
    recorded_by: str | None,
) -> None:
    now = utcnow()
    for definition in (custom or {}).values():
        if definition.id is None:
            session.add(definition)
    session.flush()
    definitions = {d.key: d for d in (custom or {}).values()}

    org_names = {p.known.organisation_name for p in pending.values() if p.known.organisation_name}
    org_ids = organisations.ids_by_name(session, org_names, create=True) if org_names else {}

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
        insert_rows(session, Contact, [{**row_values(p), "created_at": now, "updated_at": now} for p in new_items])
        ids = state.ids_after(session, before)
        for item in new_items:
            item.known.id = ids[item.known.values["email"].lower()]
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
