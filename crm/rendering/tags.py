"""Jinja tags as opaque placeholders while HTML tools (Markdown, the cleaner, premailer) work.

premailer (lxml underneath) URL-encodes ``{{ x }}`` inside ``href`` (``{{%20x%20}}``) and
writes ``{% if a > b %}`` as ``{% if a &gt; b %}``; Markdown would do its own damage. So,
before any of them runs, every tag -- ``{{ … }}``, ``{% … %}``, ``{# … #}`` -- becomes a
token of lower-case letters and digits (``zjq<nonce>v7q``) that no HTML or URL tool touches,
and afterwards each token is put back.

Putting back is also where the source is *closed*: text between tokens came out of the
tools, which decode entities (``&#123;&#123;`` → ``{{``), so any ``{{``, ``{%`` or ``{#`` left in
it is written as ``{{ '{' }}`` and prints as text. The compiled template therefore holds
exactly the tags that were checked, no more; a token that went missing, doubled, moved or
landed inside an HTML tag outside an attribute value is an error naming the tag's line.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from crm.rendering.errors import TemplateError

_OPEN = re.compile(r"\{([{%#])")
_RAW = re.compile(r"\{%[-+]?\s*(raw|endraw)\b")
_LITERAL_OPEN = re.compile(r"\{(?=[{%#]|\Z)")
_HTML_TAG = re.compile(r"<[^>]*>")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_KINDS = {"{": "v", "%": "b", "#": "c"}


@dataclass(frozen=True)
class Tag:
    token: str
    text: str  # the tag as written, e.g. "{{ links.unsubscribe }}"
    kind: str  # "v" (print), "b" (block statement) or "c" (comment)
    where: str  # "content[fr]:3"


def _scan(source: str, start: int, closer: str) -> int:
    """Index just past the tag opened at ``start`` (strings and brackets are skipped)."""
    i, depth, n = start + 2, 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "'\"":
            j = i + 1
            while j < n and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            i = j + 1
            continue
        if depth == 0 and source.startswith(closer, i):
            return i + 2
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth:
            depth -= 1
        i += 1
    return -1


class TagProtector:
    """Swap tags for tokens and back; one instance per prepared template."""

    def __init__(self) -> None:
        self.prefix = "zjq" + secrets.token_hex(5)
        self.tags: dict[str, Tag] = {}
        self._pattern = re.compile(self.prefix + r"[vbc]\d+q")

    def protect(self, source: str, where: str) -> str:
        if self.prefix in source:  # astronomically unlikely; a new nonce would do, but say so
            raise TemplateError("content contains a reserved placeholder", where=where)
        out: list[str] = []
        pos, line, line_pos = 0, 1, 0
        while (m := _OPEN.search(source, pos)) is not None:
            start = m.start()
            line += source.count("\n", line_pos, start)
            line_pos = start
            kind = m.group(1)
            if kind == "#":
                end = source.find("#}", start + 2)
                end = end + 2 if end >= 0 else -1
            else:
                end = _scan(source, start, "}}" if kind == "{" else "%}")
            if end < 0:
                raise TemplateError("unclosed Jinja tag", where=f"{where}:{line}")
            text = source[start:end]
            if kind == "%" and _RAW.match(text):
                raise TemplateError("{% raw %} is not supported in content", where=f"{where}:{line}")
            token = f"{self.prefix}{_KINDS[kind]}{len(self.tags)}q"
            self.tags[token] = Tag(token, text, _KINDS[kind], f"{where}:{line}")
            out.append(source[pos:start])
            out.append(token)
            pos = end
        out.append(source[pos:])
        return "".join(out)

    def add(self, text: str, where: str) -> str:
        """A token for a statement the preparation adds itself (e.g. the URL guard)."""
        token = f"{self.prefix}b{len(self.tags)}q"
        self.tags[token] = Tag(token, text, "b", where)
        return token

    def has_tokens(self, text: str) -> bool:
        return self._pattern.search(text) is not None

    def tokens_in(self, text: str) -> list[str]:
        return self._pattern.findall(text)

    def is_block(self, token: str) -> bool:
        return self.tags[token].kind == "b"

    def _fail(self, token: str, message: str) -> None:
        tag = self.tags[token]
        raise TemplateError(f"the Jinja tag {tag.text!r} {message}", where=tag.where)

    def check(self, text: str, expected: list[str], *, optional_prints: bool = False) -> None:
        """``text`` holds the ``expected`` tokens, each once, in order, never inside a tag.

        With ``optional_prints`` (the plain-text part), print and comment tags may be
        missing (an attribute the text conversion drops); statements may not.
        """
        found = self.tokens_in(text)
        if optional_prints:
            present = set(found)
            expected = [t for t in expected if t in present or self.tags[t].kind == "b"]
        if found != expected:
            seen: set[str] = set()
            for token in found:
                if token in seen:
                    self._fail(token, "was duplicated by HTML processing")
                seen.add(token)
            for token in expected:
                if token not in seen:
                    self._fail(token, "sits where HTML processing removes it (inside a script, "
                                      "style, comment or dropped attribute, or inside a tag "
                                      "outside an attribute value)")
            for a, b in zip(found, expected):
                if a != b:
                    self._fail(b, "was moved by HTML processing (put it inside a cell or a "
                                  "paragraph)")
        for m in _HTML_TAG.finditer(text):
            bare = _QUOTED.sub("", m.group(0))
            inside = self._pattern.search(bare)
            if inside:
                self._fail(inside.group(0), "sits inside an HTML tag outside an attribute value")

    def restore(self, text: str) -> str:
        """Put every tag back; neutralise tag openers in the text between them."""
        out: list[str] = []
        pos = 0
        for m in self._pattern.finditer(text):
            out.append(_LITERAL_OPEN.sub("{{ '{' }}", text[pos:m.start()]))
            out.append(self.tags[m.group(0)].text)
            pos = m.end()
        tail = text[pos:]
        out.append(re.sub(r"\{(?=[{%#])", "{{ '{' }}", tail))
        return "".join(out)
