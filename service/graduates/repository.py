"""SQL for graduate profiles (always scoped to the owning school)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from service.orm import (
    Course,
    Demand,
    Graduate,
    GraduateTombstone,
    IdempotencyKey,
    MatchResult,
    MatchRun,
    OrderDelivery,
    PhraseEmbedding,
    TaxonomyLabel,
    TrainingOrder,
)
from service.pagination import paginate
from service.text import normalize_phrase


def get(session: Session, graduate_id: str) -> Graduate | None:
    return session.get(Graduate, graduate_id)


def get_owned(
    session: Session, graduate_id: str, organization_id: str, *, lock: bool = False
) -> Graduate | None:
    """``lock``: as :func:`service.curricula.repository.get_owned`."""
    graduate = session.get(Graduate, graduate_id, with_for_update=True if lock else None)
    if graduate is None or graduate.organization_id != organization_id:
        return None
    return graduate


def lock_refs(session: Session, organization_id: str) -> None:
    """Serialise the school's inserting writes (single and bulk) until the transaction ends, so two
    concurrent imports of the same external_ref cannot both decide to insert it. PostgreSQL: an
    advisory transaction lock; SQLite's writers are serialised already (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"graduate-refs:{organization_id}"))))


def by_refs(session: Session, organization_id: str, refs: list[str]) -> dict[str, Graduate]:
    found: dict[str, Graduate] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        stmt = select(Graduate).where(
            Graduate.organization_id == organization_id, Graduate.external_ref.in_(chunk)
        )
        found.update({g.external_ref: g for g in session.scalars(stmt)})
    return found


def list_owned(
    session: Session,
    *,
    organization_id: str,
    limit: int,
    cursor: str | None,
    program_id: str | None = None,
    graduation_year: int | None = None,
) -> list[Graduate]:
    stmt = select(Graduate).where(Graduate.organization_id == organization_id)
    if program_id:
        stmt = stmt.where(Graduate.program_id == program_id)
    if graduation_year:
        stmt = stmt.where(Graduate.graduation_year == graduation_year)
    return list(session.scalars(paginate(stmt, Graduate, limit, cursor)))


def add_all(session: Session, graduates: list[Graduate]) -> None:
    session.add_all(graduates)
    session.flush()


def delete(session: Session, graduate: Graduate, change_seq: int) -> None:
    session.add(GraduateTombstone(graduate_id=graduate.id, change_seq=change_seq))
    session.delete(graduate)
    session.flush()


def delete_stored_answers(session: Session, answers: list[IdempotencyKey]) -> None:
    for answer in answers:
        session.delete(answer)


def match_results_for(session: Session, graduate_id: str) -> list[tuple[MatchResult, MatchRun]]:
    stmt = (
        select(MatchResult, MatchRun)
        .join(MatchRun, MatchRun.id == MatchResult.run_id)
        .where(MatchResult.graduate_id == graduate_id)
        .order_by(MatchRun.created_at)
    )
    return [(r, run) for r, run in session.execute(stmt)]


def deliveries_for(session: Session, graduate_id: str) -> list[tuple[OrderDelivery, TrainingOrder]]:
    stmt = (
        select(OrderDelivery, TrainingOrder)
        .join(TrainingOrder, TrainingOrder.id == OrderDelivery.order_id)
        .where(OrderDelivery.graduate_id == graduate_id)
    )
    return [(d, o) for d, o in session.execute(stmt)]


# -- erasure -------------------------------------------------------------------------------------


def _like_token(norm: str) -> str:
    """The part of a normalised phrase to pre-filter JSON text columns with (lower-cased, as JSON
    escapes it: the columns hold ``json.dumps`` text, so non-ASCII appears as ``\\uXXXX``)."""
    token = max(norm.split(" "), key=len)
    return json.dumps(token)[1:-1].lower()


def _json_rows_mentioning(session: Session, column: Any, norms: set[str]) -> list[Any]:
    """Values of a JSON column whose text may contain one of ``norms`` (a superset; check exactly)."""
    text_col = func.lower(cast(column, Text))
    tokens = sorted({_like_token(n) for n in norms})
    found: list[Any] = []
    for start in range(0, len(tokens), 50):
        chunk = tokens[start : start + 50]
        clause = or_(*(text_col.contains(t, autoescape=True) for t in chunk))
        found.extend(session.scalars(select(column).where(clause)))
    return found


def phrases_in_use(session: Session, norms: set[str]) -> set[str]:
    """Which normalised phrases some stored text still uses (other graduates, demands, courses,
    taxonomy labels). Call after the graduate's own row is gone."""

    if not norms:
        return set()
    used: set[str] = set()
    used.update(session.scalars(select(TaxonomyLabel.norm).where(TaxonomyLabel.norm.in_(norms))))

    def names(values: list[Any]) -> set[str]:
        out: set[str] = set()
        for value in values:
            for item in value or []:
                text = item.get("name") if isinstance(item, dict) else item
                if isinstance(text, str):
                    out.add(normalize_phrase(text))
        return out

    for column in (
        Graduate.skills,
        Graduate.certificates,
        Demand.skills,
        Course.skills,
        Course.learning_outcomes,
    ):
        used |= names(_json_rows_mentioning(session, column, norms)) & norms
    titles = session.scalars(select(Course.title).where(func.lower(Course.title).in_(norms)))
    used |= {normalize_phrase(t) for t in titles} & norms
    return used


def delete_phrase_embeddings(session: Session, text_hashes: set[str]) -> int:
    """Drop cached embeddings (every encoder) of the given phrase hashes."""
    if not text_hashes:
        return 0
    result = session.execute(
        sql_delete(PhraseEmbedding)
        .where(PhraseEmbedding.text_hash.in_(text_hashes))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def stored_answers_mentioning(session: Session, needles: list[str]) -> list[IdempotencyKey]:
    """Stored idempotent answers (any organisation) whose body or resource ids mention a needle."""
    needles = [n for n in needles if n]
    if not needles:
        return []
    body = cast(IdempotencyKey.response_body, Text)
    ids = cast(IdempotencyKey.resource_ids, Text)
    clause = or_(
        *(body.contains(json.dumps(n), autoescape=True) for n in needles),
        *(ids.contains(n, autoescape=True) for n in needles),
    )
    return list(session.scalars(select(IdempotencyKey).where(clause)))


# -- retention ------------------------------------------------------------------------------------

RETENTION_LOCK_ID = 7_311_002  # pg advisory lock id of the retention pass


def expired_ids(session: Session, cutoff: datetime, limit: int) -> list[str]:
    stmt = (
        select(Graduate.id)
        .where(Graduate.updated_at < cutoff)
        .order_by(Graduate.updated_at, Graduate.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def count_expired(session: Session, cutoff: datetime) -> int:
    return int(session.scalar(select(func.count()).where(Graduate.updated_at < cutoff)) or 0)


def try_retention_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(RETENTION_LOCK_ID))))
