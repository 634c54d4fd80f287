from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query

from service.api.deps import CurrentOrg
from service.db import SessionDep, read_only
from service.embeddings.encoder import Encoder
from service.errors import NotFound
from service.occupations import service
from service.occupations.schemas import (
    OccupationCandidate,
    OccupationHit,
    OccupationNormalizeRequest,
    OccupationNormalizeResponse,
    OccupationNormalizeResult,
    OccupationPage,
    OccupationRead,
    OccupationSkillRead,
    TaxonomyName,
)
from service.pagination import decode_id_cursor, encode_id_cursor


def _encoder(app: FastAPI) -> Encoder | None:
    """Titles are matched with the multilingual encoder (the fake one when the app runs on it)."""
    multilingual: Encoder | None = getattr(app.state, "multilingual", None)
    if multilingual is not None:
        return multilingual
    if app.state.settings.encoder_backend == "fake":
        encoder: Encoder | None = app.state.encoder
        return encoder
    from service.embeddings.multilingual import load_multilingual

    return load_multilingual()


def install(app: FastAPI) -> service.OccupationRuntime:
    runtime = service.OccupationRuntime(lambda: _encoder(app), lambda: app.state.encoder)
    app.state.occupations = runtime
    service.attach([app.state.read_sessions, app.state.write_sessions], runtime)
    return runtime


router = APIRouter(prefix="/v1/occupations", tags=["occupations"])


@router.post(
    "/normalize",
    response_model=OccupationNormalizeResponse,
    summary="Recognise job titles as occupations of an imported classification (CSCO, ESCO)",
    description="Real titles are cleaned first: company names, places, pay and benefits, brackets and "
    "codes are set aside. Each text gets up to `top_k` occupations, best first; `taxonomy` limits them "
    "to one classification. At most 100 texts of 2,000 characters.",
)
@read_only
def normalize_titles(
    body: OccupationNormalizeRequest, session: SessionDep, org: CurrentOrg
) -> OccupationNormalizeResponse:
    results = service.normalize(session, body.texts, top_k=body.top_k, taxonomy=body.taxonomy)
    return OccupationNormalizeResponse(
        results=[
            OccupationNormalizeResult(
                text=text, occupations=[OccupationCandidate(**m.__dict__) for m in matches]
            )
            for text, matches in results
        ]
    )


@router.get(
    "",
    response_model=OccupationPage,
    summary="Occupation search and autocomplete",
    description="With `q`: names starting with `q` (shortest first), then the closest occupations by "
    "title similarity, up to `limit` (no further pages). Without `q`: every occupation, by id, page "
    "by page.",
)
@read_only
def list_occupations(
    session: SessionDep,
    org: CurrentOrg,
    q: Annotated[str | None, Query(max_length=200)] = None,
    taxonomy: Annotated[TaxonomyName | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> OccupationPage:
    if q is not None and q.strip():
        hits = service.search(session, q, taxonomy=taxonomy, limit=limit)
        return OccupationPage(
            items=[
                OccupationHit(
                    occupation_id=h.occupation_id,
                    code=h.code,
                    label=h.label,
                    taxonomy=h.taxonomy,
                    score=h.score,
                    matched_label=h.matched_label,
                )
                for h in hits
            ],
            next_cursor=None,
        )
    after = decode_id_cursor(cursor) if cursor else None
    rows = service.list_page(session, limit=limit, after=after, taxonomy=taxonomy)
    more = len(rows) > limit
    rows = rows[:limit]
    return OccupationPage(
        items=[
            OccupationHit(
                occupation_id=r.occupation_id, code=r.code, label=r.label, taxonomy=r.taxonomy, level=r.level
            )
            for r in rows
        ],
        next_cursor=encode_id_cursor(rows[-1].occupation_id) if more and rows else None,
    )


@router.get(
    "/{occupation_id:path}",
    response_model=OccupationRead,
    summary="One occupation: definition, tasks (CSCO) or essential and optional skills (ESCO)",
    description="`occupation_id` is the stable id (an ESCO concept URI, URL-encoded, or a CSCO code); "
    "a classification code is accepted too.",
)
def get_occupation(occupation_id: str, session: SessionDep, org: CurrentOrg) -> OccupationRead:
    occupation = service.get(session, occupation_id)
    if occupation is None:
        raise NotFound(f"No occupation {occupation_id}.")
    skills = service.skills_of(session, occupation)

    def read(relation: str) -> list[OccupationSkillRead]:
        return [
            OccupationSkillRead(
                skill_id=s.skill_id, label=s.label, relation=s.relation, skill_type=s.skill_type
            )
            for s in skills
            if s.relation == relation
        ]

    return OccupationRead(
        occupation_id=occupation.occupation_id,
        taxonomy=occupation.taxonomy,
        code=occupation.code,
        label=occupation.label,
        alt_labels=[str(a) for a in occupation.alt_labels or []],
        definition=occupation.definition,
        level=occupation.level,
        broader=occupation.broader,
        tasks=[str(t) for t in occupation.tasks or []],
        essential_skills=read("essential"),
        optional_skills=read("optional"),
        taxonomy_version=occupation.taxonomy_version,
    )
