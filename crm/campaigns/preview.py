"""See a campaign's message before sending it: for one contact, or to a test address."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from crm import contacts, fields
from crm.campaigns import service
from crm.delivery import recipients
from crm.delivery.compose import Composer
from crm.errors import ValidationError
from crm.mail.transport import SendResult, Transport
from crm.models.campaigns import Campaign

if TYPE_CHECKING:
    from crm.settings import Settings

SAMPLE = {"first_name": "Camille", "last_name": "Exemple", "full_name": "Camille Exemple",
          "organisation": "Organisation exemple", "position": None, "city": None}


@dataclass(frozen=True)
class Preview:
    language: str
    address: str
    message: bytes


def content_language(campaign: Campaign, language: str) -> str:
    """``language`` as the campaign's content spells it; ValidationError when it has none."""
    have = [c.language for c in campaign.contents]
    by_tag = {h.lower(): h for h in have}
    wanted = language.strip().replace("_", "-").lower()
    if wanted not in by_tag:
        raise ValidationError(f"campaign #{campaign.id} has content in {', '.join(have)} (use one of them)",
                              f"--language {language}")
    return by_tag[wanted]


def for_contact(session: Session, composer: Composer, campaign_id: int, contact_ref: str,
                *, language: str | None = None) -> Preview:
    """The exact message this contact would get (language, fields, links); ``language``
    shows it in another of the campaign's languages."""
    campaign = service.get(session, campaign_id)
    if language is not None:
        language = content_language(campaign, language)
    contact = contacts.get(session, contact_ref)
    person = recipients.load(session, [contact.id])[contact.id]
    language = language or composer.language_for(campaign, person.language)
    address = fields.email(person.email or "") if person.email else "no-address@invalid"
    message = composer.compose(campaign, contact_id=contact.id, fields=person.fields, address=address,
                               language=language, message_id=f"<preview.c{campaign.id}.{contact.id}@{campaign.from_address.rpartition('@')[2]}>",
                               extra=composer.extra(session, campaign))
    return Preview(language, address, message)


MAX_TEST_ADDRESSES = 50


def test_send(session: Session, composer: Composer, transport: Transport, campaign_id: int, to: Sequence[str],
              *, language: str | None = None, contact_ref: str | None = None) -> list[tuple[Preview, SendResult]]:
    """Send one copy to each address of ``to`` (a contact's view when ``contact_ref`` is
    given, else sample fields); no delivery is recorded. Every address is checked before
    the first copy goes."""
    if not to:
        raise ValidationError("give an address to send the test copy to", "--to")
    if len(to) > MAX_TEST_ADDRESSES:
        raise ValidationError(f"{len(to)} addresses: a test goes to at most {MAX_TEST_ADDRESSES} "
                              "(send the campaign to a segment for more)", "--to")
    addresses = []
    for raw in to:
        try:
            addresses.append(fields.email(raw))
        except ValidationError as exc:
            raise ValidationError(exc.message, "--to") from None
    campaign = service.get(session, campaign_id)
    if language is not None:
        language = content_language(campaign, language)
    person = None
    if contact_ref:
        contact = contacts.get(session, contact_ref)
        person = contact.id, recipients.load(session, [contact.id])[contact.id].fields
    extra = composer.extra(session, campaign)
    domain = campaign.from_address.rpartition("@")[2]
    results = []
    for address in dict.fromkeys(addresses):  # an address given twice gets one copy
        contact_id, person_fields = person or (0, {**SAMPLE, "email": address, "language": language})
        lang = language or composer.language_for(campaign, person_fields.get("language"))
        message = composer.compose(campaign, contact_id=contact_id, fields=person_fields, address=address,
                                   language=lang, message_id=f"<test.c{campaign.id}.{uuid.uuid4().hex[:16]}@{domain}>",
                                   extra=extra)
        results.append((Preview(lang, address, message), transport.send(campaign.from_address, address, message)))
    return results


# ---- the ways in: the parts come from the settings ------------------------------------------

def show(session: Session, settings: Settings, campaign_id: int, contact_ref: str,
         *, language: str | None = None) -> Preview:
    """`campaigns preview`: `for_contact` with the composer of the settings (links signed with
    the real secret, DKIM-signed when it is set), so the preview is the message sent."""
    from crm.delivery import runtime

    return for_contact(session, runtime.composer(settings), campaign_id, contact_ref, language=language)


def send_copies(session: Session, settings: Settings, campaign_id: int, to: Sequence[str],
                *, language: str | None = None, contact_ref: str | None = None) -> list[dict[str, Any]]:
    """`campaigns test-send`: `test_send` through the transport of the settings, each copy as
    ``{"to", "language", "result", "detail"}``. A copy the server did not take is bad data:
    ValidationError naming the first such address (and how many went), once every address
    was tried; nothing is recorded either way."""
    from crm.delivery import runtime

    transport = runtime.transport(settings)  # a bad mail setting stops here, before any lookup
    try:
        results = test_send(session, runtime.composer(settings), transport, campaign_id, to,
                            language=language, contact_ref=contact_ref)
    finally:
        transport.close()
    copies = [{"to": sent.address, "language": sent.language, "result": result.status.value, "detail": result.detail}
              for sent, result in results]
    refused = [copy for copy in copies if copy["result"] != "sent"]
    if refused:
        went = f" ({len(copies) - len(refused)} of {len(copies)} sent)" if len(copies) > 1 else ""
        raise ValidationError(f"test message not sent to {refused[0]['to']}: {refused[0]['detail']}{went}", "test-send")
    return copies
