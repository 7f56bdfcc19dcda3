"""HTML (the cleaned, tokenised content) → the plain-text part.

Paragraphs and headings become blocks separated by a blank line, list items start with
``- `` or ``1.``, a link is ``label (url)``, an image its ``[alt]``, a quote ``> ``, a rule
``----``, table cells are separated by `` | ``. Jinja tokens pass through as text, so the
text part is a template too; statements found in attributes that text has no room for
(``class="{% if … %}…{% endif %}"``) are kept, alone, so that the structure still closes.
"""

from __future__ import annotations

import re

from lxml import html as lxml_html

from crm.rendering.tags import TagProtector

_BLOCKS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "section", "article",
    "header", "footer", "figure", "figcaption", "address", "dl", "dt", "dd", "center", "caption",
})
_HEADINGS = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "##### ", "h6": "###### "}
_SPACES = re.compile(r"[ \t\r\f\v]+")


_INDENT = "\x01"  # survives the final strip of each line, becomes two spaces


class _Writer:
    def __init__(self, protector: TagProtector) -> None:
        self.protector = protector
        self.parts: list[str] = []

    def sub(self, el: lxml_html.HtmlElement, pre: bool, depth: int) -> str:
        """The text of ``el``'s content, written apart (for cells and quotes)."""
        writer = _Writer(self.protector)
        writer.children(el, pre, depth)
        return _tidy("".join(writer.parts))

    def text(self, value: str | None, pre: bool) -> None:
        if value:
            self.parts.append(value if pre else _SPACES.sub(" ", value.replace("\n", " ")))

    def kept_statements(self, element: lxml_html.HtmlElement, rendered: tuple[str, ...]) -> None:
        for name, value in element.attrib.items():
            if name in rendered:
                continue
            for token in self.protector.tokens_in(value):
                if self.protector.is_block(token):
                    self.parts.append(token)

    def children(self, el: lxml_html.HtmlElement, pre: bool, depth: int) -> None:
        self.text(el.text, pre)
        for child in el:
            if isinstance(child.tag, str):
                self.walk(child, pre, depth)
            self.text(child.tail, pre)

    def walk(self, el: lxml_html.HtmlElement, pre: bool = False, depth: int = 0) -> None:
        tag = el.tag.lower()
        pre = pre or tag == "pre"
        if tag == "a":
            self.kept_statements(el, ("href",))
            href = el.get("href", "").strip()
            label = _SPACES.sub(" ", el.text_content()).strip()
            if href and href != "#" and label != href.removeprefix("mailto:"):
                self.parts.append(f"{label} ({href.removeprefix('mailto:')})" if label else href)
            else:
                self.parts.append(label or href)
            return
        if tag == "img":
            self.kept_statements(el, ("alt",))
            alt = el.get("alt", "").strip()
            if alt:
                self.parts.append(f"[{alt}]")
            return
        self.kept_statements(el, ())
        if tag == "br":
            self.parts.append("\n")
        elif tag == "hr":
            self.parts.append("\n\n----\n\n")
        elif tag == "blockquote":
            quoted = self.sub(el, pre, depth)
            self.parts.append("\n\n" + "\n".join("> " + line for line in quoted.split("\n")) + "\n\n")
        elif tag == "tr":
            cells = [self.sub(c, pre, depth).replace("\n", " ") for c in el if isinstance(c.tag, str)]
            self.parts.append("\n" + " | ".join(cells))
        elif tag in ("ul", "ol") and depth:  # nested: its items start their own lines
            self.children(el, pre, depth + 1)
        elif tag in ("ul", "ol"):
            self.parts.append("\n\n")
            self.children(el, pre, depth + 1)
            self.parts.append("\n\n")
        elif tag == "li":
            parent = el.getparent()
            ordered = parent is not None and parent.tag == "ol"
            bullet = f"{list(parent).index(el) + 1}. " if ordered else "- "
            self.parts.append("\n" + _INDENT * max(depth - 1, 0) + bullet)
            self.children(el, pre, depth)
        elif tag in _BLOCKS:
            self.parts.append("\n\n" + _HEADINGS.get(tag, ""))
            self.children(el, pre, depth)
            self.parts.append("\n\n")
        else:
            self.children(el, pre, depth)


def _tidy(text: str) -> str:
    lines = [line.strip().replace(_INDENT, "  ") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def to_text(fragment: str, protector: TagProtector) -> str:
    """The plain text of an HTML fragment; tokens kept as they are."""
    if not fragment.strip():
        return ""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    writer = _Writer(protector)
    writer.children(root, False, 0)
    text = _tidy("".join(writer.parts))
    # a statement that opens or closes a line takes no space with it: "{% if %} Text" would
    # print " Text"
    block = protector.prefix + r"b\d+q"
    text = re.sub(r"(^|\n)(" + block + r") +", r"\1\2", text)
    return re.sub(r" +(" + block + r")(?=\n|$)", r"\1", text)
