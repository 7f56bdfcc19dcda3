"""All mapped classes, imported here so that ``Base.metadata`` knows every table."""

from crm.models.consent import ConsentAction, ConsentEvent, ConsentSource, ConsentTopic
from crm.models.contacts import (
    INTERNAL_TARGETS,
    Contact,
    ContactFieldValue,
    CustomField,
    FieldType,
    Membership,
    Tag,
    TargetGroup,
    contact_tags,
)
from crm.models.events import Event, EventKind
from crm.models.interactions import (
    MEETING_KINDS,
    Interaction,
    InteractionKind,
    interaction_contacts,
)
from crm.models.organisations import Organisation, OrganisationKind, OrganisationSize
from crm.models.perception import (
    AssessmentSource,
    Level,
    PerceptionAssessment,
    PerceptionSegment,
)
from crm.models.segments import Segment
from crm.models.campaigns import Campaign, CampaignContent, CampaignKind, CampaignStatus
from crm.models.deliveries import Delivery, DeliveryStatus, Suppression, SuppressionReason

__all__ = [
    "INTERNAL_TARGETS",
    "MEETING_KINDS",
    "AssessmentSource",
    "ConsentAction",
    "ConsentEvent",
    "ConsentSource",
    "ConsentTopic",
    "Contact",
    "ContactFieldValue",
    "CustomField",
    "Event",
    "EventKind",
    "FieldType",
    "Interaction",
    "InteractionKind",
    "Level",
    "Membership",
    "Organisation",
    "OrganisationKind",
    "OrganisationSize",
    "PerceptionAssessment",
    "PerceptionSegment",
    "Segment",
    "Campaign",
    "CampaignContent",
    "CampaignKind",
    "CampaignStatus",
    "Delivery",
    "DeliveryStatus",
    "Suppression",
    "SuppressionReason",
    "Tag",
    "TargetGroup",
    "contact_tags",
    "interaction_contacts",
]
