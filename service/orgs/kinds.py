"""The kinds of organisation, and which of them may own demands."""

from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    enterprise = "enterprise"
    school = "school"
    government = "government"
    research_institute = "research_institute"


DEMAND_OWNER_KINDS = frozenset({OrgKind.enterprise, OrgKind.research_institute})
