"""What content can name: five groups of plain fields, and nothing else.

A template sees ``contact``, ``links``, ``event``, ``cluster`` and ``extra``, each a dict of
strings built here per recipient from the allow-list below: no ORM object, no callable,
no nested structure reaches the sandbox. A missing or ``None`` field is the empty string, so
``{% if contact.city %}`` works and StrictUndefined is kept for names that do not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CONTACT_FIELDS = (
    "first_name", "last_name", "full_name", "email", "organisation", "language", "position", "city",
)
LINK_FIELDS = ("unsubscribe", "preferences", "view_online", "rsvp_yes", "rsvp_no", "survey")
EVENT_FIELDS = ("title", "starts_local", "ends_local", "place", "online_url", "description")
EXTRA_FIELDS = ("deadline", "press_contact", "survey_url", "reference")
CLUSTER_FIELDS = ("name",)

#: group name -> the fields content may use in it
GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "contact": CONTACT_FIELDS,
    "links": LINK_FIELDS,
    "event": EVENT_FIELDS,
    "cluster": CLUSTER_FIELDS,
    "extra": EXTRA_FIELDS,
})


def plain(value: object, name: str) -> str:
    """The one conversion a field value gets: text stays, numbers print, None is empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(value)  # drops str subclasses such as Markup: values are always escaped
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError(f"{name} must be a plain string or number, not {type(value).__name__}")


def _group(source: Mapping[str, object] | None, fields: tuple[str, ...], group: str) -> dict[str, str]:
    if not source:
        return dict.fromkeys(fields, "")
    return {f: plain(source.get(f), f"{group}.{f}") for f in fields}


def namespace(
    recipient: Mapping[str, object | None],
    links: Mapping[str, object | None],
    extra: Mapping[str, object] | None,
    cluster_name: str,
) -> dict[str, dict[str, str]]:
    """The per-recipient variables, from the engine's plain mappings.

    ``extra`` carries the event of an invitation, either nested (``extra["event"]``, a
    mapping) or flat (``extra["title"]``, ``extra["starts_local"]`` …), and the other
    per-kind values (``deadline``, ``press_contact``, ``survey_url``, ``reference``).
    The survey link is ``links["survey"]``, or ``extra["survey_url"]`` when links has none.
    """
    contact = _group(recipient, CONTACT_FIELDS, "contact")
    if not contact["full_name"]:
        contact["full_name"] = " ".join(p for p in (contact["first_name"], contact["last_name"]) if p)
    link_values = _group(links, LINK_FIELDS, "links")
    extra = extra or {}
    nested = extra.get("event")
    if nested is not None and not isinstance(nested, Mapping):
        raise TypeError("extra['event'] must be a mapping of plain values")
    event = _group(nested if nested is not None else extra, EVENT_FIELDS, "event")
    extra_values = _group(extra, EXTRA_FIELDS, "extra")
    if not link_values["survey"]:
        link_values["survey"] = extra_values["survey_url"]
    return {
        "contact": contact,
        "links": link_values,
        "event": event,
        "cluster": {"name": plain(cluster_name, "cluster.name")},
        "extra": extra_values,
    }


def sample_namespace(language: str, cluster_name: str) -> dict[str, dict[str, str]]:
    """A realistic recipient for the trial render that validates content at prepare time."""
    url = "https://example.org/sample"
    return namespace(
        {
            "first_name": "Camille", "last_name": "Martin", "email": "camille.martin@example.org",
            "organisation": "Example SA", "language": language, "position": "Directrice R&D",
            "city": "Angers",
        },
        {name: f"{url}/{name}" for name in LINK_FIELDS},
        {
            "event": {
                "title": "Débat thématique", "starts_local": "12/03/2026 18:00",
                "ends_local": "12/03/2026 20:00", "place": "Maison de l'innovation",
                "online_url": f"{url}/live", "description": "",
            },
            "deadline": "30/04/2026", "press_contact": "Presse <presse@example.org>",
            "survey_url": f"{url}/survey", "reference": "AAP-2026-01",
        },
        cluster_name,
    )
