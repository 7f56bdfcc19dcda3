"""Contacts, their tags and their typed custom fields."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, Date, Float, ForeignKey, Index, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.db import Base, created_at, intpk, name_str, short_str, str_enum, updated_at
from crm.models.organisations import Organisation


class TargetGroup(enum.StrEnum):
    """The communication plan's target groups (seeds: "cibles internes / externes")."""

    # internal
    STAFF = "staff"
    GOVERNANCE = "governance"  # president, board, governance bodies
    MEMBER_COMPANY = "member_company"
    PARTNER = "partner"
    COMMISSION = "commission"
    # external
    PUBLIC_INSTITUTION = "public_institution"  # the State and public institutions
    LOCAL_AUTHORITY = "local_authority"
    PRIVATE_INSTITUTION = "private_institution"
    INVESTOR = "investor"  # national and foreign investors and companies
    PROJECT_HOLDER = "project_holder"
    RESEARCH = "research"  # research centres, universities, schools
    FUNDING_PROGRAMME = "funding_programme"
    OTHER_CLUSTER = "other_cluster"
    PROFESSIONAL_ASSOCIATION = "professional_association"  # associations and unions
    MEDIA = "media"

    @property
    def internal(self) -> bool:
        return self in INTERNAL_TARGETS


INTERNAL_TARGETS = frozenset(
    {
        TargetGroup.STAFF,
        TargetGroup.GOVERNANCE,
        TargetGroup.MEMBER_COMPANY,
        TargetGroup.PARTNER,
        TargetGroup.COMMISSION,
    }
)


class Membership(enum.StrEnum):
    MEMBER = "member"
    PROSPECT = "prospect"
    PARTNER = "partner"
    FORMER = "former"


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


contact_tags = Table(
    "contact_tags",
    Base.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[intpk]
    name: Mapped[short_str] = mapped_column(unique=True)  # stored lower-case


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[intpk]
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    # Normalised by email-validator (domain lower-cased, IDNA); unique case-insensitively
    # through the functional index below. NULL for a contact known only by phone.
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(35))  # BCP 47 tag: fr, en, ar, pt-BR
    position: Mapped[str | None] = mapped_column(String(200))  # role / job title
    city: Mapped[str | None] = mapped_column(String(120))
    target: Mapped[TargetGroup | None] = mapped_column(str_enum(TargetGroup), index=True)
    membership: Mapped[Membership | None] = mapped_column(str_enum(Membership))
    member_since: Mapped[date | None] = mapped_column(Date)
    member_until: Mapped[date | None] = mapped_column(Date)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(secondary=contact_tags, order_by=Tag.name)
    field_values: Mapped[list[ContactFieldValue]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or (self.email or "")

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.email!r}>"


Index("uq_contacts_email_lower", func.lower(Contact.email), unique=True)


class CustomField(Base):
    """A typed field an animator added (from an import's extra column or by hand)."""

    __tablename__ = "custom_fields"

    id: Mapped[intpk]
    key: Mapped[short_str] = mapped_column(unique=True)  # slug: "secteur_prefere"
    label: Mapped[name_str]  # as the user wrote it: "Secteur préféré"
    type: Mapped[FieldType] = mapped_column(str_enum(FieldType), default=FieldType.TEXT)


class ContactFieldValue(Base):
    """One custom value, in the column of its type so that segments can compare it."""

    __tablename__ = "contact_field_values"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    text_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[float | None] = mapped_column(Float(53))
    date_value: Mapped[date | None] = mapped_column(Date)
    bool_value: Mapped[bool | None]

    contact: Mapped[Contact] = relationship(back_populates="field_values")
    field: Mapped[CustomField] = relationship(lazy="joined")
