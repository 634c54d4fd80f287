"""Graduate profiles: personal data, kept to what matching needs, visible only to the owning school."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service import changes
from service.curricula import repository as programs_repo
from service.db import is_writer, mark_erasure
from service.embeddings.cache import forget_phrases, phrase_hash
from service.errors import NotFound, Unprocessable
from service.graduates import repository as repo
from service.graduates.schemas import GraduateCreate, GraduateUpdate
from service.idempotency.repository import forget_resources
from service.orm import Graduate, Organization, utcnow
from service.schemas import SkillClaim
from service.taxonomy.canonical import canonical_ids
from service.text import normalize_phrase


def skill_rows(session: Session, skills: list[SkillClaim]) -> list[dict[str, Any]]:
    ids = canonical_ids(session, [s.name for s in skills])
    return [{**s.model_dump(), "skill_id": ids[i]} for i, s in enumerate(skills)]


def _program_problem(session: Session, org: Organization, ref: str) -> tuple[str | None, str | None]:
    """The programme id that ``ref`` (an id or a code of this school's programmes) names, or why none."""
    found = programs_repo.find_owned(session, ref, org.id)
    if not found:
        return None, "not a programme (id or code) of this school"
    if len(found) > 1:
        return None, f"the code names {len(found)} programmes of this school; use the programme id"
    return found[0].id, None


def _resolve_program(session: Session, org: Organization, ref: str | None, *, loc: list[Any]) -> str | None:
    if ref is None:
        return None
    program_id, problem = _program_problem(session, org, ref)
    if problem is not None:
        raise Unprocessable(
            f"program_id {ref}: {problem}.",
            extra={"errors": [{"loc": loc, "msg": problem, "type": "value_error"}]},
        )
    return program_id


def _apply(session: Session, graduate: Graduate, data: GraduateCreate | GraduateUpdate, seq: int) -> None:
    fields = data.model_dump(exclude_unset=True)
    if "skills" in fields and data.skills is not None:
        graduate.skills = skill_rows(session, data.skills)
    if "certificates" in fields and data.certificates is not None:
        graduate.certificates = list(data.certificates)
    if "program_id" in fields:
        graduate.program_id = data.program_id
    if "graduation_year" in fields:
        graduate.graduation_year = data.graduation_year
    graduate.change_seq = seq


def create(session: Session, org: Organization, data: GraduateCreate) -> Graduate:
    if data.program_id is not None:
        program_id = _resolve_program(session, org, data.program_id, loc=["body", "program_id"])
        data = data.model_copy(update={"program_id": program_id})
    repo.lock_refs(session, org.id)
    if repo.by_refs(session, org.id, [data.external_ref]):
        raise Unprocessable(
            "A graduate with this external_ref already exists; use PATCH or POST /v1/graduates/bulk.",
            extra={
                "errors": [{"loc": ["body", "external_ref"], "msg": "already exists", "type": "value_error"}]
            },
        )
    seq = changes.bump(session, changes.GRADUATE)
    graduate = Graduate(
        organization_id=org.id, external_ref=data.external_ref, skills=[], certificates=[], version=1
    )
    _apply(session, graduate, data, seq)
    repo.add_all(session, [graduate])
    return graduate


def get_owned(session: Session, org: Organization, graduate_id: str) -> Graduate:
    graduate = repo.get_owned(session, graduate_id, org.id, lock=is_writer(session))
    if graduate is None:
        raise NotFound(f"No graduate {graduate_id}.")
    return graduate


def update(session: Session, org: Organization, graduate: Graduate, data: GraduateUpdate) -> Graduate:
    if "program_id" in data.model_fields_set and data.program_id is not None:
        program_id = _resolve_program(session, org, data.program_id, loc=["body", "program_id"])
        data = data.model_copy(update={"program_id": program_id})
    seq = changes.bump(session, changes.GRADUATE)
    _apply(session, graduate, data, seq)
    graduate.version += 1
    graduate.updated_at = utcnow()
    session.flush()
    return graduate


def bulk_upsert(
    session: Session, org: Organization, rows: list[GraduateCreate]
) -> tuple[int, int, list[Graduate]]:
    """Upsert by external_ref, all or nothing: one bad row stores none of them and is named."""
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    programs: dict[str, tuple[str | None, str | None]] = {}
    for i, row in enumerate(rows):
        if row.external_ref in seen:
            errors.append(
                {
                    "loc": ["body", "graduates", i, "external_ref"],
                    "msg": f"duplicate of row {seen[row.external_ref]}",
                    "type": "value_error",
                }
            )
        seen.setdefault(row.external_ref, i)
        if row.program_id is not None:
            if row.program_id not in programs:
                programs[row.program_id] = _program_problem(session, org, row.program_id)
            program_id, problem = programs[row.program_id]
            if problem is not None:
                errors.append(
                    {"loc": ["body", "graduates", i, "program_id"], "msg": problem, "type": "value_error"}
                )
            else:
                rows[i] = row.model_copy(update={"program_id": program_id})
    if errors:
        raise Unprocessable(
            f"{len(errors)} row(s) are not valid; nothing was stored.", extra={"errors": errors}
        )
    repo.lock_refs(session, org.id)
    existing = repo.by_refs(session, org.id, [r.external_ref for r in rows])
    canonical_ids(session, [s.name for r in rows for s in r.skills])  # one batch; each row then hits the memo
    seq = changes.bump(session, changes.GRADUATE)
    out: list[Graduate] = []
    new: list[Graduate] = []
    for row in rows:
        graduate = existing.get(row.external_ref)
        if graduate is None:
            graduate = Graduate(
                organization_id=org.id, external_ref=row.external_ref, skills=[], certificates=[], version=1
            )
            new.append(graduate)
        else:
            graduate.version += 1
            graduate.updated_at = utcnow()
        _apply(session, graduate, row, seq)
        out.append(graduate)
    repo.add_all(session, new)
    return len(new), len(out) - len(new), out


def delete(session: Session, graduate: Graduate) -> None:
    """Erase a graduate everywhere (GDPR Art. 17, PIPL Art. 47).

    The profile; its match results and deliveries (foreign-key cascade); stored idempotent answers
    that mention it (a retry with such a key then runs afresh); cached embeddings of its skill and
    certificate phrases that no other stored text uses (also from this process's memory of recent
    stateless phrases). A tombstone keeps only the id, so the other
    API processes drop the graduate from memory.
    """

    texts = [s.get("name") for s in graduate.skills or [] if isinstance(s, dict)]
    texts += list(graduate.certificates or [])
    norms = {normalize_phrase(t) for t in texts if isinstance(t, str)} - {""}
    forget_resources(session, graduate.organization_id, [graduate.id])
    repo.delete_stored_answers(
        session, repo.stored_answers_mentioning(session, [graduate.id, graduate.external_ref])
    )
    seq = changes.bump(session, changes.GRADUATE)
    repo.delete(session, graduate, seq)
    unused = norms - repo.phrases_in_use(session, norms)
    repo.delete_phrase_embeddings(session, {phrase_hash(n) for n in unused})
    forget_phrases(unused)
    mark_erasure(session)


def export(session: Session, graduate: Graduate) -> dict[str, Any]:
    matches = [
        {
            "demand_id": run.demand_id,
            "match_run_id": run.id,
            "rank": r.rank,
            "score": r.score,
            "skills": r.skills,
            "missing_required": r.missing_required,
            "model": run.model,
            "model_version": run.model_version,
            "created_at": run.created_at,
        }
        for r, run in repo.match_results_for(session, graduate.id)
    ]
    deliveries = [
        {
            "order_id": o.id,
            "enterprise_id": o.enterprise_id,
            "status": o.status,
            "delivered_at": d.delivered_at,
        }
        for d, o in repo.deliveries_for(session, graduate.id)
    ]
    return {"graduate": graduate, "matches": matches, "deliveries": deliveries, "exported_at": utcnow()}
