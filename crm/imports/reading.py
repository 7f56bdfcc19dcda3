"""Reading a CSV file as people make them: encoding, delimiter, physical line numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from crm.errors import ImportFileError

_DELIMITERS = (";", ",", "\t", "|")
_EXCEL_SEP = re.compile(r"^\ufeff?sep=(.)\s*$")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def decode(data: bytes, name: str, encoding: str | None = None) -> Decoded:
    """UTF-8 (with or without BOM) first; otherwise Windows-1252, as French Excel writes."""
    if encoding:
        try:
            return Decoded(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ImportFileError(f"{name}: cannot read as {encoding}: {exc}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return Decoded(data[3:].decode("utf-8"), "utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{name}: starts with a UTF-8 mark but is not UTF-8 ({exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Decoded(data.decode("utf-16"), "utf-16")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return Decoded(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        return Decoded(data.decode("latin-1"), "latin-1")


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


@dataclass
class Records:
    """The header and an iterator of (first physical line, cells) for every non-blank record."""

    header: list[str]
    header_line: int
    delimiter: str
    rows: Iterator[tuple[int, list[str]]]


def records(text: str, name: str, delimiter: str | None = None) -> Records:
    lines = text.splitlines()
    skip = 0
    forced = _EXCEL_SEP.match(lines[0]) if lines else None
    if forced:  # Excel's "sep=;" first line
        delimiter, skip = forced.group(1), 1
    # The header is the first non-blank line.
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip >= len(lines):
        raise ImportFileError(f"{name}: the file is empty")
    if delimiter is None:
        counts = {d: _count_outside_quotes(lines[skip], d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","
    stream = io.StringIO(text, newline="")
    for _ in range(skip):
        stream.readline()
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(f"{name}:{skip + 1}: cannot read the header: {exc}") from None
    header_line = skip + 1

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous_end = header_line
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(f"{name}:{previous_end + 1}: {exc}") from None
            start = previous_end + 1
            previous_end = skip + reader.line_num
            if any(cell.strip() for cell in cells):
                yield start, cells

    return Records(header, header_line, delimiter, rows())
