"""Animator content (Markdown or HTML, Jinja tags already tokenised) → safe HTML.

- ``markdown``: markdown-it-py (CommonMark + tables + strikethrough) with raw HTML *off*:
  ``<script>`` written in Markdown shows as text.
- ``html``: raw HTML is allowed, then cleaned with lxml: dangerous elements are dropped
  with their content (script, style, iframe, object, form …), unknown ones are unwrapped,
  attributes are allow-listed (no ``on*``), and ``style`` values that can run code go. The
  rules of the file's own ``<style>`` blocks are inlined into its elements first.

In both, every literal link (``href``/``src``) must be relative or http, https, mailto or tel:
anything else (``javascript:``, ``data:``, ``vbscript:``) is refused here with its line. A
link made from variables is checked in each render (``schemes.guard_dynamic_urls``).
Relative links are made absolute against the CRM's base URL: a mail has no page to be
relative to.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from markdown_it import MarkdownIt

from crm.rendering.errors import TemplateError
from crm.rendering.schemes import ALLOWED_SCHEMES, scheme_of
from crm.rendering.tags import TagProtector

FORMATS = ("markdown", "html")

_DROP = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
    "template", "svg", "math", "form", "input", "button", "select", "textarea", "option",
    "base", "meta", "link", "title", "head", "noembed", "noframes", "param", "audio", "video",
    "source", "track", "canvas", "dialog", "portal",
})
_TAGS = frozenset({
    "a", "abbr", "address", "article", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
    "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
    "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "time", "tr", "u", "ul", "var", "wbr",
})
_ATTRIBUTES = frozenset({
    "href", "src", "alt", "title", "width", "height", "align", "valign", "style", "colspan",
    "rowspan", "border", "cellpadding", "cellspacing", "bgcolor", "color", "dir", "lang",
    "target", "rel", "class", "role", "face", "size", "start", "scope", "datetime", "id", "name",
})
_URL_ATTRIBUTES = ("href", "src")
_STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)
_BAD_STYLE = re.compile(r"expression|javascript|vbscript|behaviou?r|-moz-binding|@import|url\s*\(",
                        re.IGNORECASE)


class _Links:
    """Checks and absolutises literal link values; variable parts are left to render time."""

    def __init__(self, protector: TagProtector, base_url: str, where: str) -> None:
        self.protector = protector
        self.base_url = base_url.rstrip("/") + "/"
        self.where = where

    def fix(self, value: str, line: int | None) -> str:
        tokens = self.protector.tokens_in(value)
        literal = value.split(tokens[0], 1)[0] if tokens else value
        scheme = scheme_of(literal)
        if scheme is not None and scheme not in ALLOWED_SCHEMES:
            raise TemplateError(
                f"link scheme '{scheme}:' is not allowed (allowed: "
                f"{', '.join(sorted(ALLOWED_SCHEMES))})",
                where=f"{self.where}:{line or 1}",
            )
        stripped = value.strip()
        if scheme is None and stripped and not tokens and not stripped.startswith("#"):
            return urljoin(self.base_url, stripped)
        return value


def _markdown(source: str, links: _Links, protector: TagProtector) -> str:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # we check schemes ourselves, with a line number
    tokens = md.parse(source)
    for block in tokens:
        for child in block.children or ():
            line = block.map[0] + 1 if block.map else None
            for attr in _URL_ATTRIBUTES:
                value = child.attrGet(attr)
                if isinstance(value, str):
                    child.attrSet(attr, links.fix(value, line))
    out = md.renderer.render(tokens, md.options, {})
    # a statement alone in its paragraph ({% if %} on its own line) needs no <p> of its own
    return re.sub(
        r"<p>(" + protector.prefix + r"[bc]\d+q)</p>\n?", r"\1", out
    )


def _clean(element: lxml_html.HtmlElement, links: _Links) -> None:
    for child in list(element):
        if not isinstance(child.tag, str):  # comments, processing instructions
            tail = child.tail
            parent = child.getparent()
            prev = child.getprevious()
            parent.remove(child)
            if tail:
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            continue
        tag = child.tag.lower()
        if tag in _DROP:
            child.drop_tree()
            continue
        _clean(child, links)
        for name in list(child.attrib):
            value = child.attrib[name]
            lower = name.lower()
            if lower not in _ATTRIBUTES or (lower == "style" and _BAD_STYLE.search(value)):
                del child.attrib[name]
            elif lower in _URL_ATTRIBUTES:
                child.attrib[name] = links.fix(value, child.sourceline)
        if tag not in _TAGS:
            child.drop_tag()


def _html(source: str, links: _Links) -> str:
    if not source.strip():
        return ""
    if _STYLE_BLOCK.search(source):
        # A whole page from an editor (<head><style>): its rules go into style="" on its own
        # elements, which the cleaner keeps (a mail client ignores <style>; it was lost).
        from crm.rendering.inlining import inline_css

        source = inline_css(source)
    root = lxml_html.fragment_fromstring(source, create_parent="div")
    _clean(root, links)
    out = lxml_html.tostring(root, encoding="unicode", method="html")
    return out[len("<div>"):-len("</div>")]


def to_html(source: str, fmt: str, *, protector: TagProtector, base_url: str, where: str) -> str:
    """Safe HTML for tokenised content ``source`` in format ``fmt`` (markdown | html)."""
    links = _Links(protector, base_url, where)
    if fmt == "markdown":
        return _markdown(source, links, protector)
    if fmt == "html":
        try:
            return _html(source, links)
        except etree.ParserError as exc:
            raise TemplateError(f"cannot read this HTML: {exc}", where=where) from None
    raise TemplateError(f"unknown content format {fmt!r} (use one of {', '.join(FORMATS)})",
                        where=where)
