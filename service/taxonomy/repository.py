"""SQL for the skills taxonomy (skills, their labels, import versions) and the phrase-embedding cache."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from service.orm import Course, Demand, Graduate, TaxonomyLabel, TaxonomySkill, TaxonomyVersion

CHUNK = 500


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- skills and labels -------------------------------------------------------------------------


def hashes_for_source(session: Session, source: str) -> dict[str, tuple[str, str]]:
    """skill_id -> (row id, content hash) of every skill of ``source``."""
    stmt = select(TaxonomySkill.skill_id, TaxonomySkill.id, TaxonomySkill.content_hash).where(
        TaxonomySkill.source == source
    )
    return {skill_id: (row_id, digest) for skill_id, row_id, digest in session.execute(stmt)}


def insert_skills(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 2000):
        session.execute(insert(TaxonomySkill), chunk)


def update_skills(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows carry the primary key ``id`` (ORM bulk update by primary key)."""
    for chunk in _chunks(rows, 2000):
        session.execute(update(TaxonomySkill), chunk)


def delete_skills(session: Session, skill_ids: list[str]) -> None:
    for chunk in _chunks(skill_ids):
        session.execute(delete(TaxonomyLabel).where(TaxonomyLabel.skill_id.in_(chunk)))
        session.execute(delete(TaxonomySkill).where(TaxonomySkill.skill_id.in_(chunk)))


def delete_labels(session: Session, skill_ids: list[str]) -> None:
    for chunk in _chunks(skill_ids):
        session.execute(delete(TaxonomyLabel).where(TaxonomyLabel.skill_id.in_(chunk)))


def insert_labels(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 5000):
        session.execute(insert(TaxonomyLabel), chunk)


def count_labels(session: Session, source: str) -> int:
    stmt = (
        select(func.count())
        .select_from(TaxonomyLabel)
        .join(TaxonomySkill, TaxonomySkill.skill_id == TaxonomyLabel.skill_id)
        .where(TaxonomySkill.source == source)
    )
    return int(session.scalar(stmt) or 0)


def exact_labels(session: Session, norms: Iterable[str]) -> list[tuple[str, str, str]]:
    """(norm, skill_id, kind) of every label whose normalised text is one of ``norms``."""
    wanted = sorted(set(norms))
    out: list[tuple[str, str, str]] = []
    for chunk in _chunks(wanted):
        stmt = select(TaxonomyLabel.norm, TaxonomyLabel.skill_id, TaxonomyLabel.kind).where(
            TaxonomyLabel.norm.in_(chunk)
        )
        out.extend((n, s, k) for n, s, k in session.execute(stmt))
    return out


def all_labels(session: Session) -> list[tuple[str, str, str, str, str, str]]:
    """(skill_id, preferred label, source, label, norm, kind) of every label, grouped by skill."""
    stmt = (
        select(
            TaxonomySkill.skill_id,
            TaxonomySkill.preferred_label,
            TaxonomySkill.source,
            TaxonomyLabel.label,
            TaxonomyLabel.norm,
            TaxonomyLabel.kind,
        )
        .join(TaxonomyLabel, TaxonomyLabel.skill_id == TaxonomySkill.skill_id)
        .order_by(TaxonomySkill.skill_id, TaxonomyLabel.id)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def list_skills(
    session: Session, *, limit: int, after: str | None, source: str | None
) -> list[TaxonomySkill]:
    stmt = select(TaxonomySkill)
    if source:
        stmt = stmt.where(TaxonomySkill.source == source)
    if after is not None:
        stmt = stmt.where(TaxonomySkill.skill_id > after)
    return list(session.scalars(stmt.order_by(TaxonomySkill.skill_id).limit(limit + 1)))


def skills_by_id(session: Session, skill_ids: list[str]) -> dict[str, TaxonomySkill]:
    out: dict[str, TaxonomySkill] = {}
    for chunk in _chunks(sorted(set(skill_ids))):
        out.update(
            {
                s.skill_id: s
                for s in session.scalars(select(TaxonomySkill).where(TaxonomySkill.skill_id.in_(chunk)))
            }
        )
    return out


# -- versions ----------------------------------------------------------------------------------


def latest_version(session: Session, source: str) -> TaxonomyVersion | None:
    stmt = (
        select(TaxonomyVersion)
        .where(TaxonomyVersion.source == source)
        .order_by(TaxonomyVersion.imported_at.desc(), TaxonomyVersion.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def add_version(session: Session, version: TaxonomyVersion) -> None:
    session.add(version)
    session.flush()


def versions(session: Session) -> list[TaxonomyVersion]:
    stmt = select(TaxonomyVersion).order_by(TaxonomyVersion.imported_at.desc(), TaxonomyVersion.id)
    return list(session.scalars(stmt))


def sources_present(session: Session) -> list[str]:
    stmt = select(TaxonomySkill.source).distinct().order_by(TaxonomySkill.source)
    return list(session.scalars(stmt))


def phrases_of_graduates(session: Session) -> Iterator[list[Any]]:
    for (skills,) in session.execute(select(Graduate.skills).execution_options(yield_per=2000)):
        yield skills


def phrases_of_demands(session: Session) -> Iterator[list[Any]]:
    for (skills,) in session.execute(select(Demand.skills).execution_options(yield_per=2000)):
        yield skills


def phrases_of_courses(session: Session) -> Iterator[tuple[list[Any], list[Any], str]]:
    stmt = select(Course.skills, Course.learning_outcomes, Course.title).execution_options(yield_per=2000)
    for row in session.execute(stmt):
        yield row[0], row[1], row[2]
