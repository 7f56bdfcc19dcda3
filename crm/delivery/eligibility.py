"""Suppression as SQL: who may still receive a campaign's message, and why not.

Checked when `send` materialises the deliveries (rows that fail are marked suppressed with
the reason) and again, per message, in the statement just before it is sent, so a contact
who unsubscribes while the campaign runs receives nothing after that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, exists, func, literal, not_, select
from sqlalchemy.sql import ColumnElement

from crm import consent
from crm.models import Contact
from crm.models.campaigns import Campaign
from crm.models.deliveries import Suppression

NO_ADDRESS = "no_address"
SUPPRESSED_ADDRESS = "suppressed_address"  # hard bounce, complaint, manual
NO_CONSENT = "no_consent"
UNSUBSCRIBED = "unsubscribed"
INVALID_ADDRESS = "invalid_address"
INELIGIBLE = "ineligible"  # `eligible` refuses the contact but no rule of `reason` names why


def _address_suppressed(contact: Any) -> ColumnElement[bool]:
    return exists().where(Suppression.address == func.lower(contact.email))


def _consent_ok(campaign: Campaign, contact_id: Any) -> ColumnElement[bool]:
    if campaign.consent_required:
        return consent.consented(campaign.topic, contact_id)
    return not_(consent.withdrawn(campaign.topic, contact_id))


def eligible(campaign: Campaign, contact_id: Any) -> ColumnElement[bool]:
    """SQL: the contact behind ``contact_id`` may receive this campaign now."""
    return exists(
        select(literal(1))
        .select_from(Contact)
        .where(
            Contact.id == contact_id,
            Contact.email.is_not(None),
            not_(_address_suppressed(Contact)),
            _consent_ok(campaign, Contact.id),
        )
    )


def reason(campaign: Campaign, contact_id: Any) -> ColumnElement[str | None]:
    """SQL CASE: why the contact may not receive it (NULL when it may).

    NULL exactly when `eligible` is true: the rules are written twice (one EXISTS per message
    before it is sent, a CASE naming the reason), and a row the ledger may not send but cannot
    suppress for want of a reason would stay claimed, and its campaign never finish. So a
    contact `eligible` refuses for no reason named here is suppressed as INELIGIBLE (the
    last test, reached only by the contacts every rule above lets through)."""
    addressed = exists().where(and_(Contact.id == contact_id, Contact.email.is_not(None)))
    suppressed = exists().where(and_(Contact.id == contact_id, _address_suppressed(Contact)))
    opted_out = consent.withdrawn(campaign.topic, contact_id)
    whens = [
        (~addressed, NO_ADDRESS),
        (suppressed, SUPPRESSED_ADDRESS),
        (opted_out, UNSUBSCRIBED),
    ]
    if campaign.consent_required:
        whens.append((~consent.consented(campaign.topic, contact_id), NO_CONSENT))
    whens.append((~eligible(campaign, contact_id), INELIGIBLE))
    return case(*whens, else_=None)
