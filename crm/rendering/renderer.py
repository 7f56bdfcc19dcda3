"""Prepare once, render per recipient.

``Renderer.prepare(kind, content)`` does the expensive and the risky work once per
(kind, language, content): it checks the animator's subject and body (syntax, allowed
constructs, known variables, literal link schemes, a trial render against a sample
recipient), turns the body into safe HTML and plain text, puts both in the kind's shell for
the language, inlines the CSS with premailer (tags protected), and compiles three sandboxed
templates. The result is cached.

``PreparedTemplate.render(recipient, links, extra)`` is the per-recipient path: three Jinja
renders of already-inlined templates, under a time and size budget (links built from
variables pass the scheme check compiled into the template). No premailer, no Markdown, no
HTML parsing.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Template, TemplateError as JinjaError, TemplateSyntaxError
from jinja2.sandbox import SecurityError

from crm.errors import ValidationError
from crm.rendering import inlining, limits
from crm.rendering.content import FORMATS, to_html
from crm.rendering.environment import CRMSandbox, compile_template
from crm.rendering.errors import RenderLimitExceeded, TemplateError
from crm.rendering.layouts import (
    HTML_MARKER, KINDS, TEXT_MARKER, Layouts, base_language, direction, email_templates_dir,
    is_language_tag,
)
from crm.rendering.plaintext import to_text
from crm.rendering.schemes import guard_dynamic_urls
from crm.rendering.tags import TagProtector
from crm.rendering.validation import check_content
from crm.rendering.variables import namespace, sample_namespace

if TYPE_CHECKING:
    from crm.settings import Settings

MAX_SUBJECT_CHARS = 300
MAX_BODY_CHARS = 200_000
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")
_SUBJECT_SPACE = re.compile(r"\s+")
# AssertionError: jinja's own filters assert their arguments (truncate(-5), truncate(5, end=…))
_RUNTIME_ERRORS = (JinjaError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError, AssertionError)


@dataclass(frozen=True)
class Content:
    """Animator-written content for one language."""

    language: str  # BCP 47, e.g. "fr"
    subject: str  # may use {{ contact.first_name }} etc.
    body: str  # Markdown or HTML, may use the same variables
    format: str = "markdown"  # "markdown" | "html"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    html: str
    text: str


def _line_of(exc: BaseException, name: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == name:
            line = frame.lineno
    return line


def _run(template: Template, variables: Mapping[str, object], name: str, max_chars: int) -> str:
    """One template's output, within budget; every failure a TemplateError naming ``name``."""
    try:
        return limits.collect(template.generate(variables), max_chars)
    except TemplateError as exc:
        if exc.where is None:
            line = _line_of(exc, name)
            exc.where = f"{name}:{line}" if line else name
            exc.args = (f"{exc.where}: {exc.message}",)
        raise
    except SecurityError as exc:
        line = _line_of(exc, name)
        raise TemplateError(f"not allowed: {exc}", where=f"{name}:{line}" if line else name) from None
    except _RUNTIME_ERRORS as exc:
        line = _line_of(exc, name)
        raise TemplateError(str(exc) or type(exc).__name__, where=f"{name}:{line}" if line else name) from None


class PreparedTemplate:
    """One (kind, language, content), inlined and compiled; render it per recipient."""

    def __init__(
        self, *, kind: str, language: str, subject: Template, html: Template, text: Template,
        names: tuple[str, str, str], html_source: str, text_source: str, cluster_name: str,
        budget: limits.Limits,
    ) -> None:
        self.kind = kind
        self.language = language
        self.direction = direction(language)
        self.html_source = html_source  # the inlined, compiled HTML template (for previews, tests)
        self.text_source = text_source
        self._subject, self._html, self._text = subject, html, text
        self._names = names
        self._cluster_name = cluster_name
        self._budget = budget

    def __repr__(self) -> str:
        return f"<PreparedTemplate {self.kind}/{self.language}>"

    def render(
        self,
        recipient: Mapping[str, str | None],
        links: Mapping[str, str],
        extra: Mapping[str, object] | None = None,
    ) -> RenderedMessage:
        """Subject, HTML and text for one recipient (allow-listed plain fields only).

        Raises TemplateError (RenderLimitExceeded past the time or size budget).
        """
        return self._render(namespace(recipient, links, extra, self._cluster_name))

    def _render(self, variables: dict[str, object]) -> RenderedMessage:
        size = self._budget.max_output_bytes
        subject_name, html_name, text_name = self._names
        with limits.time_budget(self._budget.max_seconds):
            # line breaks can only come from field values (the subject's own are refused at
            # prepare time): a subject is one line
            subject = _SUBJECT_SPACE.sub(" ", _run(self._subject, variables, subject_name, size)).strip()
            html = _run(self._html, {**variables, "subject": subject}, html_name, size)
            text = _run(self._text, variables, text_name, size)
        text = _BLANK_LINES.sub("\n\n", text).strip("\n") + "\n"
        total = len(subject.encode()) + len(html.encode()) + len(text.encode())
        if total > size:
            raise RenderLimitExceeded(f"message is larger than {size:,} bytes", where=html_name)
        return RenderedMessage(subject=subject, html=html, text=text)


class Renderer:
    """Shipped layouts + animator content → PreparedTemplate, cached per (kind, language, content)."""

    KINDS = KINDS

    def __init__(
        self,
        templates_dir: Path | None = None,
        *,
        cluster_name: str,
        base_url: str,
        max_render_seconds: float = 2.0,
        max_output_bytes: int = 1_000_000,
        cache_size: int = 256,
    ) -> None:
        self.layouts = Layouts(email_templates_dir(templates_dir))
        self.cluster_name = cluster_name
        self.base_url = base_url.rstrip("/")
        self.limits = limits.Limits(max_render_seconds, max_output_bytes)
        self.inline_calls = 0  # premailer runs so far: one per prepared (kind, language, content)
        self._html_env = CRMSandbox(autoescape=True, max_output=max_output_bytes)
        self._text_env = CRMSandbox(autoescape=False, max_output=max_output_bytes)
        self._cache: OrderedDict[tuple[str, str, str], PreparedTemplate] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()

    @classmethod
    def for_settings(cls, settings: Settings) -> Renderer:
        """The renderer every way in uses (the cluster's name and public address come from the
        settings). Checking a template is a rendering call, and this is all it needs: no
        transport, no link secret, no DKIM key (`campaigns create` and the demo validate
        with it; the send engine's `Composer` wraps the same)."""
        return cls(cluster_name=settings.cluster_name, base_url=settings.base_url)

    # -- languages -------------------------------------------------------------------------
    def languages(self) -> list[str]:
        """Languages the shipped layouts are translated into (others use English strings)."""
        return self.layouts.languages()

    def choose_language(
        self, contact_language: str | None, available: Sequence[str], campaign_default: str,
        cluster_default: str,
    ) -> str:
        """The contact's language if there is content in it (or in its base: fr-CA → fr),
        else the campaign's default, else the cluster's; as spelled in ``available``."""
        options = list(available)
        if not options:
            raise ValidationError("the campaign has content in no language", where="content")
        by_tag = {a.lower(): a for a in options}

        def match(tag: str | None) -> str | None:
            if not tag or not tag.strip():
                return None
            tag = tag.strip().replace("_", "-").lower()
            if tag in by_tag:
                return by_tag[tag]
            base = base_language(tag)
            if base in by_tag:
                return by_tag[base]
            return next((a for a in options if base_language(a) == base), None)

        for wanted in (contact_language, campaign_default, cluster_default):
            if (found := match(wanted)) is not None:
                return found
        return options[0]

    # -- prepare ---------------------------------------------------------------------------
    def prepare(self, kind: str, content: Content) -> PreparedTemplate:
        """Check, inline (premailer, once) and compile; cached per (kind, language, content)."""
        if kind not in KINDS:
            raise TemplateError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})", where="kind")
        self._check_shape(content)
        digest = hashlib.sha256(
            json.dumps([content.subject, content.body, content.format], ensure_ascii=False).encode()
        ).hexdigest()
        key = (kind, content.language.lower(), digest)
        with self._lock:
            prepared = self._cache.get(key)
            if prepared is not None:
                self._cache.move_to_end(key)
                return prepared
            prepared = self._build(kind, content)
            self._cache[key] = prepared
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return prepared

    def _check_shape(self, content: Content) -> None:
        lang = content.language
        if not isinstance(lang, str) or not is_language_tag(lang):
            raise TemplateError(f"{lang!r} is not a language tag (e.g. fr, en, ar, pt-BR)",
                                where="content.language")
        if content.format not in FORMATS:
            raise TemplateError(f"unknown content format {content.format!r} "
                                f"(use one of {', '.join(FORMATS)})", where=f"content[{lang}]")
        if not content.subject.strip():
            raise TemplateError("the subject is empty", where=f"subject[{lang}]:1")
        if "\r" in content.subject or "\n" in content.subject:
            raise TemplateError("a subject is one line (no line breaks)", where=f"subject[{lang}]:1")
        if len(content.subject) > MAX_SUBJECT_CHARS:
            raise TemplateError(f"the subject is longer than {MAX_SUBJECT_CHARS} characters",
                                where=f"subject[{lang}]:1")
        if len(content.body) > MAX_BODY_CHARS:
            raise TemplateError(f"the body is longer than {MAX_BODY_CHARS:,} characters",
                                where=f"content[{lang}]")

    def _compile(self, env: CRMSandbox, source: str, name: str) -> Template:
        try:
            return compile_template(env, source, name)
        except TemplateSyntaxError as exc:
            raise TemplateError(exc.message or "syntax error", where=f"{name}:{exc.lineno}") from None
        except JinjaError as exc:
            raise TemplateError(str(exc), where=name) from None

    def _build(self, kind: str, content: Content) -> PreparedTemplate:
        lang = content.language
        where_subject, where_body = f"subject[{lang}]", f"content[{lang}]"
        shell_name = f"template[{kind}/{lang}]"
        names = (where_subject, f"{shell_name}.html", f"{shell_name}.txt")
        sample = sample_namespace(lang, self.cluster_name)
        size = self.limits.max_output_bytes

        # 1. the animator's sources alone: syntax, constructs, variables, a trial render
        check_content(self._text_env, content.subject, where_subject)
        check_content(self._html_env, content.body, where_body)
        subject = self._compile(self._text_env, content.subject, where_subject)
        probe = self._compile(self._html_env, content.body, where_body)
        with limits.time_budget(self.limits.max_seconds):
            _run(subject, sample, where_subject, size)
            _run(probe, sample, where_body, size)

        # 2. body → safe HTML and text, tags as tokens
        protector = TagProtector()
        body = protector.protect(content.body, where_body)
        fragment = to_html(body, content.format, protector=protector, base_url=self.base_url,
                           where=where_body)
        protector.check(fragment, protector.tokens_in(body))
        text_fragment = to_text(fragment, protector)

        # 3. into the shell, premailer once, tags back
        shell_html, shell_text = self.layouts.shell(kind, lang)
        document = protector.protect(shell_html, names[1]).replace(
            HTML_MARKER, f'<div class="prose">{fragment}</div>'
        )
        expected = protector.tokens_in(document)
        inlined = inlining.inline_css(document)
        self.inline_calls += 1
        protector.check(inlined, expected)
        guarded = guard_dynamic_urls(
            inlined, protector.has_tokens,
            lambda value: protector.add("{% filter crm_url %}", names[1]) + value
            + protector.add("{% endfilter %}", names[1]),
        )
        html_source = protector.restore(guarded)

        text_shell = protector.protect(shell_text, names[2])
        text_document = text_shell.replace(TEXT_MARKER, text_fragment)
        protector.check(text_document, protector.tokens_in(text_shell.replace(TEXT_MARKER, body)),
                        optional_prints=True)
        text_source = protector.restore(text_document)

        prepared = PreparedTemplate(
            kind=kind, language=lang, subject=subject,
            html=self._compile(self._html_env, html_source, names[1]),
            text=self._compile(self._text_env, text_source, names[2]),
            names=names, html_source=html_source, text_source=text_source,
            cluster_name=self.cluster_name, budget=self.limits,
        )
        prepared._render(sample)  # the whole message once, before any recipient sees it
        return prepared
