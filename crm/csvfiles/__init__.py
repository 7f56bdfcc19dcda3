"""Contacts in and out as the CSV files animators really have.

`imports` is the import service (`import_contacts`), built from `reading` (bytes to rows:
encoding, delimiter, size limits), `headers` (a file's column names to our fields), `rows`
(one row to a contact and its organisation) and `state` (what the database already knows,
loaded once per file). `exports` writes the file an import reads back. `safety` neutralises
spreadsheet formulas on the way out and restores them on the way in; `dialect` is the
delimiter a person may choose.
"""
