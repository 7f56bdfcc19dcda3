"""crm.vocabulary's API for views: labels per language with their fallbacks, choices, and
the word tables' reading and refusing (the words themselves: test_pinned_words.py)."""

from __future__ import annotations

import enum
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from crm import vocabulary
from crm.errors import ValidationError
from crm.models import (
    CampaignKind,
    CampaignStatus,
    ConsentTopic,
    DeliveryStatus,
    InteractionKind,
    Level,
    OrganisationSize,
    PerceptionSegment,
    SuppressionReason,
    TargetGroup,
)
from crm.resources import templates_dir
from crm.vocabulary import Words
from crm.vocabulary.spellings import ENUMS

LABELS = Path(vocabulary.__file__).with_name("labels")


def _file(language: str) -> dict[str, dict[str, str]]:
    with (LABELS / f"{language}.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_every_value_people_type_has_an_english_and_a_french_label() -> None:
    for language in ("en", "fr"):
        labels = _file(language)
        missing = [f"{vocabulary.section(e)}.{m.value}" for e in ENUMS for m in e
                   if not labels.get(vocabulary.section(e), {}).get(m.value, "").strip()]
        assert not missing, f"{language}.toml lacks {missing}"


@pytest.mark.parametrize("language", vocabulary.languages())
def test_a_labels_file_names_only_real_values(language: str) -> None:
    """A key with a typo would never be shown: the value would fall back to English."""
    sections = {vocabulary.section(e): e for e in ENUMS}
    for name, labels in _file(language).items():
        assert name in sections, f"{language}.toml: no enumeration [{name}]"
        assert set(labels) <= {m.value for m in sections[name]}, f"{language}.toml [{name}]"


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_campaign_kinds_read_as_the_messages_name_them(language: str) -> None:
    with (templates_dir() / "email" / "strings" / f"{language}.toml").open("rb") as fh:
        kinds = tomllib.load(fh)["kinds"]
    assert {k.value: vocabulary.label(k, language) for k in CampaignKind} == kinds


@pytest.mark.parametrize(
    ("value", "language", "shown"),
    [
        (TargetGroup.MEMBER_COMPANY, "fr", "Entreprise membre"),
        (TargetGroup.MEMBER_COMPANY, "en", "Member company"),
        (TargetGroup.MEMBER_COMPANY, "fr-CA", "Entreprise membre"),  # the base language
        (TargetGroup.MEMBER_COMPANY, "FR_ca", "Entreprise membre"),
        (TargetGroup.MEMBER_COMPANY, "ar", "Member company"),  # not translated yet: English
        (TargetGroup.MEMBER_COMPANY, "pt-BR", "Member company"),  # no labels file: English
        (TargetGroup.MEMBER_COMPANY, "../../../etc/passwd", "Member company"),  # never a path
        (CampaignKind.CALL_FOR_PROJECTS, "ar-MA", "دعوة لتقديم المشاريع"),
        (ConsentTopic.EVENTS, "fr", "Événements"),
        (PerceptionSegment.NO_OPINION, "fr", "Sans opinion"),
        (CampaignStatus.SCHEDULED, "fr", "Scheduled"),  # no labels at all: the value written out
        (SuppressionReason.HARD_BOUNCE, "en", "Hard bounce"),
    ],
)
def test_a_label_falls_back_to_the_base_language_then_english_then_the_value(
        value: enum.Enum, language: str, shown: str) -> None:
    assert vocabulary.label(value, language) == shown


def test_choices_give_every_value_in_order_with_its_label() -> None:
    assert vocabulary.choices(OrganisationSize, "fr") == [
        ("micro", "Micro (moins de 10 personnes)"), ("small", "Petite (10 à 49 personnes)"),
        ("medium", "Moyenne (50 à 249 personnes)"), ("large", "Grande (250 personnes ou plus)")]
    assert [value for value, _ in vocabulary.choices(InteractionKind, "ar")] == [k.value for k in InteractionKind]


def test_sections_are_the_enumerations_names_in_snake_case() -> None:
    assert [vocabulary.section(e) for e in (TargetGroup, Level, CampaignKind)] == [
        "target_group", "level", "campaign_kind"]


def test_read_parse_and_the_field_a_refusal_names() -> None:
    assert vocabulary.read(TargetGroup, "Collectivités territoriales") is TargetGroup.LOCAL_AUTHORITY
    assert vocabulary.read(TargetGroup, "martian") is None
    assert vocabulary.parse(Level, "Élevée", "interest") is Level.HIGH
    with pytest.raises(ValidationError) as raised:
        vocabulary.parse(Level, "bof", "interest")
    assert raised.value.where == "interest"
    with pytest.raises(ValidationError) as raised:
        vocabulary.parse(ConsentTopic, "spam")
    assert raised.value.where == "topic"
    assert vocabulary.words(CampaignKind).allowed == "newsletter, invitation, press_release, call_for_projects, survey"
    with pytest.raises(KeyError):
        vocabulary.words(DeliveryStatus)  # nobody types a delivery status


def test_the_words_need_no_service_and_custom_fields_no_csv_package() -> None:
    """crm.vocabulary sits under every service (models and errors only), so a custom field's
    name is checked against the CSV headers without importing the CSV import."""
    code = ("import sys, crm.vocabulary, crm.custom_fields; "
            "print(sorted(m for m in sys.modules if m.startswith('crm.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parents[2]).stdout  # this checkout's crm
    assert "crm.csvfiles" not in loaded and "crm.segments" not in loaded and "crm.campaigns" not in loaded


def test_a_spelling_that_would_mean_two_values_is_a_mistake_in_the_table() -> None:
    Words("size", "size", {"small": ("petite",), "large": ("grande",)})
    with pytest.raises(ValueError, match="'Petites' would mean both small and large"):
        Words("size", "size", {"small": ("petite",), "large": ("grande", "Petites")}, plurals=True)
    with pytest.raises(ValueError, match="'small' would mean both small and large"):
        Words("size", "size", {"small": (), "large": ("small",)})
