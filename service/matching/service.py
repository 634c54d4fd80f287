"""Matching: rank graduates and programmes for a demand, demands for a graduate, and stateless lists.

Every request embeds only phrases it has not seen (the phrase cache in ``phrase_embedding``, keyed by
encoder and normalised text); graduates live in one in-memory :class:`GraduateIndex` per process, kept
in step with the database through the ``graduate`` change counter (a cheap read per request, then only
the changed rows and tombstones), so several API processes on one PostgreSQL database agree.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from service.embeddings.cache import embed_texts
from service.embeddings.static import StaticVectors, for_encoder
from service.errors import Unprocessable
from service.matching import repository as repo
from service.matching import scoring
from service.matching.engine import MatchingEngine, skill_names_levels
from service.matching.index import RankResult
from service.ops.deadline import check_deadline
from service.orm import Demand, Graduate, MatchResult, MatchRun, Program
from service.text import normalize_phrase

log = logging.getLogger(__name__)

# A stateless list longer than this is first ranked with the encoder's static vectors
# (:mod:`service.embeddings.static`) and only its best are scored with the transformer; sizes chosen on
# O*NET fit occupations (``python -m bench.shortlist``), where the exact top 10 was found in full.
SHORTLIST_MIN = 200
SHORTLIST_PER_RESULT = 4

# --- small candidate sets (programmes, stateless lists, one graduate) ------------------------------


@dataclass
class CandidateSet:
    """Candidates as a CSR layout over their distinct phrases."""

    phrase_texts: list[str]
    indptr: np.ndarray
    idx: np.ndarray
    levels: np.ndarray

    @classmethod
    def build(cls, candidates: list[list[tuple[str, int | None]]]) -> CandidateSet:
        ids: dict[str, int] = {}
        texts: list[str] = []
        idx: list[int] = []
        levels: list[int | None] = []
        indptr = [0]
        for phrases in candidates:
            for text, level in phrases:
                key = normalize_phrase(text)
                if not key:
                    continue
                if key not in ids:
                    ids[key] = len(texts)
                    texts.append(text)
                idx.append(ids[key])
                levels.append(level)
            indptr.append(len(idx))
        return cls(
            texts,
            np.asarray(indptr, dtype=np.int64),
            np.asarray(idx, dtype=np.int64),
            scoring.encode_levels(levels),
        )

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def entries(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.idx[a:b], self.levels[a:b]

    def subset(self, rows: np.ndarray) -> CandidateSet:
        """The candidates ``rows`` (in that order) over only the phrases they hold."""
        spans = [(int(self.indptr[i]), int(self.indptr[i + 1])) for i in rows]
        idx = np.concatenate([self.idx[a:b] for a, b in spans]) if spans else self.idx[:0]
        levels = np.concatenate([self.levels[a:b] for a, b in spans]) if spans else self.levels[:0]
        used, local = np.unique(idx, return_inverse=True)
        indptr = np.zeros(len(spans) + 1, dtype=np.int64)
        np.cumsum([b - a for a, b in spans], out=indptr[1:])
        return CandidateSet([self.phrase_texts[int(i)] for i in used], indptr, local.astype(np.int64), levels)


def _score_set(
    session: Session,
    engine: MatchingEngine,
    demand: scoring.DemandSkills,
    cands: CandidateSet,
    *,
    store: bool = True,
    approximate: StaticVectors | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(scores per candidate, effective weights (k,), sim (k, P), cov (k, P)).

    ``approximate``: the cheap pass that shortlists a large stateless list. The phrases' English vectors
    are their static approximations and the lexical rows leave out character n-grams on both sides;
    everything else is as in the exact pass."""
    demand_lex = demand.lex
    if approximate is not None:
        vecs = approximate.encode(cands.phrase_texts)
        phrase_lex = engine.lexical.transform_recent(cands.phrase_texts, grams=False)
        demand_lex = engine.lexical.transform(demand.names, grams=False)
    else:
        vecs = embed_texts(session, engine.encoder, cands.phrase_texts, store=store)
        # A stateless list (store=False) is often sent again: its phrases' lexical rows are kept in
        # memory like their vectors.
        phrase_lex = None if store else engine.lexical.transform_recent(cands.phrase_texts)
    sim = scoring.combined_similarity(
        demand.names,
        demand.vecs,
        cands.phrase_texts,
        vecs,
        calibration=engine.calibration,
        lexical=engine.lexical,
        multilingual=engine.multilingual,
        demand_lex=demand_lex,
        phrase_lex=phrase_lex,
        bridge=engine.bridge,
        demand_ml=demand.ml,
        phrase_ml=engine.ml_for(session, demand, cands.phrase_texts, store=store),
        synonyms=demand.synonyms,
    )
    cov = engine.calibration.coverage(sim)
    best = scoring.best_evidence(
        cov, demand.levels, cands.indptr, cands.idx, cands.levels, engine.calibration
    )
    weights = engine.weights(session, demand)
    scores = scoring.aggregate(best, weights, demand.required, engine.calibration)
    return scores, weights, sim, cov


def _explain(
    engine: MatchingEngine,
    demand: scoring.DemandSkills,
    cands: CandidateSet,
    weights: np.ndarray,
    sim: np.ndarray,
    cov: np.ndarray,
    i: int,
) -> tuple[list[dict[str, Any]], list[str]]:
    idx, levels = cands.entries(i)
    return scoring.explain(
        demand.names,
        sim,
        cov,
        cands.phrase_texts,
        idx,
        levels,
        demand.levels,
        demand.required,
        engine.calibration,
        weights=weights,
        synonyms=demand.synonyms,
    )


def _require_skills(demand: Demand) -> None:
    if not [s for s in demand.skills or [] if s.get("name")]:
        raise Unprocessable(f"Demand {demand.id} has no skills to match; add skills to it first.")


def _round(x: float) -> float:
    return round(float(x), 4)


# --- use cases ------------------------------------------------------------------------------------


def match_demand(
    session: Session, engine: MatchingEngine, demand: Demand, *, top_k: int, min_score: float | None
) -> MatchRun:
    """Rank every (not yet placed) graduate of the consortium for ``demand`` and store the result."""
    _require_skills(demand)
    engine.sync(session)
    check_deadline()
    skills = engine.demand_skills(session, list(demand.skills or []))
    check_deadline()
    result, own = _rank_existing(session, engine, skills, top_k, min_score)
    run = MatchRun(
        demand_id=demand.id,
        organization_id=demand.organization_id,
        model=engine.encoder.name,
        model_version=engine.encoder.version,
        taxonomy_version=repo.latest_taxonomy_version(session),
        top_k=top_k,
        min_score=min_score,
    )
    payloads = [engine.index.payload(key) for key in result.keys]
    for i, key in enumerate(result.keys):
        if str(key) not in own:
            continue  # erased while this request ran (see _rank_existing)
        evidence, missing = engine.index.explain(result, skills, i)
        _own_spelling(evidence, own[str(key)])
        run.results.append(
            MatchResult(
                rank=len(run.results) + 1,
                graduate_id=str(key),
                school_id=str(payloads[i]),
                score=_round(result.scores[i]),
                skills=evidence,
                missing_required=missing,
            )
        )
    repo.replace_run(session, run)
    return run


def _rank_existing(
    session: Session,
    engine: MatchingEngine,
    skills: scoring.DemandSkills,
    top_k: int,
    min_score: float | None,
    tries: int = 3,
) -> tuple[RankResult, dict[str, list[Any]]]:
    """Rank, then hold the ranked graduates' rows until the run is stored, with their skill lists.

    On PostgreSQL a graduate can be erased between the index's sync and the insert of the results (on
    SQLite the request's write lock rules that out); the results would then name a graduate that no
    longer exists. A ranked graduate found missing makes the index sync again and rank again; after
    ``tries``, the missing ones are left out of the run.
    """
    for attempt in range(tries):
        if attempt:
            engine.sync(session)
        result = engine.index.rank(skills, top_k, min_score)
        check_deadline()
        own = repo.graduate_skill_lists(session, [str(key) for key in result.keys], hold=True)
        if len(own) == len(result.keys):
            break
    return result, own


def _own_spelling(evidence: list[dict[str, Any]], skills: list[Any]) -> None:
    """The index keeps phrases normalised; show the graduate's phrase as the graduate wrote it."""
    spelled = {normalize_phrase(str(s.get("name", ""))): str(s.get("name", "")) for s in skills}
    for entry in evidence:
        if entry.get("matched"):
            entry["matched"] = spelled.get(entry["matched"], entry["matched"])


def run_view(session: Session, run: MatchRun) -> dict[str, Any]:
    results = repo.results_with_graduates(session, run.id)
    return {
        "demand_id": run.demand_id,
        "model": run.model,
        "model_version": run.model_version,
        "taxonomy_version": run.taxonomy_version,
        "created_at": run.created_at,
        "top_k": run.top_k,
        "min_score": run.min_score,
        "matches": [
            {
                "graduate_id": r.graduate_id,
                "school_id": r.school_id,
                "score": r.score,
                "skills": r.skills,
                "missing_required": r.missing_required,
                "graduate_skills": [s.get("name") for s in skills],
            }
            for r, skills in results
        ],
    }


def last_run(session: Session, demand: Demand) -> MatchRun | None:
    return repo.last_run(session, demand.id)


def _program_phrases(program: Program) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for c in program.courses:
        out.append((c.title, None))
        out.extend((o, None) for o in c.learning_outcomes or [])
        out.extend((s["name"], None) for s in c.skills or [])
    return out


def program_matches(
    session: Session, engine: MatchingEngine, demand: Demand, *, top_k: int
) -> dict[str, Any]:
    """Programmes ranked by how well their curricula (titles, outcomes, tagged skills) cover ``demand``."""
    _require_skills(demand)
    programs = repo.all_programs(session)
    skills = engine.demand_skills(session, list(demand.skills or []))
    check_deadline()
    cands = CandidateSet.build([_program_phrases(p) for p in programs])
    scores, weights, sim, cov = _score_set(session, engine, skills, cands)
    check_deadline()
    idx, top = scoring.top_k(scores, top_k)
    items = []
    for i, score in zip(idx, top, strict=True):
        evidence, missing = _explain(engine, skills, cands, weights, sim, cov, int(i))
        p = programs[int(i)]
        items.append(
            {
                "program_id": p.id,
                "school_id": p.organization_id,
                "name": p.name,
                "score": _round(score),
                "skills": evidence,
                "missing_required": missing,
            }
        )
    return {"demand_id": demand.id, "model": engine.model, "items": items}


def demand_matches(
    session: Session, engine: MatchingEngine, graduate: Graduate, *, top_k: int
) -> dict[str, Any]:
    """Open demands ranked for one graduate: all demands' skills scored against the graduate at once."""
    demands = [d for d in repo.open_demands(session) if d.skills]
    names, levels = skill_names_levels(list(graduate.skills or []))
    cands = CandidateSet.build([list(zip(names, levels, strict=True))])
    all_skills = [s for d in demands for s in d.skills]
    if not demands:
        return {"graduate_id": graduate.id, "model": engine.model, "items": []}
    stacked = engine.demand_skills(session, all_skills)
    check_deadline()
    _, weights, sim, cov = _score_set(session, engine, stacked, cands)
    check_deadline()
    best = scoring.best_evidence(
        cov, stacked.levels, cands.indptr, cands.idx, cands.levels, engine.calibration
    )
    bounds = np.cumsum([0] + [len(d.skills) for d in demands])
    scores = np.asarray(
        [
            scoring.aggregate(best[:, a:b], weights[a:b], stacked.required[a:b], engine.calibration)[0]
            for a, b in itertools.pairwise(bounds)
        ],
        dtype=np.float32,
    )
    idx, top = scoring.top_k(scores, top_k)
    items = []
    for i, score in zip(idx, top, strict=True):
        a, b = int(bounds[i]), int(bounds[i + 1])
        d = demands[int(i)]
        evidence, missing = scoring.explain(
            stacked.names[a:b],
            sim[a:b],
            cov[a:b],
            cands.phrase_texts,
            cands.idx,
            cands.levels,
            stacked.levels[a:b],
            stacked.required[a:b],
            engine.calibration,
            weights=weights[a:b],
        )
        items.append(
            {
                "demand_id": d.id,
                "organization_id": d.organization_id,
                "title": d.title,
                "score": _round(score),
                "skills": evidence,
                "missing_required": missing,
            }
        )
    return {"graduate_id": graduate.id, "model": engine.model, "items": items}


def match_candidates(
    session: Session,
    engine: MatchingEngine,
    demand_skills: list[dict[str, Any]],
    candidates: list[dict[str, Any]],
    *,
    top_k: int,
    min_score: float | None,
) -> dict[str, Any]:
    """Stateless ranking of up to 1,000 candidates; nothing about them is stored."""
    skills = engine.demand_skills(session, demand_skills)
    check_deadline()
    everyone = CandidateSet.build(
        [[(s["name"], s.get("level")) for s in c.get("skills") or []] for c in candidates]
    )
    rows = _shortlist(session, engine, skills, everyone, top_k)
    cands = everyone if rows is None else everyone.subset(rows)
    scores, weights, sim, cov = _score_set(session, engine, skills, cands, store=False)
    check_deadline()
    idx, top = scoring.top_k(scores, top_k, min_score)
    matches = []
    for i, score in zip(idx, top, strict=True):
        evidence, missing = _explain(engine, skills, cands, weights, sim, cov, int(i))
        matches.append(
            {
                "id": candidates[int(i) if rows is None else int(rows[i])]["id"],
                "score": _round(score),
                "skills": evidence,
                "missing_required": missing,
            }
        )
    return {"model": engine.model, "scored": len(cands), "matches": matches}


def _shortlist(
    session: Session, engine: MatchingEngine, skills: scoring.DemandSkills, cands: CandidateSet, top_k: int
) -> np.ndarray | None:
    """The candidates (ascending positions) worth the transformer, or None for all of them.

    The approximate pass is the same scoring as the exact one (lexical and multilingual channels,
    calibration, levels, importance, required skills) with each phrase's English vector replaced by its
    static approximation; it never depends on what the process has seen before, so a call sent twice
    gets the same answer."""
    size = max(SHORTLIST_MIN, SHORTLIST_PER_RESULT * top_k)
    if len(cands) <= size:
        return None
    static = for_encoder(engine.encoder)
    if static is None:
        return None
    approx, *_ = _score_set(session, engine, skills, cands, store=False, approximate=static)
    check_deadline()
    best, _ = scoring.top_k(approx, size)
    return np.sort(best)
