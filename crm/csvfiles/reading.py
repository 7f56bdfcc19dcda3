"""Reading a CSV file as people make them: encoding, delimiter, physical line numbers.

Encoding, decided per file from evidence (`decode`):
- a UTF-8 mark (BOM) or UTF-16 mark: that encoding;
- the whole file is valid UTF-8: UTF-8;
- otherwise every line holding non-ASCII bytes is a witness, for UTF-8 (it decodes as
  UTF-8) or against it (it does not). If at least as many lines are UTF-8 as not, the file
  is UTF-8 and each line that is not is *rejected* by number ("not UTF-8"), never repaired
  by guessing; otherwise the file is Windows-1252 (Latin-1 when it has bytes 1252 leaves
  undefined), as French Excel writes — or Mac Roman (old Mac Excel) when that reads with
  fewer odd letters ("PrŽnom" in 1252 is "Prénom" in Mac Roman, `_oddities`) — and each
  line that is valid UTF-8 is rejected the same way ("UTF-8 in a Windows-1252 file"). A file with one encoding throughout loses
  nothing; a mixed one never turns "Hélène" into "HÃ©lÃ¨ne" silently.
- the decoded text is normalised to Unicode NFC ("e" + U+0301 becomes "é").

Records (`records`): a quoted value may hold line breaks (an address, notes). A record that
spans several physical lines is accepted only when it looks like one: its quotes are
closed properly (no end of file inside quotes, nothing but a delimiter after a closing
quote), it has the header's number of cells (blank cells past the end are tolerated), none
of its lines but the first and the last reads on its own as a full row (as many cells as
the header), and it spans at most MAX_RECORD_LINES lines. Otherwise the quote is taken
for a stray one: the record's first line is rejected, naming the column where the quote
opened, and reading goes on with the next physical line, so the rows the quote would have
swallowed are read as rows. A value longer than csv's field limit (131,072 characters)
rejects its record the same way, not the file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crm.errors import ImportFileError, NotFound

_DELIMITERS = (";", ",", "\t", "|")
_EXCEL_SEP = re.compile(r"^\ufeff?sep=(.)\s*$")
MAX_RECORD_LINES = 200


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    bad_lines: dict[int, str] = field(default_factory=dict)  # physical line -> why it is rejected


MAX_FILE_BYTES = 256 * 1024 * 1024  # about 2.5 million contact rows; larger files are split


def file_bytes(path: Path) -> bytes:
    """The file's content, refused whole when it is not a regular file (a folder, a device
    such as /dev/zero, a pipe that never ends) or larger than the import reads at once."""
    if path.is_dir():
        raise NotFound(f"{path}: is a folder, not a file")
    if not path.exists():
        raise NotFound(f"{path}: no such file")
    if not path.is_file():
        raise ImportFileError(f"{path}: not a regular file (a device or a pipe); save the CSV to a file first")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFileError(f"{path}: {size:,} bytes is more than one import reads "
                              f"({MAX_FILE_BYTES // 2**20} MiB): split the file")
    return path.read_bytes()


def _line_of(data: bytes, offset: int) -> int:
    return len(data[:offset].splitlines()) + (1 if data[:offset].endswith((b"\n", b"\r")) or offset == 0 else 0)


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def decode(data: bytes, name: str, encoding: str | None = None) -> Decoded:
    """The file's text and encoding (see the module's docstring for the rule)."""
    if encoding:
        try:
            return Decoded(_nfc(data.decode(encoding)), encoding)
        except LookupError:
            raise ImportFileError(f"--encoding {encoding!r}: unknown encoding; try utf-8 or cp1252") from None
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start)
            raise ImportFileError(
                f"{name}:{line}: not {encoding} (byte 0x{data[exc.start]:02X}): give the file's real "
                "encoding with --encoding, or leave it out to let the import decide"
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(_nfc(data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError:
            raise ImportFileError(f"{name}: starts with a UTF-16 mark but is not UTF-16: save it again as UTF-8") from None
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        return Decoded(_nfc(body.decode("utf-8")), "utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        pass
    lines = body.splitlines(keepends=True)
    utf8: list[int] = []
    other: list[int] = []
    for number, raw in enumerate(lines, 1):
        if raw.isascii():
            continue
        try:
            raw.decode("utf-8")
            utf8.append(number)
        except UnicodeDecodeError:
            other.append(number)
    if bom or len(utf8) >= len(other):
        parts = []
        for raw in lines:
            try:
                parts.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                parts.append(raw.decode("cp1252", errors="replace"))
        bad = {
            n: "not UTF-8 while the rest of the file is (a line saved from another program?): "
            "retype its accented letters, or save the whole file as UTF-8"
            for n in other
        }
        return Decoded(_nfc("".join(parts)), "utf-8-sig" if bom else "utf-8", bad)
    try:
        text, used = body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, used = body.decode("latin-1"), "latin-1"
    mac = body.decode("mac_roman")
    if _oddities(mac) < _oddities(text):
        text, used = mac, "mac_roman"
    bad = {
        n: f"UTF-8 while the rest of the file is {used}: retype its accented letters, "
        "or save the whole file in one encoding (UTF-8)"
        for n in utf8
    }
    return Decoded(_nfc(text), used, bad)


_USUAL = set("æœøßÆŒØÐðÞþ€£¥¢…‘’“”«»–—•°§©®±×÷¿¡ªº·\u00a0")


def _usual(char: str) -> bool:
    """A Latin letter with or without accents, or the punctuation people type."""
    base = unicodedata.decomposition(char).split(" ")[0]
    return char in _USUAL or (len(base) == 4 and chr(int(base, 16)).isascii() and chr(int(base, 16)).isalpha())


def _oddities(text: str) -> int:
    """How many non-ASCII characters read wrongly in a text decoded with a guessed encoding.

    Mac Roman puts é, è, à, ç, ô … at the bytes where Windows-1252 has Ž, ˆ, ™, ", undefined
    bytes …, and the reverse: read in the wrong one, "Prénom" is "PrŽnom" or "PrÈnom", "JOSÉ"
    is "JOSƒ". Odd: a control character, a character that is neither a Latin letter nor usual
    punctuation, or a capital or symbol right after a small letter.
    """
    odd = 0
    for index, char in enumerate(text):
        if char.isascii():
            continue
        kind = unicodedata.category(char)
        after_small = index > 0 and text[index - 1].islower()
        if kind[0] == "C" or not _usual(char) or (after_small and (kind == "Lu" or kind[0] == "S")):
            odd += 1
    return odd


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
    """The header and an iterator of (first physical line, cells) for every non-blank record.

    A record that cannot be read yields (line, RowError) instead of its cells.
    """

    header: list[str]
    header_line: int
    delimiter: str
    rows: Iterator[tuple[int, list[str] | RowError]]


@dataclass(frozen=True)
class RowError:
    """Why the record starting at a line cannot be read; ``column`` is a cell index or None."""

    message: str
    column: int | None = None


class _Lines:
    """Feeds physical lines to csv.reader and tells how many it took."""

    def __init__(self, lines: list[str], pos: int, stop: int) -> None:
        self.lines, self.pos, self.stop = lines, pos, stop

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= self.stop:
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def records(text: str, name: str, delimiter: str | None = None, bad_lines: dict[int, str] | None = None) -> Records:
    lines = io.StringIO(text, newline="").readlines()
    skip = 0
    forced = _EXCEL_SEP.match(lines[0].rstrip("\r\n")) if lines else None
    if forced:  # Excel's "sep=;" first line
        delimiter, skip = forced.group(1), 1
    # The header is the first non-blank line.
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip >= len(lines):
        raise ImportFileError(f"{name}: the file is empty")
    bad = bad_lines or {}
    if skip + 1 in bad:
        raise ImportFileError(f"{name}:{skip + 1}: the header is {bad[skip + 1]}")
    if delimiter is None:
        counts = {d: _count_outside_quotes(lines[skip], d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","
    source = _Lines(lines, skip, len(lines))
    try:
        header = next(csv.reader(source, delimiter=delimiter, strict=False))
    except (csv.Error, StopIteration) as exc:
        raise ImportFileError(f"{name}:{skip + 1}: cannot read the header: {exc}") from None
    header_line = skip + 1
    return Records(header, header_line, delimiter, _rows(lines, source.pos, delimiter, len(header), bad))


def _cells_alone(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter, strict=False), []))
    except csv.Error:
        return 0


def _well_formed(lines: list[str], delimiter: str) -> bool:
    try:
        return len(list(csv.reader(lines, delimiter=delimiter, strict=True))) == 1
    except csv.Error:
        return False


def _stray_quote(lines: list[str], start: int, end: int, cells: list[str], delimiter: str, width: int) -> bool:
    """True when a record over lines[start:end] (several) is a quote that runs away."""
    if end - start > MAX_RECORD_LINES:
        return True
    count = len(cells)
    while count > width and not cells[count - 1].strip():
        count -= 1
    if count != width:
        return True
    if width >= 2 and any(_cells_alone(lines[i], delimiter) >= width for i in range(start + 1, end - 1)):
        return True
    return not _well_formed(lines[start:end], delimiter)


def _opening_column(cells: list[str]) -> int | None:
    for index, cell in enumerate(cells):
        if "\n" in cell or "\r" in cell:
            return index
    return None


def _rows(lines: list[str], pos: int, delimiter: str, width: int, bad: dict[int, str]) -> Iterator[tuple[int, list[str] | RowError]]:
    total = len(lines)
    source = _Lines(lines, pos, total)
    reader = csv.reader(source, delimiter=delimiter, strict=False)
    while source.pos < total:
        start = source.pos
        # At most MAX_RECORD_LINES + 1 lines per record: a runaway quote stops there.
        source.stop = min(total, start + MAX_RECORD_LINES + 1)
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            source.pos = start + 1
            reader = csv.reader(source, delimiter=delimiter, strict=False)
            yield start + 1, RowError(f"cannot read this line ({exc}): shorten or fix the value")
            continue
        end = source.pos
        if end - start > 1 and _stray_quote(lines, start, end, cells, delimiter, width):
            source.pos = start + 1
            reader = csv.reader(source, delimiter=delimiter, strict=False)
            yield start + 1, RowError(
                "a quote (\") opens a value that is not closed on this line, so the lines after it "
                "would be read into it: close the quote or remove it",
                _opening_column(cells),
            )
            continue
        if bad:
            wrong = next((n for n in range(start + 1, end + 1) if n in bad), None)
            if wrong is not None:
                yield start + 1, RowError(f"line {wrong} is {bad[wrong]}")
                continue
        if any(cell.strip() for cell in cells):
            yield start + 1, cells
