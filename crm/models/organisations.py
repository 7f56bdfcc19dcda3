"""Organisations: the companies, labs, schools and institutions the contacts belong to."""

from __future__ import annotations

import enum

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, created_at, intpk, name_str, str_enum, updated_at


class OrganisationKind(enum.StrEnum):
    COMPANY = "company"
    RESEARCH_CENTRE = "research_centre"
    UNIVERSITY = "university"  # university or school
    PUBLIC_INSTITUTION = "public_institution"
    LOCAL_AUTHORITY = "local_authority"
    PRIVATE_INSTITUTION = "private_institution"
    INVESTOR = "investor"
    FUNDING_PROGRAMME = "funding_programme"
    OTHER_CLUSTER = "other_cluster"
    PROFESSIONAL_ASSOCIATION = "professional_association"  # association or union
    MEDIA = "media"
    OTHER = "other"


class OrganisationSize(enum.StrEnum):
    MICRO = "micro"  # < 10 people
    SMALL = "small"  # < 50
    MEDIUM = "medium"  # < 250
    LARGE = "large"  # 250 and more


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[intpk]
    name: Mapped[name_str]
    kind: Mapped[OrganisationKind] = mapped_column(
        str_enum(OrganisationKind), default=OrganisationKind.COMPANY
    )
    sector: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    website: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[OrganisationSize | None] = mapped_column(str_enum(OrganisationSize))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


# Names are unique case-insensitively: "ACME" and "Acme" are one organisation.
Index("uq_organisations_name_lower", func.lower(Organisation.name), unique=True)
