"""Per-recipient cost of the real render path vs premailer on every message.

The real render path (what the delivery engine runs per recipient): ``PreparedTemplate.render``
of a template whose CSS was inlined once. The naive path is what a renderer without the
prepare-once step does: render the same template with its ``<style>`` block not inlined,
then run premailer on the rendered message. Both run side by side in this one process,
alternating in rounds, on the same content and recipients, and give the same message.
Target: real ≤ 1/50 of naive. The MIME build and serialisation (the engine's ``Frame``:
shared headers encoded once per campaign and language), the same on either path, is
measured too and shown with the whole-message ratio, for context.

    python benchmarks/render_cost.py [--kind newsletter] [--real 3000] [--naive 150] [--rounds 5]

The last line is one JSON object with the figures, the target and the ratio.
"""

from __future__ import annotations

import argparse
import json
import time

from crm.mail import message_id_for
from crm.mail.frame import Frame
from crm.rendering import Content, Renderer, inlining

TARGET_RATIO = 1 / 50
BASE = "https://crm.example.org"
BODY = """# Lettre d'information — mars 2026

Bonjour {{ contact.first_name }},

{% if contact.organisation %}Merci à **{{ contact.organisation }}** pour sa participation à nos travaux.{% endif %}
Voici les nouvelles du pôle ce mois-ci.

## Débat thématique : l'eau et l'agriculture

Le prochain débat réunira industriels, chercheurs et collectivités autour de la gestion de
l'eau. [Programme et inscription]({{ links.view_online }}).

## Appel à projets collaboratifs

- dépôt des dossiers jusqu'au 30 avril ;
- projets associant au moins deux membres et un laboratoire ;
- accompagnement par l'équipe d'animation.

> « Le pôle nous a permis de trouver notre partenaire de recherche en trois mois. »
> — une entreprise membre

| Action | Date | Lieu |
|---|---|---|
| Réunion mensuelle | 5 mars | Angers |
| Visite d'entreprise | 19 mars | Nantes |
| Assemblée générale | 2 avril | Rennes |

Retrouvez toutes nos actualités sur [notre site](https://cluster.example/actualites).
"""


def recipients(n: int) -> list[dict[str, str]]:
    first = ["Hélène", "Karim", "Zoé", "Jérôme", "Yasmine", "Loïc"]
    return [
        {"first_name": first[i % len(first)], "last_name": f"Nom{i}", "email": f"contact{i}@exemple.fr",
         "organisation": f"Société {i % 50}", "city": "Angers", "language": "fr"}
        for i in range(n)
    ]


def links_for(index: int) -> dict[str, str]:
    return {"unsubscribe": f"{BASE}/u/token{index}", "view_online": f"{BASE}/v/token{index}"}


def render_real(prepared, person: dict[str, str], index: int):  # type: ignore[no-untyped-def]
    return prepared.render(person, links_for(index))


def render_naive(not_inlined, person: dict[str, str], index: int):  # type: ignore[no-untyped-def]
    rendered = not_inlined.render(person, links_for(index))
    return type(rendered)(rendered.subject, inlining.inline_css(rendered.html), rendered.text)


def mime(frame: Frame, rendered, person: dict[str, str], index: int) -> int:  # type: ignore[no-untyped-def]
    message = frame.message(
        rendered, to_addr=person["email"], to_name=f"{person['first_name']} {person['last_name']}",
        message_id=message_id_for(index, 1, "cluster.example"), unsubscribe_url=links_for(index)["unsubscribe"],
    )
    return len(message)


def timed(fn, people: list[dict[str, str]], first: int, count: int) -> tuple[float, list]:  # type: ignore[no-untyped-def]
    out = []
    start = time.perf_counter()
    for i in range(first, first + count):
        out.append(fn(people[i % len(people)], i))
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", default="newsletter")
    parser.add_argument("--real", type=int, default=3000, help="messages on the real path, in total")
    parser.add_argument("--naive", type=int, default=150, help="messages with premailer each, in total")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    content = Content("fr", "Les nouvelles du pôle, {{ contact.first_name }}", BODY)
    start = time.perf_counter()
    prepared = Renderer(cluster_name="Pôle Agri-Ouest", base_url=BASE).prepare(args.kind, content)
    prepare_s = time.perf_counter() - start
    # the naive path's template: the same preparation with the inlining step left out
    real_inline = inlining.inline_css
    inlining.inline_css = lambda document: document
    try:
        not_inlined = Renderer(cluster_name="Pôle Agri-Ouest", base_url=BASE).prepare(args.kind, content)
    finally:
        inlining.inline_css = real_inline
    assert "<style>" in not_inlined.html_source and ".prose h2" in not_inlined.html_source
    assert ".prose h2" not in prepared.html_source
    people = recipients(max(args.real, args.naive))
    # both paths give the same message (apart from premailer's own whitespace)
    same_real = render_real(prepared, people[0], 0)
    same_naive = render_naive(not_inlined, people[0], 0)
    assert same_real.text == same_naive.text and same_real.subject == same_naive.subject
    assert same_real.html.count('style="') == same_naive.html.count('style="')

    frame = Frame(from_addr="news@cluster.example", from_name="Pôle Agri-Ouest", reply_to=None,
                  list_id="newsletter.cluster.example", direction=prepared.direction)
    real_s = naive_s = mime_s = 0.0
    real_n = naive_n = mime_n = 0
    size = 0
    for _ in range(args.rounds):
        s, rendered = timed(lambda p, i: render_real(prepared, p, i), people, real_n, args.real // args.rounds)
        real_s += s
        s, sizes = timed(lambda p, i: mime(frame, rendered[i - mime_n], p, i), people, mime_n, len(rendered))
        mime_s += s
        real_n += len(rendered)
        mime_n += len(rendered)
        size = sizes[-1]
        s, _ = timed(lambda p, i: render_naive(not_inlined, p, i), people, naive_n, args.naive // args.rounds)
        naive_s += s
        naive_n += args.naive // args.rounds

    real_us, naive_us, mime_us = (real_s / real_n * 1e6, naive_s / naive_n * 1e6, mime_s / mime_n * 1e6)
    ratio = real_us / naive_us
    message_ratio = (real_us + mime_us) / (naive_us + mime_us)
    print(f"prepare once (checks, Markdown, premailer):   {prepare_s * 1e3:8.1f} ms")
    print(f"render, real path (inlined once), per message: {real_us:8.0f} µs  ({real_n} messages)")
    print(f"render, naive path (premailer each message):   {naive_us:8.0f} µs  ({naive_n} messages)")
    print(f"MIME build + bytes, either path, per message:  {mime_us:8.0f} µs  ({size:,}-byte messages)")
    print(f"render ratio real / naive: {ratio:.4f} (1/{1 / ratio:.0f}); target ≤ 1/{1 / TARGET_RATIO:.0f}: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    print(f"whole message (render + MIME) real / naive: {message_ratio:.4f} (1/{1 / message_ratio:.0f})")
    print(json.dumps({
        "benchmark": "render_cost", "kind": args.kind, "message_bytes": size,
        "prepare_ms": round(prepare_s * 1e3, 1),
        "real_render_us": round(real_us, 1), "naive_render_us": round(naive_us, 1),
        "mime_us": round(mime_us, 1), "real_messages": real_n, "naive_messages": naive_n,
        "target": f"real/naive render <= 1/{1 / TARGET_RATIO:.0f}", "ratio": round(ratio, 5),
        "message_ratio": round(message_ratio, 5), "met": ratio <= TARGET_RATIO,
    }))


if __name__ == "__main__":
    main()
