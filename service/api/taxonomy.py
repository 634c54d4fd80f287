from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query

from service.api.deps import CurrentOrg
from service.db import SessionDep, read_only
from service.pagination import decode_id_cursor, encode_id_cursor
from service.taxonomy import repository as repo
from service.taxonomy import service
from service.taxonomy.runtime import TaxonomyRuntime, attach
from service.taxonomy.schemas import (
    ExtractedSkill,
    ExtractRequest,
    ExtractResponse,
    NormalizeRequest,
    NormalizeResponse,
    NormalizeResult,
    SkillCandidate,
    SkillHit,
    SkillPage,
    TaxonomyVersionRead,
    TaxonomyVersions,
)


def install(app: FastAPI) -> TaxonomyRuntime:
    """Give the app its taxonomy runtime and make it reachable from every request's session."""
    runtime = TaxonomyRuntime(lambda: app.state.encoder)
    app.state.taxonomy = runtime
    attach([app.state.read_sessions, app.state.write_sessions], runtime)
    return runtime


def warm(app: FastAPI, runtime: TaxonomyRuntime) -> None:
    """Build the in-memory taxonomy index before serving, when a taxonomy has been imported (about
    10 s for the full ESCO export), so no request waits for it."""
    if app.state.encoder is None:
        return
    with app.state.read_sessions() as session:
        if repo.sources_present(session):
            runtime.index(session)


router = APIRouter(prefix="/v1/skills", tags=["skills"])


@router.post(
    "/normalize",
    response_model=NormalizeResponse,
    summary="Recognise typed skill names as canonical taxonomy skills",
    description="Each text gets up to `top_k` canonical skills, best first. Preferred, alternative and "
    "hidden labels all count; an exact label match scores 1.0. At most 100 texts of 2,000 characters.",
)
@read_only
def normalize_skills(body: NormalizeRequest, session: SessionDep, org: CurrentOrg) -> NormalizeResponse:
    results = service.normalize(session, body.texts, top_k=body.top_k, min_score=body.min_score)
    return NormalizeResponse(
        results=[
            NormalizeResult(text=text, candidates=[SkillCandidate(**c.__dict__) for c in cands])
            for text, cands in results
        ],
        taxonomy_version=service.current_version(session),
    )


@router.post(
    "/extract",
    response_model=ExtractResponse,
    summary="Skills a job or course description asks for, with the evidencing sentence",
    description="Boilerplate (company blurb, equal-opportunity statement, benefits, how to apply) "
    "produces no skills.",
)
@read_only
def extract_skills(body: ExtractRequest, session: SessionDep, org: CurrentOrg) -> ExtractResponse:
    found = service.extract(session, body.text, min_score=body.min_score, max_skills=body.max_skills)
    return ExtractResponse(
        skills=[
            ExtractedSkill(
                skill_id=e.skill_id,
                label=e.label,
                score=e.score,
                evidence=e.evidence,
                matched_label=e.matched,
                source=e.source,
            )
            for e in found
        ],
        taxonomy_version=service.current_version(session),
    )


@router.get(
    "",
    response_model=SkillPage,
    summary="Taxonomy search and autocomplete",
    description="With `q`: labels starting with `q` (shortest first), then semantic and lexical "
    "neighbours, up to `limit` (no further pages). Without `q`: every skill, by id, page by page.",
)
def list_skills(
    session: SessionDep,
    org: CurrentOrg,
    q: Annotated[str | None, Query(max_length=200)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> SkillPage:
    if q is not None and q.strip():
        hits = [
            (c, how)
            for c, how in service.search(session, q, limit=limit * 3 if source else limit)
            if source is None or c.source == source
        ][:limit]
        found = repo.skills_by_id(session, [c.skill_id for c, _ in hits])
        items = [
            SkillHit(
                skill_id=c.skill_id,
                label=c.label,
                source=c.source,
                score=c.score,
                matched_label=c.matched_label,
                match=how,
                skill_type=found[c.skill_id].skill_type if c.skill_id in found else None,
                broader=found[c.skill_id].broader if c.skill_id in found else None,
            )
            for c, how in hits
        ]
        return SkillPage(items=items, next_cursor=None)
    after = decode_id_cursor(cursor) if cursor else None
    rows = repo.list_skills(session, limit=limit, after=after, source=source)
    more = len(rows) > limit
    rows = rows[:limit]
    return SkillPage(
        items=[
            SkillHit(
                skill_id=r.skill_id,
                label=r.preferred_label,
                source=r.source,
                match="list",
                skill_type=r.skill_type,
                broader=r.broader,
            )
            for r in rows
        ],
        next_cursor=encode_id_cursor(rows[-1].skill_id) if more and rows else None,
    )


@router.get(
    "/versions",
    response_model=TaxonomyVersions,
    summary="Taxonomy imports: the version in force (stored with matches) and every import",
)
def taxonomy_versions(session: SessionDep, org: CurrentOrg) -> TaxonomyVersions:
    return TaxonomyVersions(
        current=service.current_version(session),
        imports=[TaxonomyVersionRead.model_validate(v) for v in service.versions(session)],
    )
