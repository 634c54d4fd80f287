"""Matching: rank graduates and programmes for a demand, demands for a graduate, and stateless lists.

Every request embeds only phrases it has not seen (the phrase cache in ``phrase_embedding``, keyed by
encoder and normalised text); graduates live in one in-memory :class:`GraduateIndex` per process, kept
in step with the database through the ``graduate`` change counter (a cheap read per request, then only
the changed rows and tombstones), so several API processes on one PostgreSQL database agree.
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service import changes
from service.embeddings.cache import embed_texts, forget_phrases, register_forgetter
from service.embeddings.encoder import Encoder, EncoderUnavailable, companion
from service.errors import Unprocessable
from service.matching import repository as repo
from service.matching import scoring
from service.matching.calibration import Calibration, load_bridge, load_calibration
from service.matching.index import GraduateIndex, PhraseStore
from service.matching.lexical import LexicalModel, default_model
from service.memory import release_memory
from service.ops.deadline import check_deadline
from service.orm import Demand, Graduate, MatchResult, MatchRun, Program
from service.text import normalize_phrase

log = logging.getLogger(__name__)


# --- the engine (one per process) -----------------------------------------------------------------


def _names_levels(skills: list[Any]) -> tuple[list[str], list[int | None]]:
    names = [str(s.get("name", "")) for s in skills if s.get("name")]
    levels = [s.get("level") for s in skills if s.get("name")]
    return names, levels


class MatchingEngine:
    """The encoder, calibration, lexical channel and the process's graduate index.

    With ``ml_encoder`` (the multilingual encoder, when its channel is on and its curve is fitted),
    every phrase also gets its multilingual vector (cached under that encoder's own key), and pairs
    where a text holds CJK characters are scored through it too (:func:`scoring.cross_lingual`).
    """

    def __init__(
        self,
        encoder: Encoder,
        calibration: Calibration,
        lexical: LexicalModel,
        ml_encoder: Encoder | None = None,
    ) -> None:
        self.encoder = encoder
        self.calibration = calibration
        self.lexical = lexical
        self.multilingual = bool(getattr(encoder, "multilingual", False))
        self.bridge = load_bridge(calibration, ml_encoder.name) if ml_encoder is not None else None
        self.ml_encoder = ml_encoder if self.bridge is not None else None
        self.phrases = PhraseStore(
            encoder.dim, lexical, ml_dim=self.ml_encoder.dim if self.ml_encoder else 0, bridge=self.bridge
        )
        self.index = GraduateIndex(self.phrases, calibration, multilingual=self.multilingual)
        self.seen = -1
        self._sync_lock = threading.Lock()
        register_forgetter(lexical)

    @property
    def model(self) -> str:
        return self.encoder.name

    def ensure_phrases(self, session: Session, texts: list[str]) -> np.ndarray:
        """Store ids of ``texts``, embedding (or reading from the cache) the phrases not held yet."""
        ids, missing = self.phrases.lookup(texts)
        if missing:
            self.phrases.add(
                missing, embed_texts(session, self.encoder, missing), self.ml_vectors(session, missing)
            )
            todo = np.flatnonzero(ids < 0)
            ids[todo] = self.phrases.ids([texts[i] for i in todo])
        return ids

    def ml_vectors(self, session: Session, texts: list[str], *, store: bool = True) -> np.ndarray | None:
        """Multilingual vectors of ``texts`` through the phrase cache, or None when the channel is off."""
        if self.ml_encoder is None:
            return None
        return embed_texts(session, self.ml_encoder, texts, store=store)

    def ml_for(
        self, session: Session, demand: scoring.DemandSkills, texts: list[str], *, store: bool = True
    ) -> np.ndarray | None:
        """The multilingual vectors :func:`scoring.cross_lingual` reads for ``demand`` against ``texts``
        (:func:`scoring.ml_needed`), or None when the channel is off."""
        encoder = self.ml_encoder
        if encoder is None:
            return None
        return scoring.ml_needed(
            lambda part: embed_texts(session, encoder, part, store=store), encoder.dim, demand.trust, texts
        )

    def sync(self, session: Session) -> None:
        """Bring the graduate index up to the database's ``graduate`` change counter."""
        current = changes.current(session, changes.GRADUATE)
        if current == self.seen:
            return
        with self._sync_lock:
            if current == self.seen:
                return
            first = self.seen < 0
            if first:
                self._load_all(session)
                self.phrases.shrink()
                release_memory()
            else:
                rows = list(repo.graduates_changed_since(session, self.seen))
                removed = repo.tombstones_since(session, self.seen)
                self.ensure_phrases(
                    session, [n for _, _, skills, _ in rows for n in _names_levels(skills)[0]]
                )
                for gid, school, skills, placed in rows:
                    if placed:
                        self.index.remove(gid)
                        continue
                    names, lv = _names_levels(skills)
                    self.index.upsert(gid, self.phrases.ids(names), lv, payload=school)
                for gid in removed:
                    self.index.remove(gid)
                if removed:
                    self.drop_orphan_phrases()
            self.seen = current

    def drop_orphan_phrases(self) -> int:
        """After an erasure: drop from the phrase store every phrase no live graduate holds (the erased
        graduates', and those of placed ones, which a later use embeds again from the database cache),
        and tell the process's other phrase memories to forget them. Returns how many."""
        dropped = self.phrases.drop(self.index.orphans())
        forget_phrases(set(dropped))
        return len(dropped)

    def weights(self, session: Session, demand: scoring.DemandSkills) -> np.ndarray:
        """Effective weights of the demanded skills: importance x specificity among all graduates
        (:meth:`GraduateIndex.specificity_for`), the same in every kind of match."""
        self.sync(session)
        return demand.weights * self.index.specificity_for(demand)

    def _load_all(self, session: Session, chunk: int = 5000) -> None:
        """First sync of the process: every live graduate, read and indexed in chunks (a bounded
        amount of Python objects at a time), then one rebuild of the index."""
        keys: list[str] = []
        payloads: list[str] = []
        ids: list[np.ndarray] = []
        levels: list[np.ndarray] = []
        lengths: list[int] = []
        batch: list[tuple[str, str, list[Any], bool]] = []

        schools: dict[str, str] = {}  # one string object per school, not one per graduate

        def flush() -> None:
            live = [
                (gid, school, _names_levels(skills)) for gid, school, skills, placed in batch if not placed
            ]
            chunk_ids = self.ensure_phrases(session, [n for _, _, (names, _) in live for n in names])
            start = 0
            for gid, school, (names, lv) in live:
                keys.append(gid)
                payloads.append(schools.setdefault(school, school))
                ids.append(chunk_ids[start : start + len(names)].astype(np.int32))
                levels.append(scoring.encode_levels(lv))
                lengths.append(len(names))
                start += len(names)
            batch.clear()

        for row in repo.graduates_changed_since(session, -1):
            batch.append(row)
            if len(batch) >= chunk:
                flush()
        flush()
        indptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        self.index.load(
            keys,
            indptr,
            np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32),
            np.concatenate(levels) if levels else np.zeros(0, dtype=np.int8),
            payloads,
        )

    def demand_skills(self, session: Session, skills: list[Any]) -> scoring.DemandSkills:
        names = [str(s["name"]) for s in skills]
        vecs = embed_texts(session, self.encoder, names)
        return scoring.DemandSkills.build(
            names,
            vecs,
            self.lexical,
            weights=[float(s.get("importance") or 3) for s in skills],
            required=[bool(s.get("required")) for s in skills],
            levels=[s.get("level") for s in skills],
            ml=self.ml_vectors(session, names),
        )


_engine_lock = threading.Lock()


def engine_for(app_state: State) -> MatchingEngine:
    """The process's engine, built on first use from the encoder loaded at start-up."""
    engine: MatchingEngine | None = getattr(app_state, "matching", None)
    if engine is not None:
        return engine
    encoder = getattr(app_state, "encoder", None)
    if encoder is None:
        raise EncoderUnavailable("The encoder is not loaded; matching is unavailable.")
    with _engine_lock:
        engine = getattr(app_state, "matching", None)
        if engine is None:
            engine = MatchingEngine(
                encoder,
                load_calibration(encoder.name),
                default_model(),
                ml_encoder=companion(encoder),
            )
            app_state.matching = engine
    return engine


def sync_after_erasure(app_state: State) -> None:
    """Bring a loaded graduate index up to date now (after an erasure commits), so the erased
    graduates' phrases leave this process's memory at once rather than at the next match."""
    engine: MatchingEngine | None = getattr(app_state, "matching", None)
    if engine is None or engine.seen < 0:
        return  # nothing loaded: the first sync reads only live graduates
    try:
        with app_state.read_sessions() as session:
            engine.sync(session)
    except Exception:  # the next request's sync does the same
        log.exception("syncing the graduate index after an erasure failed")


class WarmUp:
    """Loads the graduate index in a background thread at start-up, so that the first match request
    does not pay for it (100,000 graduates: tens of seconds). ``status`` is ``loading``, ``ok`` or
    ``failed``; readiness reports it, and a request that comes earlier waits for the same load."""

    def __init__(self, app_state: State) -> None:
        self.status = "loading"
        self._app_state = app_state
        self._thread = threading.Thread(target=self._run, name="graduate-index-warm-up", daemon=True)

    def start(self) -> WarmUp:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            engine = engine_for(self._app_state)
            with self._app_state.read_sessions() as session:
                engine.sync(session)
            self.status = "ok"
            log.info("graduate index loaded: %d graduates", len(engine.index))
        except Exception:
            self.status = "failed"
            log.exception("loading the graduate index at start-up failed; the first match will retry")


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

    def entries(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.idx[a:b], self.levels[a:b]


def _score_set(
    session: Session,
    engine: MatchingEngine,
    demand: scoring.DemandSkills,
    cands: CandidateSet,
    *,
    store: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(scores per candidate, effective weights (k,), sim (k, P), cov (k, P))."""
    vecs = embed_texts(session, engine.encoder, cands.phrase_texts, store=store)
    # A stateless list (store=False) is often sent again: its phrases' lexical rows are kept in memory
    # like their vectors.
    phrase_lex = None if store else engine.lexical.transform_recent(cands.phrase_texts)
    sim = scoring.combined_similarity(
        demand.names,
        demand.vecs,
        cands.phrase_texts,
        vecs,
        calibration=engine.calibration,
        lexical=engine.lexical,
        multilingual=engine.multilingual,
        demand_lex=demand.lex,
        phrase_lex=phrase_lex,
        bridge=engine.bridge,
        demand_ml=demand.ml,
        phrase_ml=engine.ml_for(session, demand, cands.phrase_texts, store=store),
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
    result = engine.index.rank(skills, top_k, min_score)
    check_deadline()
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
    own = repo.graduate_skill_lists(session, [str(key) for key in result.keys])
    for i, key in enumerate(result.keys):
        evidence, missing = engine.index.explain(result, skills, i)
        _own_spelling(evidence, own.get(str(key), []))
        run.results.append(
            MatchResult(
                rank=i + 1,
                graduate_id=str(key),
                school_id=str(payloads[i]),
                score=_round(result.scores[i]),
                skills=evidence,
                missing_required=missing,
            )
        )
    repo.replace_run(session, run)
    return run


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
    names, levels = _names_levels(list(graduate.skills or []))
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
    cands = CandidateSet.build(
        [[(s["name"], s.get("level")) for s in c.get("skills") or []] for c in candidates]
    )
    scores, weights, sim, cov = _score_set(session, engine, skills, cands, store=False)
    check_deadline()
    idx, top = scoring.top_k(scores, top_k, min_score)
    matches = []
    for i, score in zip(idx, top, strict=True):
        evidence, missing = _explain(engine, skills, cands, weights, sim, cov, int(i))
        matches.append(
            {
                "id": candidates[int(i)]["id"],
                "score": _round(score),
                "skills": evidence,
                "missing_required": missing,
            }
        )
    return {"model": engine.model, "matches": matches}
