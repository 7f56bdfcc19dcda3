"""Email rendering: every kind × language, fallbacks, CSS inlined once, plain text, errors, limits.

Real templates, real premailer, real Jinja2 sandbox; nothing is mocked. Counting premailer
calls wraps the real functions (they still run).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import premailer
import pytest

from crm.errors import ValidationError
from crm.rendering import (
    KINDS, Content, PreparedTemplate, RenderLimitExceeded, Renderer, TemplateError, inlining,
)

BASE = "https://crm.example.org"
CLUSTER = "Pôle Agri-Ouest"

BODY = {
    "fr": """# Bonjour {{ contact.first_name }}

{% if contact.first_name|length > 3 %}
Votre prénom compte plus de trois lettres.
{% endif %}

Le pôle réunit **120 membres** à {{ contact.city }}. [Lire en ligne]({{ links.view_online }})
ou visitez [notre site](https://cluster.example/actus).

- premier point
- second point
""",
    "en": """# Hello {{ contact.first_name }}

{% if contact.first_name|length > 3 %}
Your first name has more than three letters.
{% endif %}

The cluster gathers **120 members** in {{ contact.city }}. [Read online]({{ links.view_online }})
or visit [our site](https://cluster.example/news).
""",
    "ar": """# مرحبا {{ contact.first_name }}

{% if contact.first_name|length > 3 %}
اسمك الأول أطول من ثلاثة أحرف.
{% endif %}

يضم القطب **120 عضوًا** في {{ contact.city }}. [اقرأ على الإنترنت]({{ links.view_online }})
""",
}
SUBJECT = {"fr": "Des nouvelles du pôle, {{ contact.first_name }}", "en": "News from the cluster, {{ contact.first_name }}",
           "ar": "أخبار القطب يا {{ contact.first_name }}"}
UNSUBSCRIBE_LABEL = {"fr": "Se désinscrire", "en": "Unsubscribe", "ar": "إلغاء الاشتراك"}

RECIPIENT = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene@example.fr",
             "organisation": "Agri-Réseau", "language": "fr", "position": "Directrice R&D", "city": "Angers"}
LINKS = {
    "unsubscribe": f"{BASE}/u/UNSUB-TOKEN", "preferences": f"{BASE}/p/PREF-TOKEN",
    "view_online": f"{BASE}/v/VIEW-TOKEN", "rsvp_yes": f"{BASE}/r/RSVP-TOKEN/yes",
    "rsvp_no": f"{BASE}/r/RSVP-TOKEN/no", "survey": "https://survey.example.org/s/42",
}
EXTRA = {
    "event": {"title": "Débat thématique : l'eau", "starts_local": "12/03/2026 18:00", "place": "Maison de l'innovation, Angers",
              "online_url": "https://live.example.org/debat"},
    "deadline": "30/04/2026 12:00", "press_contact": "Léa Martin, presse@cluster.example",
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(cluster_name=CLUSTER, base_url=BASE)


def content(lang: str, **changes: str) -> Content:
    values = {"language": lang, "subject": SUBJECT[lang], "body": BODY[lang], "format": "markdown"}
    values.update(changes)
    return Content(**values)


# -- every kind in every shipped language ----------------------------------------------------------
@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_language_renders_subject_html_and_text(renderer: Renderer, kind: str, lang: str) -> None:
    prepared = renderer.prepare(kind, content(lang))
    assert isinstance(prepared, PreparedTemplate)
    assert (prepared.kind, prepared.language) == (kind, lang)
    message = prepared.render(RECIPIENT, LINKS, EXTRA)

    assert message.subject == SUBJECT[lang].replace("{{ contact.first_name }}", "Hélène")
    html, text = message.html, message.text
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    assert f"<title>{message.subject}</title>" in html
    assert CLUSTER in html and "Hélène" in html and "Angers" in html
    assert f'href="{LINKS["unsubscribe"]}"' in html and UNSUBSCRIBE_LABEL[lang] in html
    assert f'href="{LINKS["view_online"]}"' in html
    # the content's own conditional ran ("Hélène" has more than three letters)
    assert {"fr": "plus de trois lettres", "en": "more than three letters", "ar": "أطول من ثلاثة أحرف"}[lang] in html
    # CSS was inlined; Jinja never leaks into the output
    assert re.search(r'<p style="[^"]*margin:0 0 16px 0', html)
    assert "{{" not in html and "{%" not in html and "zjq" not in html

    assert "<" not in text.replace("<script>", "")  # no HTML in the plain-text part
    assert CLUSTER in text and "Hélène" in text
    assert LINKS["unsubscribe"] in text and UNSUBSCRIBE_LABEL[lang] in text
    assert f"({LINKS['view_online']})" in text  # a link is "label (url)"
    assert "**" not in text and "120 " in text  # emphasis marks gone, words kept

    if kind == "invitation":
        for value in EXTRA["event"].values():
            assert value.replace("'", "&#39;") in html and value in text
        assert f'href="{LINKS["rsvp_yes"]}"' in html and f'href="{LINKS["rsvp_no"]}"' in html
        assert LINKS["rsvp_yes"] in text and LINKS["rsvp_no"] in text
    if kind == "survey":
        assert f'href="{LINKS["survey"]}"' in html and LINKS["survey"] in text
    if kind == "press_release":
        assert "Léa Martin, presse@cluster.example" in html and "Léa Martin" in text
    if kind == "call_for_projects":
        assert "30/04/2026 12:00" in html and "30/04/2026 12:00" in text


def test_kind_specific_blocks_only_where_they_belong(renderer: Renderer) -> None:
    newsletter = renderer.prepare("newsletter", content("fr")).render(RECIPIENT, LINKS, EXTRA)
    assert LINKS["rsvp_yes"] not in newsletter.html and "30/04/2026" not in newsletter.html
    # an invitation sent without RSVP links shows no buttons, and no empty place line
    invitation = renderer.prepare("invitation", content("fr")).render(
        RECIPIENT, {"unsubscribe": LINKS["unsubscribe"]}, {"title": "Visite", "starts_local": "1/2/2026"})
    assert "Oui, je participe" not in invitation.html and "Lieu" not in invitation.html
    assert "Visite" in invitation.html and "1/2/2026" in invitation.text
    # press contact falls back to the cluster's name
    press = renderer.prepare("press_release", content("en")).render(RECIPIENT, LINKS, {})
    assert re.search(r"Press contact.*?" + re.escape(CLUSTER), press.html, re.S)


def test_arabic_is_right_to_left_and_right_aligned(renderer: Renderer) -> None:
    prepared = renderer.prepare("newsletter", content("ar"))
    assert prepared.direction == "rtl"
    html = prepared.render(RECIPIENT, LINKS).html
    assert '<html lang="ar" dir="rtl">' in html and '<body dir="rtl"' in html
    assert re.search(r'<td class="content" dir="rtl" style="[^"]*text-align:right', html)
    assert "text-align:left" not in html
    french = renderer.prepare("newsletter", content("fr"))
    assert french.direction == "ltr"
    assert re.search(r'<td class="content" dir="ltr" style="[^"]*text-align:left', french.render(RECIPIENT, LINKS).html)


# -- languages -----------------------------------------------------------------------------------
def test_a_language_without_strings_falls_back_to_english_words(renderer: Renderer) -> None:
    german = renderer.prepare("newsletter", Content("de", "Neues, {{ contact.first_name }}", "Hallo {{ contact.first_name }}"))
    message = german.render(RECIPIENT, LINKS)
    assert '<html lang="de" dir="ltr">' in message.html and "Hallo Hélène" in message.html
    assert "Unsubscribe" in message.html and "Newsletter" in message.html
    canadian = renderer.prepare("invitation", Content("fr-CA", "Invitation", "Bonjour"))
    assert "Se désinscrire" in canadian.render(RECIPIENT, LINKS).html  # fr-CA → the fr strings
    hebrew = renderer.prepare("newsletter", Content("he", "שלום", "שלום {{ contact.first_name }}"))
    assert hebrew.direction == "rtl" and 'dir="rtl"' in hebrew.render(RECIPIENT, LINKS).html


@pytest.mark.parametrize(
    ("contact", "available", "campaign", "cluster", "expected"),
    [
        ("ar", ["fr", "en", "ar"], "fr", "fr", "ar"),
        ("fr-CA", ["fr", "en"], "en", "en", "fr"),  # the contact's base language
        ("FR", ["fr", "en"], "en", "en", "fr"),
        ("pt-BR", ["fr", "en"], "en", "fr", "en"),  # no content in it: the campaign's default
        ("pt", ["fr", "ar"], "en", "ar", "ar"),  # nor in the campaign's: the cluster's
        (None, ["fr", "en"], "en", "fr", "en"),
        ("", ["fr", "en"], "de", "fr", "fr"),
        ("es", ["fr-CA"], "fr", "en", "fr-CA"),  # as spelled in the campaign
        ("es", ["de"], "fr", "en", "de"),  # nothing matches: the one that exists
    ],
)
def test_choose_language(renderer: Renderer, contact: str | None, available: list[str], campaign: str,
                         cluster: str, expected: str) -> None:
    assert renderer.choose_language(contact, available, campaign, cluster) == expected


def test_choose_language_without_content_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(ValidationError):
        renderer.choose_language("fr", [], "fr", "fr")


# -- premailer once per (kind, language, content) -----------------------------------------------------
def test_premailer_runs_once_per_kind_language_and_content_never_per_recipient(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"inline_css": 0, "transform": 0}
    real_inline, real_transform = inlining.inline_css, premailer.Premailer.transform

    def counted_inline(document: str) -> str:
        calls["inline_css"] += 1
        return real_inline(document)

    def counted_transform(self: premailer.Premailer, *args: object, **kwargs: object) -> str:
        calls["transform"] += 1
        return real_transform(self, *args, **kwargs)

    monkeypatch.setattr(inlining, "inline_css", counted_inline)
    monkeypatch.setattr(premailer.Premailer, "transform", counted_transform)
    renderer = Renderer(cluster_name=CLUSTER, base_url=BASE)

    first = renderer.prepare("newsletter", content("fr"))
    again = renderer.prepare("newsletter", content("fr"))
    assert again is first
    for i in range(60):
        message = first.render({**RECIPIENT, "first_name": f"Personne{i}"}, LINKS)
        assert f"Personne{i}" in message.html
    assert calls == {"inline_css": 1, "transform": 1}
    assert renderer.inline_calls == 1

    renderer.prepare("newsletter", content("en"))  # another language
    renderer.prepare("invitation", content("fr"))  # another kind
    renderer.prepare("newsletter", content("fr", body=BODY["fr"] + "\nP.S."))  # other content
    assert calls == {"inline_css": 4, "transform": 4}
    assert renderer.inline_calls == 4


def test_jinja_tags_survive_inlining_in_href_and_with_greater_than(renderer: Renderer) -> None:
    """The premailer pitfall: {{ x }} in href gets URL-encoded, > in {% if %} becomes &gt;."""
    prepared = renderer.prepare("invitation", content("fr"))
    source = prepared.html_source
    assert "style=" in source and ".box-title" not in source  # inlined, rules consumed
    # (each link built from variables is wrapped in the scheme check, see schemes.py)
    assert 'href="{% filter crm_url %}{{ links.unsubscribe }}{% endfilter %}"' in source
    assert 'href="{% filter crm_url %}{{ links.view_online }}{% endfilter %}"' in source  # the content's own
    assert "{% if event.online_url|length > 0 %}" in source  # the shipped template's comparison
    assert "{% if contact.first_name|length > 3 %}" in source  # the content's comparison
    assert "%7B" not in source and "%20" not in source and "&gt; " not in source
    # and they work: the comparison decides per recipient
    short = prepared.render({**RECIPIENT, "first_name": "Léa"}, LINKS, EXTRA)
    long = prepared.render(RECIPIENT, LINKS, EXTRA)
    assert "plus de trois lettres" not in short.html and "plus de trois lettres" in long.html
    assert "En ligne" not in prepared.render(RECIPIENT, LINKS, {"title": "x"}).html


def test_a_custom_template_directory_with_both_pitfalls(tmp_path: Path) -> None:
    email = tmp_path / "email"
    (email / "strings").mkdir(parents=True)
    (email / "strings" / "en.toml").write_text(
        '[layout]\nunsubscribe = "Leave"\n[kinds]\n' + "".join(f'{k} = "{k}"\n' for k in KINDS)
        + "[why]\n" + "".join(f'{k} = "why"\n' for k in KINDS), encoding="utf-8")
    (email / "layout.html").write_text(
        "<!DOCTYPE html><html lang=\"[[ lang ]]\"><head><style>a { color: #ff0000; } p.n { font-weight: bold; }</style>"
        "</head><body><p class=\"n\">{% if contact.city|length > 1 %}city {{ contact.city }}{% endif %}</p>"
        "[[ content ]]<p><a href=\"{{ links.unsubscribe }}\">[[ t.layout.unsubscribe ]]</a></p></body></html>",
        encoding="utf-8")
    (email / "layout.txt").write_text("[[ content ]]\n{{ links.unsubscribe }}\n", encoding="utf-8")
    for kind in KINDS:
        (email / f"{kind}.html").write_text('[% include "layout.html" %]', encoding="utf-8")
        (email / f"{kind}.txt").write_text('[% include "layout.txt" %]', encoding="utf-8")
    renderer = Renderer(tmp_path, cluster_name="C", base_url=BASE)
    prepared = renderer.prepare("survey", Content("en", "S", "Hi"))
    assert 'href="{% filter crm_url %}{{ links.unsubscribe }}{% endfilter %}" style="color:#f00"' in prepared.html_source
    assert "{% if contact.city|length > 1 %}" in prepared.html_source
    html = prepared.render({"city": "Lyon"}, {"unsubscribe": f"{BASE}/u/T"}).html
    assert f'href="{BASE}/u/T"' in html and "city Lyon" in html and "Leave" in html
    assert "city" not in prepared.render({"city": "L"}, {"unsubscribe": f"{BASE}/u/T"}).html


def test_a_template_tag_inside_an_attribute_list_is_reported(tmp_path: Path) -> None:
    email = tmp_path / "email"
    (email / "strings").mkdir(parents=True)
    (email / "strings" / "en.toml").write_text(
        "[kinds]\n" + "".join(f'{k} = "{k}"\n' for k in KINDS) + "[why]\n" + "".join(f'{k} = "w"\n' for k in KINDS),
        encoding="utf-8")
    (email / "layout.html").write_text(
        "<html><body>\n<p {% if links.view_online %}class=\"x\"{% endif %}>y</p>[[ content ]]</body></html>")
    (email / "layout.txt").write_text("[[ content ]]")
    for kind in KINDS:
        (email / f"{kind}.html").write_text('[% include "layout.html" %]')
        (email / f"{kind}.txt").write_text('[% include "layout.txt" %]')
    with pytest.raises(TemplateError, match=r"^template\[newsletter/en\]\.html:2: the Jinja tag '\{% if links.view_online %\}'"):
        Renderer(tmp_path, cluster_name="C", base_url=BASE).prepare("newsletter", Content("en", "S", "Hi"))


# -- content formats and the plain-text part ------------------------------------------------------
def test_markdown_becomes_html_and_readable_text(renderer: Renderer) -> None:
    body = """## Programme

1. Accueil
2. Table ronde avec *{{ contact.organisation }}*

> Une citation

Plus d'infos : [le site](https://cluster.example/p) ou <mailto:info@cluster.example>.
"""
    message = renderer.prepare("newsletter", Content("fr", "Programme", body)).render(RECIPIENT, LINKS)
    assert re.search(r"<h2[^>]*>Programme</h2>", message.html)
    assert re.search(r"<li[^>]*>Table ronde avec <em>Agri-Réseau</em></li>", message.html)
    assert "## Programme" in message.text
    assert "1. Accueil\n2. Table ronde avec Agri-Réseau" in message.text
    assert "> Une citation" in message.text
    assert "le site (https://cluster.example/p)" in message.text
    assert "info@cluster.example" in message.text


def test_html_content_is_cleaned(renderer: Renderer) -> None:
    body = """<h1 onclick="steal()">Bienvenue {{ contact.first_name }}</h1>
<p style="color: #336699">Texte <b>gras</b> <custom-tag>déballé</custom-tag></p>
<script>alert(1)</script><iframe src="https://evil.example"></iframe><style>p{}</style>
<p><img src="/static/logo.png" alt="Logo du pôle"> <a href="{{ links.view_online }}" target="_blank">en ligne</a></p>"""
    message = renderer.prepare("newsletter", Content("fr", "Bienvenue", body, "html")).render(RECIPIENT, LINKS)
    html = message.html
    assert "Bienvenue Hélène" in html and "<b>gras</b>" in html and "déballé" in html
    assert "onclick" not in html and "steal" not in html and "<script" not in html
    assert "alert(1)" not in html and "<iframe" not in html and "custom-tag" not in html
    assert 'src="https://crm.example.org/static/logo.png"' in html  # relative → absolute
    assert re.search(r'<p style="[^"]*color:#369"', html)  # kept (premailer shortens it)
    assert "[Logo du pôle]" in message.text and f"en ligne ({LINKS['view_online']})" in message.text


def test_markdown_escapes_raw_html(renderer: Renderer) -> None:
    html = renderer.prepare("newsletter", Content("en", "S", "Hi <script>alert(1)</script> <b>x</b>")).render(
        RECIPIENT, LINKS).html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html and "<b>x</b>" not in html


# -- errors that name the place --------------------------------------------------------------------
def test_unknown_variable_names_language_and_line(renderer: Renderer) -> None:
    body = "Bonjour,\n\nCher {{ contact.prenom }},\n"
    with pytest.raises(TemplateError) as err:
        renderer.prepare("newsletter", Content("fr", "Sujet", body))
    assert str(err.value).startswith("content[fr]:3: unknown variable 'contact.prenom'")
    assert "first_name" in str(err.value)  # it says what exists
    assert isinstance(err.value, ValidationError) and err.value.where == "content[fr]:3"

    with pytest.raises(TemplateError, match=r"^subject\[ar\]:1: unknown variable 'contact.nom'"):
        renderer.prepare("newsletter", Content("ar", "مرحبا {{ contact.nom }}", "x"))
    with pytest.raises(TemplateError, match=r"^content\[en\]:2: unknown variable 'contat'"):
        renderer.prepare("newsletter", Content("en", "S", "a\n{{ contat.first_name }}"))


def test_syntax_errors_and_bad_input_name_the_place(renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match=r"^content\[fr\]:4: "):
        renderer.prepare("newsletter", Content("fr", "S", "a\n\nb\n{% if contact.city %}"))
    with pytest.raises(TemplateError, match=r"^content\[fr\]:2: "):
        renderer.prepare("newsletter", Content("fr", "S", "a\n{{ contact.city "))
    with pytest.raises(TemplateError, match=r"^subject\[fr\]:1: a subject is one line"):
        renderer.prepare("newsletter", Content("fr", "Ligne 1\nBcc: x@example.org", "b"))
    with pytest.raises(TemplateError, match="unknown kind"):
        renderer.prepare("flyer", content("fr"))
    with pytest.raises(TemplateError, match="unknown content format"):
        renderer.prepare("newsletter", Content("fr", "S", "b", "docx"))
    with pytest.raises(TemplateError, match="not a language tag"):
        renderer.prepare("newsletter", Content("fr_FR!", "S", "b"))


def test_errors_change_nothing(renderer: Renderer) -> None:
    calls = renderer.inline_calls
    with pytest.raises(TemplateError):
        renderer.prepare("newsletter", Content("fr", "S", "{{ contact.nom }}"))
    assert renderer.inline_calls == calls  # refused before the expensive step


# -- budgets ---------------------------------------------------------------------------------------
def test_output_size_is_bounded_per_render() -> None:
    renderer = Renderer(cluster_name=CLUSTER, base_url=BASE, max_output_bytes=40_000)
    prepared = renderer.prepare("newsletter", Content("fr", "S", "{{ contact.position }} {{ contact.position }}"))
    prepared.render(RECIPIENT, LINKS)
    with pytest.raises(RenderLimitExceeded, match="larger than 40,000 bytes"):
        prepared.render({**RECIPIENT, "position": "x" * 25_000}, LINKS)


@pytest.mark.parametrize("expression", [
    "(['x' * 9999] * 999)|string|length",  # a list of references is cheap; printing it is not
    "['x' * 99999, 'x' * 99999]|string|length",  # a list literal
    "(('x' * 99999) ~ ('x' * 99999) ~ ('x' * 99999))|length",  # joins, before they are built
    "('%' * 99999)|urlencode|length",  # a filter that grows its input
    "('ß' * 99999).upper()|length",  # a method that grows its input
])
def test_values_that_would_outgrow_the_budget_are_refused(expression: str) -> None:
    renderer = Renderer(cluster_name=CLUSTER, base_url=BASE, max_output_bytes=100_000)
    for source in (Content("fr", f"S {{{{ {expression} }}}}", "b"), Content("fr", "S", f"a {{{{ {expression} }}}}")):
        with pytest.raises(RenderLimitExceeded, match="longer than 100,000|limit 100,000"):
            renderer.prepare("newsletter", source)


def test_filter_arguments_jinja_asserts_are_template_errors(renderer: Renderer) -> None:
    for expression in ("'abc'|truncate(-5)", "'abc'|truncate(5, end='y' * 99)"):
        with pytest.raises(TemplateError, match=r"^subject\[fr\]:1: expected length"):
            renderer.prepare("newsletter", Content("fr", f"S {{{{ {expression} }}}}", "b"))
    prepared = renderer.prepare("newsletter", Content(
        "fr", "S {{ contact.first_name|truncate(99999999999) }}",
        "{% if contact.language in ['fr', 'en'] and (1, 2) %}{{ ('x' * 10) ~ contact.city }}{% endif %}"))
    assert "xxxxxxxxxxAngers" in prepared.render(RECIPIENT, LINKS).html


def test_render_time_is_bounded() -> None:
    renderer = Renderer(cluster_name=CLUSTER, base_url=BASE, max_render_seconds=1e-7)
    with pytest.raises(RenderLimitExceeded, match="longer than"):
        renderer.prepare("newsletter", content("fr"))


def test_recipient_values_are_plain_and_allow_listed(renderer: Renderer) -> None:
    prepared = renderer.prepare("newsletter", Content("en", "Hi {{ contact.full_name }}", "{{ contact.email }}"))
    message = prepared.render({"first_name": "Ada", "last_name": None, "email": None, "notes": "secret"}, LINKS)
    assert message.subject == "Hi Ada" and "None" not in message.html and "secret" not in message.html
    with pytest.raises(TypeError):
        prepared.render({"first_name": object()}, LINKS)  # type: ignore[dict-item]


def test_per_recipient_render_is_fast(renderer: Renderer) -> None:
    prepared = renderer.prepare("invitation", content("fr"))
    start = time.perf_counter()
    for _ in range(200):
        prepared.render(RECIPIENT, LINKS, EXTRA)
    assert (time.perf_counter() - start) / 200 < 0.02  # far below one premailer run


def test_the_renderer_of_the_settings_needs_no_transport_no_secret_and_no_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`campaigns create` and the demo check templates with `Renderer.for_settings`: the DKIM
    key (read by the send's `Composer`), the link secret and the mail server are not needed."""
    import subprocess

    from crm.delivery import runtime
    from crm.settings import Settings

    monkeypatch.chdir(tmp_path)
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    settings = Settings(cluster_name=CLUSTER, base_url=BASE, dkim_selector="s1", dkim_key_file=key,
                        smtp_url="smtp://127.0.0.1:1")  # real mail without a secret: no transport can be made
    key.unlink()  # gone since the settings were read: only signing may miss it
    with pytest.raises(FileNotFoundError):
        runtime.composer(settings)

    renderer = Renderer.for_settings(settings)
    message = renderer.prepare("newsletter", content("fr", body="[Agenda](/agenda)")).render(RECIPIENT, LINKS)
    assert (renderer.cluster_name, renderer.base_url) == (CLUSTER, BASE)
    assert CLUSTER in message.html and f'href="{BASE}/agenda"' in message.html
    assert not (tmp_path / ".crm-secret").exists()
