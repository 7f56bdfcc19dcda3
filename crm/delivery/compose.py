"""From a campaign and one recipient to the bytes that go out (the per-recipient path).

Templates are prepared once per (campaign, language) and cached here; per recipient only
the Jinja2 render, the MIME build and (optionally) the DKIM signature run. Used by the
send engine, `campaigns preview` and `campaigns test-send`, so all three show the same
message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from crm import calendar_events, links
from crm.mail.frame import Frame
from crm.models import Event
from crm.models.campaigns import Campaign, CampaignKind
from crm.rendering import Content


class Composer:
    def __init__(self, renderer: Any, *, base_url: str, secret_key: str | Callable[[], str],
                 cluster_default_language: str, dkim: Mapping[str, Any] | None = None) -> None:
        """``secret_key`` may be a function, called when the first link is signed: a composer
        made only for its renderer (`campaigns create`) never needs the secret."""
        self.renderer = renderer
        self.base_url = base_url
        self._secret = secret_key
        self.cluster_default_language = cluster_default_language
        self.dkim = dict(dkim) if dkim else None
        self._prepared: dict[tuple[int, str], Any] = {}
        self._frames: dict[tuple[int, str], Frame] = {}

    @property
    def secret_key(self) -> str:
        if callable(self._secret):
            self._secret = self._secret()
        return self._secret

    def prepared(self, campaign: Campaign, language: str) -> Any:
        key = (campaign.id, language)
        if key not in self._prepared:
            content = next(c for c in campaign.contents if c.language == language)
            self._prepared[key] = self.renderer.prepare(
                campaign.kind.value, Content(content.language, content.subject, content.body, content.format)
            )
        return self._prepared[key]

    def language_for(self, campaign: Campaign, contact_language: str | None) -> str:
        return self.renderer.choose_language(
            contact_language, [c.language for c in campaign.contents], campaign.default_language,
            self.cluster_default_language,
        )

    def links(self, campaign: Campaign, contact_id: int) -> dict[str, str]:
        token = links.unsubscribe_token(self.secret_key, contact_id=contact_id, campaign_id=campaign.id,
                                        topic=campaign.topic.value)
        result = {"unsubscribe": links.unsubscribe_url(self.base_url, token)}
        preferences = links.preferences_token(self.secret_key, contact_id=contact_id)
        result["preferences"] = links.preferences_url(self.base_url, preferences)
        if campaign.kind is CampaignKind.INVITATION and campaign.event_id is not None:
            rsvp = links.rsvp_token(self.secret_key, contact_id=contact_id, event_id=campaign.event_id,
                                    campaign_id=campaign.id)
            result["rsvp_yes"] = links.rsvp_url(self.base_url, rsvp, "yes")
            result["rsvp_no"] = links.rsvp_url(self.base_url, rsvp, "no")
        return result

    @staticmethod
    def extra(session: Session, campaign: Campaign) -> dict[str, Any]:
        """What the templates show besides the contact: the event, the survey link."""
        extra: dict[str, Any] = {}
        event = session.get(Event, campaign.event_id) if campaign.event_id is not None else None
        if event is not None:
            extra["event"] = calendar_events.template_variables(event)
        if campaign.survey_url:
            extra["survey_url"] = campaign.survey_url
        return extra

    def frame(self, campaign: Campaign, language: str) -> Frame:
        """The headers every recipient shares, checked and encoded once per (campaign, language)."""
        key = (campaign.id, language)
        if key not in self._frames:
            domain = campaign.from_address.rpartition("@")[2]
            self._frames[key] = Frame(
                from_addr=campaign.from_address, from_name=campaign.from_name, reply_to=campaign.reply_to,
                list_id=f"{campaign.kind.value}.{domain}",
                direction=getattr(self.prepared(campaign, language), "direction", "ltr"),
            )
        return self._frames[key]

    def compose(self, campaign: Campaign, *, contact_id: int, fields: Mapping[str, str | None], address: str,
                language: str, message_id: str, extra: Mapping[str, Any]) -> bytes:
        """Render and build one message; raises crm.errors.CRMError when it cannot be built."""
        template = self.prepared(campaign, language)
        links_ = self.links(campaign, contact_id)
        rendered = template.render(fields, links_, extra)
        payload = self.frame(campaign, language).message(
            rendered, to_addr=address, to_name=fields.get("full_name"), message_id=message_id,
            unsubscribe_url=links_["unsubscribe"],
        )
        if self.dkim:
            from crm.mail import dkim

            payload = dkim.sign(payload, **self.dkim)
        return payload
