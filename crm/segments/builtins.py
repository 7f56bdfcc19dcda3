"""The named segments every cluster has: perception segments, target groups, members …

Each is written in the rule language itself, so it is counted, previewed and sent exactly
like a rule a person typed. Saved segments (crm.segments.service) cannot take these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from crm.models import PerceptionSegment, TargetGroup
from crm.segments.ast import Rule
from crm.segments.parser import parse


@dataclass(frozen=True)
class Builtin:
    name: str
    rule_text: str
    description: str

    @cached_property
    def rule(self) -> Rule:
        return parse(self.rule_text)


_PERCEPTION_NAMES = {
    PerceptionSegment.OPPONENT: ("opponents", "not credible, no interest"),
    PerceptionSegment.INDIFFERENT: ("indifferent", "credible, no interest"),
    PerceptionSegment.SKEPTIC: ("skeptics", "not credible, interesting"),
    PerceptionSegment.ACQUIRED: ("acquired", "credible and interesting"),
    PerceptionSegment.NO_OPINION: ("no_opinion", "no opinion, or never assessed"),
}

BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("everyone", "all", "every contact"),
        Builtin("members", "member", "contacts whose membership is member"),
        Builtin("internal", "internal", "internal targets: staff, governance, member companies, partners, commissions"),
        Builtin("external", "external", "external targets: institutions, investors, research, media …"),
        Builtin("newsletter_subscribers", "consent(newsletter)", "the latest newsletter consent is an opt-in"),
        *(
            Builtin(name, f"perception = {segment.value}", f"perception: {description}")
            for segment, (name, description) in _PERCEPTION_NAMES.items()
        ),
        *(Builtin(t.value, f"target = {t.value}", f"target group {t.value}") for t in TargetGroup),
    )
}
