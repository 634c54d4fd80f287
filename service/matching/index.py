"""In-memory graduate index: all graduates' phrases in a layout that ranks 100,000 of them in milliseconds.

Pure (no SQL): the service feeds it phrase vectors from the embedding cache and graduates from the
database, and keeps it in step with writes (:meth:`GraduateIndex.upsert`, :meth:`GraduateIndex.remove`).

Layout and cost:

- :class:`PhraseStore` (:mod:`service.matching.phrase_store`): each distinct phrase once: a (P, dim)
  float32 matrix, its lexical rows kept transposed (features x P, CSR) for one sparse product per
  query, and its latin share. Memory grows with distinct phrases (about 1.6 KB each at 384 dims), not
  with graduates.
- :class:`GraduateIndex`: graduates live in *slots*. The *base* segment holds a CSR (slot -> phrase ids,
  levels) and its inverse, posting lists (phrase -> slots, levels); newer slots sit in a small *delta*
  segment; a changed graduate gets a new slot and its old one is marked dead. When the delta grows past
  ``max(5,000 entries, 5 % of the base)`` or a quarter of the base is dead, the base is rebuilt from the
  live slots (one argsort of the entries), so a write costs O(its phrases) and the rebuild is amortised.

A query (:meth:`GraduateIndex.rank`): the (k, P) coverage matrix is computed once (a dense product with
the demand vectors plus a sparse lexical product); only its non-zero cells (coverage over the floor)
are expanded through the posting lists and folded into a (slots, k) best-evidence matrix with
``np.maximum.at``; the delta segment goes through :func:`scoring.best_evidence`. The cost grows with the
number of (phrase, graduate) entries that carry real evidence for the demand, not with all entries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np

from service.matching import scoring
from service.matching.calibration import Calibration
from service.matching.phrase_store import PhraseStore
from service.text import normalize_phrase


@dataclass
class RankResult:
    """Top candidates of one query, with what :meth:`GraduateIndex.explain` needs."""

    keys: list[Hashable]
    scores: np.ndarray
    slots: np.ndarray
    sim: np.ndarray  # (k, P)
    cov: np.ndarray  # (k, P)
    weights: np.ndarray  # (k,) importance x specificity


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads(n: int) -> AbstractContextManager[Any]:
    """Run numpy's BLAS on ``n`` threads for the duration (torch's own thread pool is not touched)."""
    return cast(AbstractContextManager[Any], _blas_controller().limit(limits=max(1, n), user_api="blas"))


def default_query_threads() -> int:
    """BLAS threads for a query's one large product: every core, up to 4 (the product streams the
    phrase matrix once; beyond 4 threads memory bandwidth, not arithmetic, bounds it)."""
    return max(1, min(4, os.cpu_count() or 1))


_EMPTY_I32 = np.zeros(0, dtype=np.int32)
_EMPTY_I8 = np.zeros(0, dtype=np.int8)


class GraduateIndex:
    """All graduates' phrase ids and levels, ranked for a demand without a loop over graduates.

    ``PRUNE_COVERAGES``: evidence under such a coverage is read, in :meth:`rank`'s first pass, only for
    graduates that could still make the top (it holds most of the posting entries: popular phrases that
    are only loosely related to a demanded skill); the answer is exact either way.

    Keys are graduate ids (any hashable); ``payload`` carries what the caller wants back (e.g. the
    school id). Thread-safe: writes and queries take one lock; a query holds it for its duration.
    Since queries run one at a time, a query's BLAS work (mostly one large product: demanded skills x
    all phrases) runs on ``query_threads`` threads (default :func:`default_query_threads`).
    """

    PRUNE_COVERAGES = (0.3, 0.15)
    PRUNE_MIN_CANDIDATES = 4096

    def __init__(
        self,
        phrases: PhraseStore,
        calibration: Calibration,
        multilingual: bool = False,
        query_threads: int | None = None,
    ) -> None:
        self.phrases = phrases
        self.calibration = calibration
        self.multilingual = multilingual
        self.query_threads = query_threads or default_query_threads()
        self._lock = threading.RLock()
        self.rebuilds = 0
        self.generation = 0  # bumped by every write; keys the specificity cache
        self._held_cache: dict[tuple[str, object], tuple[int, float]] = {}
        self._reset()

    def _reset(self) -> None:
        self._slot_of: dict[Hashable, int] = {}
        self._keys: list[Hashable | None] = []
        self._payload: list[Any] = []
        self._alive = np.zeros(0, dtype=bool)
        # base segment
        self._n_base = 0
        self._indptr = np.zeros(1, dtype=np.int64)
        self._phrase = _EMPTY_I32
        self._level = _EMPTY_I8
        self._post_indptr = np.zeros(1, dtype=np.int64)
        self._post_slot = _EMPTY_I32
        self._post_level = _EMPTY_I8
        self._dead_base = 0
        # delta segment: slot n_base + i
        self._delta_phrase: list[np.ndarray] = []
        self._delta_level: list[np.ndarray] = []
        self._delta_entries = 0
        # live graduates' entries per phrase id (for the specificity of a demanded skill)
        self._holders = np.zeros(len(self.phrases), dtype=np.float32)

    # --- writes --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slot_of

    def upsert(
        self,
        key: Hashable,
        phrase_ids: Sequence[int] | np.ndarray,
        levels: Sequence[int | None] | np.ndarray | None = None,
        payload: Any = None,
    ) -> None:
        """Add a graduate or replace its phrases (ids from :attr:`phrases`; levels 1..5 or 0/None)."""
        ids = np.asarray(phrase_ids, dtype=np.int32)
        if levels is None:
            lv = np.zeros(len(ids), dtype=np.int8)
        elif isinstance(levels, np.ndarray):
            lv = levels.astype(np.int8)
        else:
            lv = scoring.encode_levels(levels)
        if len(lv) != len(ids):
            raise ValueError("phrase_ids and levels differ in length")
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self.phrases)):
            raise ValueError("unknown phrase id")
        with self._lock:
            self.generation += 1
            self._kill(key)
            slot = len(self._keys)
            self._keys.append(key)
            self._payload.append(payload)
            self._slot_of[key] = slot
            if slot >= len(self._alive):
                grown = np.zeros(max(1024, 2 * len(self._alive)), dtype=bool)
                grown[: len(self._alive)] = self._alive
                self._alive = grown
            self._alive[slot] = True
            self._count_holders(ids, +1)
            self._delta_phrase.append(ids)
            self._delta_level.append(lv)
            self._delta_entries += len(ids)
            self._maybe_compact()

    def load(
        self,
        keys: Sequence[Hashable],
        indptr: np.ndarray,
        phrase_ids: np.ndarray,
        levels: np.ndarray | None = None,
        payloads: Sequence[Any] | None = None,
    ) -> None:
        """Replace the whole content in one go (start-up): graduate ``keys[i]`` owns
        ``phrase_ids[indptr[i]:indptr[i+1]]``. One rebuild instead of one write per graduate."""
        indptr = np.asarray(indptr, dtype=np.int64)
        ids = np.asarray(phrase_ids, dtype=np.int32)
        lv = np.zeros(len(ids), dtype=np.int8) if levels is None else np.asarray(levels, dtype=np.int8)
        if len(indptr) != len(keys) + 1 or indptr[-1] != len(ids) or len(lv) != len(ids):
            raise ValueError("inconsistent CSR layout")
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate keys")
        if len(ids) and (ids.min() < 0 or ids.max() >= len(self.phrases)):
            raise ValueError("unknown phrase id")
        with self._lock:
            self.generation += 1
            self._reset()
            self._keys = list(keys)
            self._payload = list(payloads) if payloads is not None else [None] * len(keys)
            self._slot_of = {k: i for i, k in enumerate(self._keys)}
            self._alive = np.ones(max(1024, len(keys)), dtype=bool)
            self._alive[len(keys) :] = False
            self._n_base = len(keys)
            self._indptr, self._phrase, self._level = indptr, ids, lv
            self.compact()

    def orphans(self, ids: np.ndarray | None = None) -> np.ndarray:
        """Phrase ids (of ``ids``, or of the whole store) that no live graduate holds."""
        with self._lock:
            self._count_holders(np.zeros(0, dtype=np.int32), 0)
            held = self._holders[: len(self.phrases)]
            candidates = np.arange(len(held)) if ids is None else np.unique(np.asarray(ids, dtype=np.int64))
            return candidates[held[candidates] <= 0.5]

    def remove(self, key: Hashable) -> bool:
        """Forget a graduate; returns whether it was there."""
        with self._lock:
            self.generation += 1
            found = self._kill(key)
            self._maybe_compact()
            return found

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._reset()

    def _count_holders(self, ids: np.ndarray, delta: int) -> None:
        if len(self._holders) < len(self.phrases):
            grown = np.zeros(max(len(self.phrases), 2 * len(self._holders)), dtype=np.float32)
            grown[: len(self._holders)] = self._holders
            self._holders = grown
        if len(ids):
            np.add.at(self._holders, ids, np.float32(delta))

    def _kill(self, key: Hashable) -> bool:
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return False
        self._count_holders(self._slot_entries(slot)[0], -1)
        self._alive[slot] = False
        self._keys[slot] = None
        self._payload[slot] = None
        if slot < self._n_base:
            self._dead_base += 1
        return True

    def _maybe_compact(self) -> None:
        base_entries = len(self._phrase)
        if self._delta_entries > max(5000, base_entries // 20) or (
            self._n_base and self._dead_base > self._n_base // 4
        ):
            self.compact()

    def compact(self) -> None:
        """Rebuild the base segment from the live slots (renumbering them) and empty the delta."""
        with self._lock:
            n_slots = len(self._keys)
            base_lengths = np.diff(self._indptr)
            delta_lengths = np.asarray([len(a) for a in self._delta_phrase], dtype=np.int64)
            lengths = np.concatenate([base_lengths, delta_lengths])
            phrase = np.concatenate([self._phrase, *self._delta_phrase]) if n_slots else _EMPTY_I32
            level = np.concatenate([self._level, *self._delta_level]) if n_slots else _EMPTY_I8
            alive = self._alive[:n_slots]
            entry_alive = np.repeat(alive, lengths)
            phrase = phrase[entry_alive].astype(np.int32)
            level = level[entry_alive].astype(np.int8)
            live_slots = np.flatnonzero(alive)
            new_lengths = lengths[live_slots]
            self._indptr = np.zeros(len(live_slots) + 1, dtype=np.int64)
            np.cumsum(new_lengths, out=self._indptr[1:])
            self._phrase, self._level = phrase, level
            self._keys = [self._keys[s] for s in live_slots]
            self._payload = [self._payload[s] for s in live_slots]
            self._slot_of = {k: i for i, k in enumerate(self._keys)}
            self._n_base = len(live_slots)
            self._alive = np.ones(max(1024, self._n_base), dtype=bool)
            self._alive[self._n_base :] = False
            self._dead_base = 0
            self._delta_phrase, self._delta_level, self._delta_entries = [], [], 0
            # posting lists: entries sorted by phrase
            slot_of_entry = np.repeat(np.arange(self._n_base, dtype=np.int32), new_lengths)
            order = np.argsort(phrase, kind="stable")
            self._post_slot = slot_of_entry[order]
            self._post_level = level[order]
            counts = (
                np.bincount(phrase, minlength=len(self.phrases))
                if len(phrase)
                else np.zeros(len(self.phrases), dtype=np.int64)
            )
            self._post_indptr = np.zeros(len(self.phrases) + 1, dtype=np.int64)
            np.cumsum(counts, out=self._post_indptr[1 : len(counts) + 1])
            self._holders = np.zeros(max(len(self.phrases), 1024), dtype=np.float32)
            self._holders[: len(counts)] = counts
            self.rebuilds += 1

    # --- reads ---------------------------------------------------------------------------------

    def entries(self, key: Hashable) -> tuple[np.ndarray, np.ndarray]:
        """Phrase ids and levels of one graduate."""
        with self._lock:
            return self._slot_entries(self._slot_of[key])

    def payload(self, key: Hashable) -> Any:
        return self._payload[self._slot_of[key]]

    def _slot_entries(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        if slot < self._n_base:
            a, b = self._indptr[slot], self._indptr[slot + 1]
            return self._phrase[a:b], self._level[a:b]
        i = slot - self._n_base
        return self._delta_phrase[i], self._delta_level[i]

    def best_evidence(
        self, cov: np.ndarray, demand: scoring.DemandSkills, thresholds: np.ndarray | None = None
    ) -> np.ndarray:
        """(slots, k) best level-capped coverage of every slot (dead slots included; callers mask).

        The result is a transposed view of a (k, slots) array: each skill's row is filled by one
        ``np.maximum.at`` over the posting lists of the phrases that carry evidence for it. With
        ``thresholds`` (k,), only phrases whose coverage reaches skill j's threshold count in the base
        segment (a lower bound; :meth:`rank` uses it to skip weak evidence of hopeless graduates).
        """
        k = demand.k
        n_slots = len(self._keys)
        best = np.zeros((k, n_slots), dtype=np.float32)
        if k == 0 or n_slots == 0:
            return best.T
        caps = scoring.level_caps(self.calibration)
        if self._n_base:
            post_indptr = self._post_indptr
            n_ph = len(post_indptr) - 1
            for j in range(k):
                row = cov[j, :n_ph]
                cols = np.flatnonzero(row) if thresholds is None else np.flatnonzero(row >= thresholds[j])
                if cols.size == 0:
                    continue
                starts = post_indptr[cols]
                lens = post_indptr[cols + 1] - starts
                total = int(lens.sum())
                if total == 0:
                    continue
                ends = np.cumsum(lens)
                pos = np.repeat(starts - (ends - lens), lens)
                pos += np.arange(total, dtype=np.int64)
                vals = np.repeat(row[cols], lens)
                if demand.levels[j] > 0:
                    np.minimum(vals, caps[int(demand.levels[j])][self._post_level[pos]], out=vals)
                np.maximum.at(best[j], self._post_slot[pos], vals)
        if self._delta_phrase:
            lengths = np.asarray([len(a) for a in self._delta_phrase], dtype=np.int64)
            indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
            np.cumsum(lengths, out=indptr[1:])
            best[:, self._n_base :] = scoring.best_evidence(
                cov,
                demand.levels,
                indptr,
                np.concatenate(self._delta_phrase),
                np.concatenate(self._delta_level),
                self.calibration,
            ).T
        return best.T

    def specificity(self, cov: np.ndarray, held: np.ndarray | None = None) -> np.ndarray:
        """(k,) weight factor of each demanded skill: ``ln((1 + N) / (1 + n)) + 1``.

        ``N`` is the number of graduates; ``n`` estimates how many hold evidence that meets the skill
        (the entries of the phrases whose coverage is at least ``met``; :meth:`best_evidence` counts them
        on the way, pass its ``held``). A skill every graduate has weighs 1, a rare one up to
        ``ln(1 + N) + 1``: like a word's IDF, it makes the scarce skills of a demand decide the order,
        and keeps a profile of only commonplace skills from a comfortable score. An empty index gives 1
        for every skill.
        """
        n_total = len(self._slot_of)
        if held is None:
            held = self._held(cov)
        held = np.minimum(held, n_total)
        return (np.log((1.0 + n_total) / (1.0 + held)) + 1.0).astype(np.float32)

    def specificity_for(self, demand: scoring.DemandSkills) -> np.ndarray:
        """:meth:`specificity` of ``demand``'s skills without ranking the graduates (for programmes,
        stateless candidate lists, one graduate against many demands), so that a skill weighs the same
        in every kind of match. Counts are cached per skill text until the next write to the index.
        """
        with self._lock:
            held = np.zeros(demand.k, dtype=np.float32)
            todo: list[int] = []
            taxonomy = None if demand.synonyms is None else demand.synonyms.key
            keys = [(normalize_phrase(name), taxonomy) for name in demand.names]
            for j, key in enumerate(keys):
                cached = self._held_cache.get(key)
                if cached is not None and cached[0] == self.generation:
                    held[j] = cached[1]
                else:
                    todo.append(j)
            if todo and len(self._slot_of):
                with blas_threads(self.query_threads):
                    sim = self.phrases.similarity(demand.subset(todo), self.calibration, self.multilingual)
                cov = self.calibration.coverage(sim)
                counts = self._held(cov)
                if len(self._held_cache) > 50_000:
                    self._held_cache.clear()
                for j, count in zip(todo, counts.tolist(), strict=True):
                    held[j] = count
                    self._held_cache[keys[j]] = (self.generation, count)
            return self.specificity(np.zeros((demand.k, 0), dtype=np.float32), held=held)

    def _held(self, cov: np.ndarray) -> np.ndarray:
        p = min(cov.shape[1], len(self._holders))
        met = np.float32(self.calibration.met)
        return np.asarray(
            [float(self._holders[:p][cov[j, :p] >= met].sum()) for j in range(cov.shape[0])], dtype=np.float32
        )

    def score_all(
        self, demand: scoring.DemandSkills
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(scores per slot, dead slots -1; effective weights (k,); similarity (k, P); coverage (k, P)).

        Effective weight of a skill = importance x :meth:`specificity`."""
        with self._lock, blas_threads(self.query_threads):
            sim = self.phrases.similarity(demand, self.calibration, self.multilingual)
            cov = self.calibration.coverage(sim)
            weights = demand.weights * self.specificity(cov)
            best = self.best_evidence(cov, demand)
            scores = scoring.aggregate(best, weights, demand.required, self.calibration)
            scores[~self._alive[: len(self._keys)]] = -1.0
            return scores, weights, sim, cov

    def scores_of(self, demand: scoring.DemandSkills, keys: Sequence[Hashable]) -> np.ndarray:
        """Scores of the given graduates (for checks and benchmarks)."""
        with self._lock:
            scores = self.score_all(demand)[0]
            return scores[[self._slot_of[key] for key in keys]]

    def rank(self, demand: scoring.DemandSkills, top_k: int, min_score: float | None = None) -> RankResult:
        """The ``top_k`` graduates for ``demand``, best first (ties by slot order); exact scores.

        Two passes, so that the weak evidence of popular phrases (most of the posting entries) is only
        read for graduates that could still make the top: the first counts, in the base segment, only
        evidence of coverage >= ``tau`` (``PRUNE_COVERAGES``, tried in turn), which bounds every
        graduate's score from below and above; graduates whose upper bound is under the ``top_k``-th
        lower bound cannot be in the answer; the rest are scored exactly from their own phrases. When
        even the last ``tau`` leaves too many candidates, every graduate is scored in full.
        """
        with self._lock, blas_threads(self.query_threads):
            sim = self.phrases.similarity(demand, self.calibration, self.multilingual)
            cov = self.calibration.coverage(sim)
            weights = demand.weights * self.specificity(cov)
            alive = self._alive[: len(self._keys)]
            scores = None
            if self._n_base > 4 * max(top_k, 1) and demand.k > 0:
                for tau in self.PRUNE_COVERAGES:
                    if tau > self.calibration.floor:
                        scores = self._pruned_scores(cov, demand, weights, top_k, np.float32(tau), alive)
                    if scores is not None:
                        break
            if scores is None:
                best = self.best_evidence(cov, demand)
                scores = scoring.aggregate(best, weights, demand.required, self.calibration)
                scores[~alive] = -1.0
            idx, top = scoring.top_k(scores, top_k, min_score)
            keep = top >= 0
            idx, top = idx[keep], top[keep]
            return RankResult([self._keys[i] for i in idx], top, idx, sim, cov, weights)

    def _pruned_scores(
        self,
        cov: np.ndarray,
        demand: scoring.DemandSkills,
        weights: np.ndarray,
        top_k: int,
        tau: np.float32,
        alive: np.ndarray,
    ) -> np.ndarray | None:
        """Exact scores of the graduates that may make the ``top_k`` (the others -1), or None when more
        than a fifth of them (and more than ``PRUNE_MIN_CANDIDATES``) may: then scoring everyone costs
        less."""
        n_slots = len(alive)
        best = self.best_evidence(cov, demand, np.full(demand.k, tau, dtype=np.float32))
        # lower bound: the strong evidence alone, a required skill without it counted missing;
        # upper bound: a skill without strong evidence gets at most tau (its weak evidence is under
        # tau), which saves a required skill from the penalty only where tau reaches partial
        lower = scoring.aggregate(best, weights, demand.required, self.calibration)
        upper = scoring.aggregate(np.maximum(best, tau), weights, demand.required, self.calibration)
        upper[self._n_base :] = lower[self._n_base :]  # the delta segment is exact
        lower[~alive] = -1.0
        kth = np.partition(lower, -top_k)[-top_k] if n_slots > top_k else -1.0
        candidates = np.flatnonzero(alive & (upper >= kth))
        if len(candidates) > max(self.PRUNE_MIN_CANDIDATES, n_slots // 5):
            return None
        exact = candidates[candidates < self._n_base]
        scores = np.full(n_slots, -1.0, dtype=np.float32)
        scores[candidates] = lower[candidates]
        if len(exact):
            indptr, phrase, level = self._gather(exact)
            sub = scoring.best_evidence(cov, demand.levels, indptr, phrase, level, self.calibration)
            scores[exact] = scoring.aggregate(sub, weights, demand.required, self.calibration)
        return scores

    def _gather(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (indptr, phrase ids, levels) of the given base-segment slots."""
        starts = self._indptr[slots]
        lens = self._indptr[slots + 1] - starts
        indptr = np.zeros(len(slots) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        total = int(indptr[-1])
        pos = np.repeat(starts - indptr[:-1], lens) + np.arange(total, dtype=np.int64)
        return indptr, self._phrase[pos], self._level[pos]

    def explain(
        self, result: RankResult, demand: scoring.DemandSkills, i: int
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """SkillEvidence of the ``i``-th result."""
        with self._lock:
            phrase_idx, levels = self._slot_entries(int(result.slots[i]))
        return scoring.explain(
            demand.names,
            result.sim,
            result.cov,
            self.phrases.texts,
            phrase_idx,
            levels,
            demand.levels,
            demand.required,
            self.calibration,
            weights=result.weights,
            synonyms=demand.synonyms,
        )

    def nbytes(self) -> int:
        arrays = (
            self._indptr,
            self._phrase,
            self._level,
            self._post_indptr,
            self._post_slot,
            self._post_level,
            self._alive,
        )
        return int(sum(a.nbytes for a in arrays) + self._delta_entries * 5)
