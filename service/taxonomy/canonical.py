"""Recognise typed skill names as canonical taxonomy skills.

``canonical_ids`` is called when demands, graduates and courses are written: each typed name keeps
its text and gains the taxonomy's ``skill_id`` when the name is recognised confidently.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.orm import TaxonomySkill


def canonical_ids(session: Session, names: list[str]) -> list[str | None]:
    """The canonical skill id for each name, or None where the taxonomy does not know it."""
    if not names:
        return []
    wanted = {n.strip().casefold() for n in names}
    stmt = select(func.lower(TaxonomySkill.preferred_label), TaxonomySkill.skill_id).where(
        func.lower(TaxonomySkill.preferred_label).in_(wanted)
    )
    found = {label: skill_id for label, skill_id in session.execute(stmt)}
    return [found.get(n.strip().casefold()) for n in names]
