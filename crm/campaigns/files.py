"""Reading a campaign's content file: UTF-8 text, or Windows-1252 said out loud, nothing else.

Animators write content in whatever editor they have; French Windows editors still save
Windows-1252. A file is read as UTF-8 (a byte-order mark is fine); when it is not UTF-8 at
all, and every line decodes as Windows-1252 text, it is read as that, and the caller is
told so (a note to show, never a silent guess). A file that mixes the two (a UTF-8 file
with a pasted Latin-1 line), a binary file (NUL bytes, control characters, bytes no text
encoding has), a folder or a file too large to be content is refused, naming the file and
the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from crm.errors import NotFound, ValidationError

#: content bodies are at most 200,000 characters (crm.rendering.renderer): 4 bytes each at most
MAX_BYTES = 4 * 200_000
_FIX = "save it as UTF-8 text"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")  # ESC (\x1b) is left to the HTML cleaner


@dataclass(frozen=True)
class ContentFile:
    text: str
    format: str  # "markdown" | "html"
    encoding: str  # "utf-8" | "cp1252"
    note: str | None  # what the reader should be told (an encoding that was guessed)


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _decode(data: bytes, where: str) -> tuple[str, str, str | None]:
    if data.startswith(_UTF16_BOMS):
        raise ValidationError(f"the file is UTF-16 ({_FIX})", where)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise ValidationError(f"this is not a text file: it holds NUL bytes ({_FIX})", where)
    bad, utf8 = [], False
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            utf8 |= not line.decode("utf-8").isascii()
        except UnicodeDecodeError:
            bad.append(number)
    if utf8:
        raise ValidationError(f"{_lines(bad)} {'are' if len(bad) > 1 else 'is'} not UTF-8 while the rest of the "
                              f"file is ({_FIX}, or fix {'these lines' if len(bad) > 1 else 'this line'})", where)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"byte {exc.start + 1} is neither UTF-8 nor Windows-1252 text ({_FIX})", where) from None
    return text, "cp1252", f"{where}: not UTF-8 ({_lines(bad)}), read as Windows-1252; {_FIX} to be sure"


def read(path: str, where: str) -> ContentFile:
    """The content of ``path``; ``where`` names it in messages (``--content fr=lettre.md``).

    Raises NotFound when there is no such file (or it is a folder, or unreadable), and
    ValidationError when it is not text or too large.
    """
    if not path.strip():
        raise ValidationError("give the path of a Markdown or HTML file", where)
    file = Path(path)
    if file.is_dir():
        raise NotFound(f"{where}: is a folder, not a file (give a Markdown or HTML file)")
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise NotFound(f"{where}: no such file") from None
    except OSError as exc:
        raise NotFound(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise ValidationError(f"the file is larger than {MAX_BYTES:,} bytes: content is at most 200,000 characters",
                              where)
    text, encoding, note = _decode(data, where)
    binary = _BINARY.search(text)
    if binary:
        line = text.count("\n", 0, binary.start()) + 1
        raise ValidationError(f"this is not a text file: line {line} holds the control character "
                              f"U+{ord(binary.group()):04X} ({_FIX})", where)
    fmt = "html" if file.suffix.lower() in (".html", ".htm") else "markdown"
    return ContentFile(text, fmt, encoding, note)
