"""SQL for occupations (ESCO, CSCO) and their skill relations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from service.orm import Occupation, OccupationSkill, TaxonomySkill

CHUNK = 500


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def hashes_for_taxonomy(session: Session, taxonomy: str) -> dict[str, tuple[str, str]]:
    """occupation_id -> (row id, content hash) of every occupation of ``taxonomy``."""
    stmt = select(Occupation.occupation_id, Occupation.id, Occupation.content_hash).where(
        Occupation.taxonomy == taxonomy
    )
    return {occ: (row_id, digest) for occ, row_id, digest in session.execute(stmt)}


def insert_occupations(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 2000):
        session.execute(insert(Occupation), chunk)


def update_occupations(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows carry the primary key ``id`` (ORM bulk update by primary key)."""
    for chunk in _chunks(rows, 2000):
        session.execute(update(Occupation), chunk)


def delete_relations(session: Session, occupation_ids: list[str]) -> None:
    for chunk in _chunks(occupation_ids):
        session.execute(delete(OccupationSkill).where(OccupationSkill.occupation_id.in_(chunk)))


def delete_occupations(session: Session, occupation_ids: list[str]) -> None:
    delete_relations(session, occupation_ids)
    for chunk in _chunks(occupation_ids):
        session.execute(delete(Occupation).where(Occupation.occupation_id.in_(chunk)))


def insert_relations(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 5000):
        session.execute(insert(OccupationSkill), chunk)


def all_occupations(
    session: Session,
) -> list[tuple[str, str, str | None, str, list[Any], str | None, int | None]]:
    """(occupation_id, taxonomy, code, label, alt_labels, definition, level) of every occupation."""
    stmt = select(
        Occupation.occupation_id,
        Occupation.taxonomy,
        Occupation.code,
        Occupation.label,
        Occupation.alt_labels,
        Occupation.definition,
        Occupation.level,
    ).order_by(Occupation.taxonomy, Occupation.occupation_id)
    return [tuple(row) for row in session.execute(stmt)]


def get(session: Session, occupation_id: str) -> Occupation | None:
    return session.scalars(select(Occupation).where(Occupation.occupation_id == occupation_id)).first()


def by_code(session: Session, code: str, taxonomy: str | None = None) -> Occupation | None:
    stmt = select(Occupation).where(Occupation.code == code)
    if taxonomy:
        stmt = stmt.where(Occupation.taxonomy == taxonomy)
    return session.scalars(stmt.order_by(Occupation.taxonomy)).first()


def list_page(session: Session, *, limit: int, after: str | None, taxonomy: str | None) -> list[Occupation]:
    stmt = select(Occupation)
    if taxonomy:
        stmt = stmt.where(Occupation.taxonomy == taxonomy)
    if after is not None:
        stmt = stmt.where(Occupation.occupation_id > after)
    return list(session.scalars(stmt.order_by(Occupation.occupation_id).limit(limit + 1)))


def by_ids(session: Session, occupation_ids: list[str]) -> dict[str, Occupation]:
    out: dict[str, Occupation] = {}
    for chunk in _chunks(sorted(set(occupation_ids))):
        stmt = select(Occupation).where(Occupation.occupation_id.in_(chunk))
        out.update({o.occupation_id: o for o in session.scalars(stmt)})
    return out


def skills_of(session: Session, occupation_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """(skill_id, relation, skill type, the skill's preferred label when imported), essential first."""
    stmt = (
        select(
            OccupationSkill.skill_id,
            OccupationSkill.relation,
            OccupationSkill.skill_type,
            TaxonomySkill.preferred_label,
        )
        .outerjoin(TaxonomySkill, TaxonomySkill.skill_id == OccupationSkill.skill_id)
        .where(OccupationSkill.occupation_id == occupation_id)
        .order_by(OccupationSkill.relation, OccupationSkill.id)
    )
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def children(session: Session, code: str) -> list[Occupation]:
    """CSCO occupations whose ``broader`` group is ``code``."""
    stmt = select(Occupation).where(or_(Occupation.broader == code)).order_by(Occupation.occupation_id)
    return list(session.scalars(stmt))
