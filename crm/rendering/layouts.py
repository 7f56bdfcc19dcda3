"""The shipped layout and per-kind templates, filled per language once (the "shell").

Templates under ``templates/email/`` are written in two syntaxes (see its README):
``[[ … ]]`` / ``[% … %]`` are resolved here, once per (kind, language): translated strings
(``strings/<lang>.toml``, missing keys and languages fall back to English), ``lang``,
``dir`` and ``align``; ``{{ … }}`` / ``{% … %}`` pass through untouched and are rendered per
recipient in the sandbox. The animator's content goes where the kind template puts
``[[ content ]]``, after this step, so none of it is ever read as ``[[ … ]]``.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from crm.resources import templates_dir as _shipped_templates_dir

KINDS = ("newsletter", "invitation", "press_release", "call_for_projects", "survey")
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})
FALLBACK_LANGUAGE = "en"
HTML_MARKER = "<!--crm:content-->"
TEXT_MARKER = "\x02crm:content\x03"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def base_language(tag: str) -> str:
    """``fr-CA`` → ``fr``."""
    return tag.split("-", 1)[0].lower()


def is_language_tag(tag: str) -> bool:
    return bool(_LANGUAGE.match(tag))


def direction(language: str) -> str:
    return "rtl" if base_language(language) in RTL_LANGUAGES else "ltr"


def email_templates_dir(path: Path | None) -> Path:
    """``templates/email`` from ``templates/`` or from itself; the shipped one by default."""
    root = Path(path) if path is not None else _shipped_templates_dir()
    return root / "email" if (root / "email" / "layout.html").is_file() else root


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


class Layouts:
    """Shells (layout + kind, per language) and their strings, cached."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        if not (directory / "layout.html").is_file():
            raise FileNotFoundError(f"no layout.html in {directory}")
        self.env = Environment(
            loader=FileSystemLoader(str(directory)),
            block_start_string="[%", block_end_string="%]",
            variable_start_string="[[", variable_end_string="]]",
            comment_start_string="[#", comment_end_string="#]",
            autoescape=lambda name: bool(name) and name.endswith(".html"),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.shell = lru_cache(maxsize=None)(self._shell)  # type: ignore[method-assign]
        self.strings = lru_cache(maxsize=None)(self._strings)  # type: ignore[method-assign]

    def languages(self) -> list[str]:
        return sorted(p.stem for p in (self.directory / "strings").glob("*.toml"))

    def strings_language(self, language: str) -> str:
        """The strings file used for ``language``: itself, its base, else English."""
        available = self.languages()
        for candidate in (language.lower(), base_language(language)):
            if candidate in available:
                return candidate
        return FALLBACK_LANGUAGE

    def _strings(self, language: str) -> dict[str, Any]:
        def load(lang: str) -> dict[str, Any]:
            with (self.directory / "strings" / f"{lang}.toml").open("rb") as fh:
                return tomllib.load(fh)

        strings = load(FALLBACK_LANGUAGE)
        chosen = self.strings_language(language)
        return strings if chosen == FALLBACK_LANGUAGE else _merge(strings, load(chosen))

    def _shell(self, kind: str, language: str) -> tuple[str, str]:
        """(html, text) for ``kind`` in ``language``, with the content markers in place."""
        strings = self.strings(language)
        values = {
            "t": strings,
            "label": strings["kinds"][kind],
            "why": strings["why"][kind],
            "lang": language,
            "dir": direction(language),
            "align": "right" if direction(language) == "rtl" else "left",
            "kind": kind,
        }
        html = self.env.get_template(f"{kind}.html").render(content=Markup(HTML_MARKER), **values)
        text = self.env.get_template(f"{kind}.txt").render(content=TEXT_MARKER, **values)
        for name, out, marker in ((f"{kind}.html", html, HTML_MARKER), (f"{kind}.txt", text, TEXT_MARKER)):
            if out.count(marker) != 1:
                raise ValueError(f"{self.directory / name} must place [[ content ]] exactly once")
        return html, text
