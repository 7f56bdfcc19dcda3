"""Fault test 6: template injection, resource bombs, hostile contact data, dangerous links.

Animator content is refused at prepare time (static check with a line number), and the
sandbox below it refuses the same payloads on its own; contact data is data and shows
literally; a link scheme outside http/https/mailto/tel never reaches a recipient.
"""

from __future__ import annotations

import time

import pytest
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SecurityError

from crm.rendering import Content, RenderLimitExceeded, Renderer, TemplateError
from crm.rendering.environment import CRMSandbox, compile_template

BASE = "https://crm.example.org"
LINKS = {"unsubscribe": f"{BASE}/u/TOKEN"}
RECIPIENT = {"first_name": "Camille", "city": "Angers"}

PAYLOADS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ contact.first_name.__class__.__base__.__subclasses__() }}",
    "{{ ''|attr('format') }}",
    "{{ (''|attr('format'))('{0.__class__}', 1) }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ range(10**9)|list }}",
    "{{ self.__init__.__globals__ }}",
    "{{ config }}",
    "{{ request.application }}",
    "{{ contact.__class__ }}",
    "{{ contact['__class__'] }}",
    "{{ contact.first_name.format(1) }}",
    "{{ contact.first_name.center(1000000000) }}",
    "{{ 'a'|center(1000000000) }}",
    "{{ contact.first_name|safe }}",
    "{{ contact.first_name|format('x') }}",
    "{{ {'a': 1} }}",
    "{{ contact }}",
    "{% set x = 'aaaaaaaaaa' %}{{ x }}",
    "{% for i in contact.first_name %}{{ i }}{% endfor %}",
    "{% macro m() %}x{% endmacro %}{{ m() }}",
    "{% include 'layout.html' %}",
    "{% import 'layout.html' as l %}",
    "{% extends 'layout.html' %}",
    "{% autoescape false %}{{ contact.first_name }}{% endautoescape %}",
    "{% filter upper %}x{% endfilter %}",
    "{% with a = 1 %}{{ a }}{% endwith %}",
    "{% raw %}{{ x }}{% endraw %}",
]

BOMBS = [
    "{{ 'a'*10**9 }}",
    "{{ 10**9*'a' }}",
    "{{ 10**(10**10) }}",
    "{{ 2**100000 }}",
    "{{ '%999999999d' % 1 }}",
    "{{ contact.first_name|replace('', 'aaaaaaaaaa')|replace('', 'aaaaaaaaaa')|replace('', 'aaaaaaaaaa')"
    "|replace('', 'aaaaaaaaaa')|replace('', 'aaaaaaaaaa')|replace('', 'aaaaaaaaaa') }}",
    "{{ ['x']*10**8 }}",
]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(cluster_name="Cluster", base_url=BASE)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_refused_at_prepare_time(renderer: Renderer, payload: str) -> None:
    calls = renderer.inline_calls
    with pytest.raises(TemplateError) as err:
        renderer.prepare("newsletter", Content("fr", "Sujet", f"Bonjour,\n\n{payload}\n"))
    assert err.value.where == "content[fr]:3"
    assert renderer.inline_calls == calls
    with pytest.raises(TemplateError, match=r"^subject\[en\]:1: "):
        renderer.prepare("newsletter", Content("en", f"Hi {payload}", "body"))


@pytest.mark.parametrize("bomb", BOMBS)
def test_resource_bombs_are_refused_quickly(renderer: Renderer, bomb: str) -> None:
    start = time.perf_counter()
    with pytest.raises(RenderLimitExceeded) as err:
        renderer.prepare("newsletter", Content("fr", "Sujet", f"Bonjour\n{bomb}"))
    assert time.perf_counter() - start < 2.0
    assert err.value.where == "content[fr]:2"


def test_the_sandbox_refuses_them_on_its_own() -> None:
    """Second wall: the same payloads against the sandbox alone, no static check."""
    env = CRMSandbox(autoescape=True, max_output=1_000_000)
    ns = {"contact": {"first_name": "Camille"}}

    def render(source: str) -> str:
        return compile_template(env, source, "probe").render(ns)

    for payload in ("{{ ''.__class__.__mro__ }}", "{{ contact.first_name.__class__.__base__ }}",
                    "{{ contact.first_name.format(1) }}", "{{ contact.first_name.center(10**9) }}",
                    "{{ contact.items() }}"):
        with pytest.raises(SecurityError):
            render(payload)
    for payload in ("{{ ''|attr('format') }}", "{{ 'a'|center(10) }}", "{{ x|safe }}", "{{ [1]|map('x') }}"):
        with pytest.raises(JinjaTemplateError, match="No filter named"):
            render(payload)
    for payload in ("{{ cycler }}", "{{ joiner() }}", "{{ namespace() }}", "{{ range(3) }}", "{{ lipsum() }}"):
        with pytest.raises(JinjaTemplateError):  # StrictUndefined: no globals at all
            render(payload)
    start = time.perf_counter()
    for bomb in BOMBS[:5]:
        with pytest.raises(RenderLimitExceeded):
            render(bomb)
    assert time.perf_counter() - start < 2.0
    assert render("{{ 2**10 }} {{ 'ab'*3 }} {{ contact.first_name.upper() }}") == "1024 ababab CAMILLE"


def test_a_contact_named_like_a_template_shows_literally(renderer: Renderer) -> None:
    prepared = renderer.prepare("invitation", Content(
        "fr", "Bonjour {{ contact.first_name }} {{ contact.last_name }}",
        "Bonjour {{ contact.first_name }} {{ contact.last_name }} de {{ contact.organisation }}"))
    hostile = {"first_name": "{{7*7}}", "last_name": "<script>alert(1)</script>",
               "organisation": "{% for x in range(9) %}x{% endfor %} &amp; \"Co\""}
    message = prepared.render(hostile, LINKS, {"title": "{{ 6*7 }}", "place": "<b>bold</b>"})
    assert message.subject == "Bonjour {{7*7}} <script>alert(1)</script>"
    assert "Bonjour {{7*7}} &lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "{% for x in range(9) %}x{% endfor %} &amp;amp; &#34;Co&#34;" in message.html
    assert "{{ 6*7 }}" in message.html and "&lt;b&gt;bold&lt;/b&gt;" in message.html
    assert "49" not in message.html and "42" not in message.html and "<script>" not in message.html
    assert "Bonjour {{7*7}} <script>alert(1)</script>" in message.text  # plain text is not HTML


def test_encoded_braces_in_content_stay_text(renderer: Renderer) -> None:
    """Entities and Markdown escapes decode to '{{' after the check: they must not run."""
    html = renderer.prepare("newsletter", Content(
        "fr", "S", "<p>&#123;&#123; 7*7 &#125;&#125; &#123;% if 1 %&#125;oui&#123;% endif %&#125; "
                   "{&#123; 6*7 }}</p>", "html")).render(RECIPIENT, LINKS).html
    assert "{{ 7*7 }} {% if 1 %}oui{% endif %} {{ 6*7 }}" in html and "49" not in html
    prepared = renderer.prepare("newsletter", Content("fr", "S", r"\{\{ 7*7 \}\} et \{\% if 1 \%\}"))
    message = prepared.render(RECIPIENT, LINKS)
    assert "{{ 7*7 }} et {% if 1 %}" in message.html and "{{ 7*7 }} et {% if 1 %}" in message.text


@pytest.mark.parametrize(
    ("body", "fmt", "line"),
    [
        ("Voir\n\n[ici](javascript:alert(1))", "markdown", 3),
        ("[ici](JaVaScRiPt:alert(1))", "markdown", 1),
        ("![x](data:image/png;base64,AAAA)", "markdown", 1),
        ("<javascript:alert(1)>", "markdown", 1),
        ("<p>\n<a href=\"javascript:alert(1)\">x</a></p>", "html", 2),
        ("<a href=\"jav&#x61;script&#58;alert(1)\">x</a>", "html", 1),
        ("<a href=\" \tvbscript:msgbox(1)\">x</a>", "html", 1),
        ("<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", "html", 1),
        ("<a href=\"javascript:{{ contact.city }}\">x</a>", "html", 1),
    ],
)
def test_literal_dangerous_links_are_refused_with_their_line(renderer: Renderer, body: str, fmt: str, line: int) -> None:
    with pytest.raises(TemplateError, match="link scheme") as err:
        renderer.prepare("newsletter", Content("fr", "S", body, fmt))
    assert err.value.where == f"content[fr]:{line}"


@pytest.mark.parametrize(
    "body",
    [
        "[cliquez]({{ contact.city }})",
        '<a href="{{ contact.city }}">cliquez</a>',
        '<a href="{% if contact.city %}{{ contact.city }}{% endif %}">cliquez</a>',
        '<img src="{{ contact.city }}" alt="x">',
    ],
)
def test_links_built_from_data_are_neutralised_at_render_time(renderer: Renderer, body: str) -> None:
    fmt = "markdown" if body.startswith("[") else "html"
    prepared = renderer.prepare("newsletter", Content("fr", "S", body, fmt))
    for evil in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>x</script>",
                 "vbscript:msgbox(1)", "java\tscript:alert(1)"):
        html = prepared.render({"city": evil}, LINKS).html
        assert "alert" not in html and "msgbox" not in html and "<script>x" not in html
        assert ('href="#"' in html) or ('src="#"' in html)
    fine = prepared.render({"city": "https://cluster.example/ok"}, LINKS).html
    assert "https://cluster.example/ok" in fine
    # and the engine's own links go through the same check
    neutral = renderer.prepare("newsletter", Content("fr", "S", "x")).render(
        RECIPIENT, {"unsubscribe": "javascript:alert(1)"}).html
    assert "javascript" not in neutral


def test_tags_in_an_attribute_list_or_a_removed_element_are_refused(renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match=r"content\[fr\]:2: the Jinja tag '\{\{ contact.city \}\}'"):
        renderer.prepare("newsletter", Content("fr", "S", "<p>x</p>\n<a {{ contact.city }}>y</a>", "html"))
    with pytest.raises(TemplateError, match=r"content\[fr\]:1: the Jinja tag"):
        renderer.prepare("newsletter", Content("fr", "S", "<script>var a = '{{ contact.city }}';</script>", "html"))
    with pytest.raises(TemplateError, match=r"content\[fr\]:1: the Jinja tag"):
        renderer.prepare("newsletter", Content("fr", "S", '<p onmouseover="{{ contact.city }}">x</p>', "html"))


def test_line_breaks_from_data_never_reach_the_subject(renderer: Renderer) -> None:
    prepared = renderer.prepare("newsletter", Content("en", "Hello {{ contact.first_name }}", "x"))
    subject = prepared.render({"first_name": "Eve\r\nBcc: victim@example.org"}, LINKS).subject
    assert subject == "Hello Eve Bcc: victim@example.org"
    assert "\r" not in subject and "\n" not in subject
