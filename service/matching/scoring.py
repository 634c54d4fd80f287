"""Skill-by-skill scoring: pure numpy functions, no SQL and no HTTP.

A demand is a list of ``k`` skills (text, importance weight, optional level 1..5, required flag); the
other side (a graduate, a programme) is a set of phrases, each with an optional level. The pipeline:

1. :func:`combined_similarity` -> ``(k, P)`` fused similarity of every demanded skill with every
   phrase: ``max(cosine, lexical ** (1 / gamma))`` (gamma is 1 for the bundled encoder), where
   ``lexical`` is the TF-IDF channel of :mod:`service.matching.lexical`. When the encoder is
   English-only, the cosine is trusted only as far as both texts are non-CJK (``trust = min(latin
   share)``; the rest of the weight goes to the lexical channel), because the English encoder finds
   any two Chinese strings alike.
2. :func:`coverage` -> ``(k, P)`` calibrated probability that the phrase really covers the skill,
   ``sigmoid(a * sim + b)`` fitted on O*NET (``models/calibration.json``); values under
   ``calibration.floor`` are set to 0 ("no evidence"), which also lets ranking skip them.
3. :func:`rank` -> for every candidate and demanded skill, the best evidence among its phrases
   (a segmented max over a CSR layout); a phrase whose level is below the requested one is capped into
   the partial band (:func:`level_caps`); the score is the weighted mean of the best coverages,
   multiplied by ``calibration.required_missing_factor`` for every required skill left missing. The
   weights are the importance; the graduate index multiplies them by each skill's specificity (how
   rare it is among all graduates, :meth:`GraduateIndex.specificity`). An empty profile scores 0, an
   unrelated one a few per cent.
4. :func:`explain` -> the ``SkillEvidence`` of one candidate: per demanded skill the matched phrase,
   its similarity and coverage, and the status ``met`` (coverage >= ``met``), ``partial``
   (>= ``partial``) or ``missing``; plus the names of missing required skills.

:class:`service.matching.index.GraduateIndex` runs the same arithmetic over 100,000 graduates through
an inverted layout; :func:`rank` is the plain CSR version for small candidate sets (``POST /v1/match``,
programmes) and the reference the index is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import scipy.sparse as sp

from service.matching.calibration import Bridge, Calibration, boost_lexical
from service.matching.crosslingual import cross_lingual
from service.matching.lexical import LexicalModel, latin_share, similarity
from service.matching.synonyms import Synonyms
from service.text import normalize_phrase

MAX_LEVEL = 5


@dataclass(frozen=True)
class DemandSkills:
    """The demanded skills of one query, prepared once (vectors, lexical rows, weights)."""

    names: list[str]
    vecs: np.ndarray  # (k, dim) float32, unit rows
    lex: sp.csr_matrix  # (k, N_FEATURES)
    trust: np.ndarray  # (k,) latin share
    weights: np.ndarray  # (k,) float32, importance
    required: np.ndarray  # (k,) bool
    levels: np.ndarray  # (k,) int8, 0 = any level
    ml: np.ndarray | None = None  # (k, ml_dim) unit rows of the multilingual encoder, when it is on
    synonyms: Synonyms | None = None  # the imported taxonomy's labels, when one is imported

    @property
    def k(self) -> int:
        return len(self.names)

    def subset(self, rows: Sequence[int]) -> DemandSkills:
        """The demanded skills at ``rows`` (in that order)."""
        idx = np.asarray(rows, dtype=np.int64)
        return DemandSkills(
            names=[self.names[i] for i in idx],
            vecs=self.vecs[idx],
            lex=sp.csr_matrix(self.lex[idx]),
            trust=self.trust[idx],
            weights=self.weights[idx],
            required=self.required[idx],
            levels=self.levels[idx],
            ml=None if self.ml is None else self.ml[idx],
            synonyms=self.synonyms,
        )

    @classmethod
    def build(
        cls,
        names: Sequence[str],
        vecs: np.ndarray,
        lexical: LexicalModel,
        weights: Sequence[float] | None = None,
        required: Sequence[bool] | None = None,
        levels: Sequence[int | None] | None = None,
        ml: np.ndarray | None = None,
        synonyms: Synonyms | None = None,
    ) -> DemandSkills:
        k = len(names)
        return cls(
            names=list(names),
            vecs=np.ascontiguousarray(vecs, dtype=np.float32).reshape(k, -1),
            lex=lexical.transform(list(names)),
            trust=latin_share(names),
            weights=np.asarray(weights if weights is not None else [3.0] * k, dtype=np.float32),
            required=np.asarray(required if required is not None else [False] * k, dtype=bool),
            levels=encode_levels(levels if levels is not None else [None] * k),
            ml=None if ml is None else np.ascontiguousarray(ml, dtype=np.float32).reshape(k, -1),
            synonyms=synonyms,
        )


def encode_levels(levels: Sequence[int | None]) -> np.ndarray:
    """Levels as int8 with 0 for "not stated"; values are clipped to 1..5."""
    return np.asarray([0 if lv is None else min(max(int(lv), 1), MAX_LEVEL) for lv in levels], dtype=np.int8)


def fuse(
    cos: np.ndarray,
    lex: np.ndarray,
    gamma: float,
    trust_rows: np.ndarray | None = None,
    trust_cols: np.ndarray | None = None,
) -> np.ndarray:
    """``trust * max(cos, lex') + (1 - trust) * lex'`` with ``lex' = lex ** (1 / gamma)``, clipped to
    [0, 1], in place on ``cos``.

    ``gamma > 1`` lifts the lexical channel without saturating it (an exact match stays the only 1.0);
    ``trust`` is ``min(trust_rows[i], trust_cols[j])``; omit both for a multilingual encoder (trust 1).
    """
    glex = boost_lexical(lex, gamma)
    out = np.maximum(cos, glex, out=cos)
    if trust_rows is not None and trust_cols is not None:
        low_rows = trust_rows < 1.0
        low_cols = trust_cols < 1.0
        if low_rows.any() or low_cols.any():
            trust = np.minimum(trust_rows[:, None], trust_cols[None, :]).astype(np.float32)
            out -= glex
            out *= trust
            out += glex
    np.clip(out, 0.0, 1.0, out=out)
    return out


def combined_similarity(
    demand_texts: Sequence[str],
    demand_vecs: np.ndarray,
    phrase_texts: Sequence[str],
    phrase_vecs: np.ndarray,
    *,
    calibration: Calibration,
    lexical: LexicalModel,
    multilingual: bool = False,
    phrase_lex: sp.csr_matrix | None = None,
    demand_lex: sp.csr_matrix | None = None,
    bridge: Bridge | None = None,
    demand_ml: np.ndarray | None = None,
    phrase_ml: np.ndarray | None = None,
    synonyms: Synonyms | None = None,
) -> np.ndarray:
    """(k, P) float32 fused similarity of demanded skills and phrases (see the module docstring).

    Cost: one (k x dim) @ (dim x P) product and one sparse product; pass precomputed lexical rows
    (``phrase_lex``/``demand_lex``) to skip re-analysing the texts. With ``bridge`` and both sides'
    multilingual vectors (``demand_ml``/``phrase_ml``), pairs where either text holds CJK characters
    also get the multilingual channel (:func:`cross_lingual`); English-English pairs are untouched.
    With ``synonyms``, two labels of one taxonomy skill score 1.0 (:mod:`service.matching.synonyms`).
    """
    k, p = len(demand_texts), len(phrase_texts)
    if k == 0 or p == 0:
        return np.zeros((k, p), dtype=np.float32)
    cos = np.asarray(demand_vecs, dtype=np.float32) @ np.asarray(phrase_vecs, dtype=np.float32).T
    d_lex = demand_lex if demand_lex is not None else lexical.transform(list(demand_texts))
    p_lex = phrase_lex if phrase_lex is not None else lexical.transform(list(phrase_texts))
    lex = similarity(d_lex, p_lex)
    if multilingual:
        out = fuse(cos, lex, calibration.gamma)
    else:
        out = fuse(cos, lex, calibration.gamma, latin_share(demand_texts), latin_share(phrase_texts))
    if bridge is not None and demand_ml is not None and phrase_ml is not None:
        d_trust, p_trust = latin_share(demand_texts), latin_share(phrase_texts)
        out = cross_lingual(out, bridge, demand_ml, d_trust, phrase_ml, p_trust)
    return synonyms.lift(out, demand_texts, phrase_texts) if synonyms is not None else out


def coverage(sim: np.ndarray, calibration: Calibration) -> np.ndarray:
    """Calibrated coverage in [0, 1] of a similarity array (same shape); under the floor it is 0."""
    return calibration.coverage(sim)


def level_caps(calibration: Calibration) -> np.ndarray:
    """(6, 6) float32 table ``cap[demand_level, phrase_level]``: the most coverage a phrase may give.

    A level below the requested one counts as partial: the cap lies in the partial band, higher for a
    smaller shortfall (``partial + (met - partial) * phrase_level / demand_level``, kept just under
    ``met``). Level 0 ("not stated") on either side caps nothing.
    """
    caps = np.ones((MAX_LEVEL + 1, MAX_LEVEL + 1), dtype=np.float32)
    lo, hi = calibration.partial, calibration.met
    for want in range(1, MAX_LEVEL + 1):
        for have in range(1, want):
            caps[want, have] = min(lo + (hi - lo) * have / want, hi - 1e-3)
    return caps


def best_evidence(
    cov_kp: np.ndarray,
    demand_levels: np.ndarray,
    cand_indptr: np.ndarray,
    cand_phrase_idx: np.ndarray,
    cand_levels: np.ndarray,
    calibration: Calibration,
) -> np.ndarray:
    """(n, k) float32: per candidate and demanded skill, the best level-capped coverage (0 if none).

    Cost: k gathers of E entries and k segmented maxima (``np.maximum.reduceat``); no loop over
    candidates. Memory: O(E) per skill.
    """
    n = len(cand_indptr) - 1
    k = cov_kp.shape[0]
    best = np.zeros((n, k), dtype=np.float32)
    if n == 0 or k == 0 or len(cand_phrase_idx) == 0:
        return best
    caps = level_caps(calibration)
    starts = np.asarray(cand_indptr[:-1], dtype=np.int64)
    lengths = np.diff(cand_indptr)
    nonempty = lengths > 0
    ne_starts = starts[nonempty]
    cand_levels = np.asarray(cand_levels, dtype=np.intp)
    for j in range(k):
        vals = cov_kp[j, cand_phrase_idx]
        if demand_levels[j] > 0:
            np.minimum(vals, caps[demand_levels[j]][cand_levels], out=vals)
        best[nonempty, j] = np.maximum.reduceat(vals, ne_starts)
    return best


@overload
def aggregate(
    best: np.ndarray, weights: np.ndarray, required: np.ndarray, calibration: Calibration
) -> np.ndarray: ...


@overload
def aggregate(
    best: np.ndarray,
    weights: np.ndarray,
    required: np.ndarray,
    calibration: Calibration,
    with_penalty: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


def aggregate(
    best: np.ndarray,
    weights: np.ndarray,
    required: np.ndarray,
    calibration: Calibration,
    with_penalty: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """(n,) scores: weighted mean of ``best`` (n, k), times the missing-required penalty (and, with
    ``with_penalty``, that (n,) penalty factor too).

    Works on ``best.T`` (k, n): the graduate index hands over a transposed view of a C-ordered
    (k, n) array, so this is one matrix-vector product over contiguous rows.
    """
    n = best.shape[0]
    w = np.asarray(weights, dtype=np.float32)
    total = float(w.sum())
    penalty = np.ones(n, dtype=np.float32)
    if n == 0 or total <= 0:
        scores = np.zeros(n, dtype=np.float32)
        return (scores, penalty) if with_penalty else scores
    bt = best.T
    scores = np.asarray((w / np.float32(total)) @ bt, dtype=np.float32)
    req = np.flatnonzero(required)
    if req.size:
        missing = (bt[req] < np.float32(calibration.partial)).sum(axis=0)
        factors = np.float32(calibration.required_missing_factor) ** np.arange(req.size + 1, dtype=np.float32)
        penalty = factors[missing]
        scores *= penalty
    return (scores, penalty) if with_penalty else scores


def top_k(scores: np.ndarray, k: int, min_score: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the ``k`` best, by descending score then index. Cost O(n)."""
    n = scores.shape[0]
    if n == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    order = np.lexsort((part, -scores[part]))[:k]
    idx = part[order]
    out = scores[idx]
    if min_score is not None:
        keep = out >= min_score
        idx, out = idx[keep], out[keep]
    return idx.astype(np.int64), out


def rank(
    coverage_kp: np.ndarray,
    weights: np.ndarray,
    required: np.ndarray,
    demand_levels: np.ndarray,
    cand_indptr: np.ndarray,
    cand_phrase_idx: np.ndarray,
    cand_levels: np.ndarray,
    top_k_: int,
    calibration: Calibration,
    min_score: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best evidence per demanded skill for every candidate, weighted; returns (indices, scores).

    Candidates are a CSR layout: candidate ``i`` owns phrases ``cand_phrase_idx[cand_indptr[i]:
    cand_indptr[i+1]]`` (columns of ``coverage_kp``) with levels ``cand_levels`` (0 = not stated).
    Cost: the (k x P) coverage matrix is computed once by the caller; then k gathers and segmented
    maxima over the E entries. Memory grows with distinct phrases and entries, not with k x E.
    """
    best = best_evidence(coverage_kp, demand_levels, cand_indptr, cand_phrase_idx, cand_levels, calibration)
    scores = aggregate(best, weights, required, calibration)
    return top_k(scores, top_k_, min_score)


def explain(
    demand_names: Sequence[str],
    sim_kp: np.ndarray,
    coverage_kp: np.ndarray,
    phrase_texts: Sequence[str],
    phrase_idx: np.ndarray,
    phrase_levels: np.ndarray,
    demand_levels: np.ndarray,
    required: np.ndarray,
    calibration: Calibration,
    weights: np.ndarray | None = None,
    synonyms: Synonyms | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``SkillEvidence`` of one candidate and the names of its missing required skills.

    ``phrase_idx``/``phrase_levels`` are the candidate's phrases (columns of ``sim_kp``/``coverage_kp``),
    ``phrase_texts`` holds the text of every column. ``matched`` is null when the skill is missing.
    With ``weights`` (the effective weights of the ranking), each entry also says its ``weight``: its
    share of the score. With ``synonyms``, evidence that is another label of the demanded skill's
    taxonomy skill names it (``same_skill``: its id and preferred label).
    """
    shares = None
    if weights is not None and float(np.sum(weights)) > 0:
        shares = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))
    caps = level_caps(calibration)
    wanted = [normalize_phrase(name) for name in demand_names]
    evidence: list[dict[str, Any]] = []
    missing_required: list[str] = []
    idx = np.asarray(phrase_idx, dtype=np.int64)
    lv = np.asarray(phrase_levels, dtype=np.intp)
    own = [normalize_phrase(phrase_texts[int(p)]) for p in idx]
    if idx.size:  # all skills at once: (k, m) over the candidate's m phrases
        covs = np.minimum(coverage_kp[:, idx], caps[np.asarray(demand_levels, dtype=np.intp)][:, lv])
        sims = sim_kp[:, idx]
        # best by coverage; among equal coverage (e.g. all 0, or all saturated) the most similar
        # phrase, and among those the one written exactly like the demanded skill
        exact = np.asarray([[text == want for text in own] for want in wanted], dtype=bool)
        best_of = np.lexsort((~exact, -sims, -covs), axis=-1)[:, 0]
    for j, name in enumerate(demand_names):
        if idx.size:
            best = int(best_of[j])
            value, sim = float(covs[j, best]), float(sims[j, best])
            text: str | None = phrase_texts[int(idx[best])]
        else:
            value, sim, text = 0.0, 0.0, None
        status = calibration.status(value)
        if status == "missing":
            text = None
            if required[j]:
                missing_required.append(name)
        entry: dict[str, Any] = {
            "demand_skill": name,
            "matched": text,
            "similarity": round(sim, 4),
            "coverage": round(value, 4),
            "status": status,
        }
        if shares is not None:
            entry["weight"] = round(float(shares[j]), 4)
        same = synonyms.same_skill(name, text) if synonyms is not None and text is not None else None
        if same is not None:
            entry["same_skill"] = same
        evidence.append(entry)
    return evidence, missing_required
