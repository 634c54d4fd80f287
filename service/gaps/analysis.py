"""Curriculum gap analysis, the pure part: no SQL, no HTTP, no encoder.

The service layer turns demands and courses into the plain values below, asks the matching engine for
similarity and calibrated coverage matrices, and hands them here:

- :mod:`service.gaps.evidence` lists what a curriculum offers as evidence (:class:`EvidenceItem`).
- :func:`group_skills` folds the demanded skills of the demands in scope into lines: the same wording
  (after normalisation) always shares a line; with ``group=True`` paraphrases ("PLC programming",
  "programming PLCs") share one too. Paraphrases are found by average-linkage agglomerative clustering
  on calibrated coverage between the phrases, cut at the report's covered threshold: two groups merge
  when, on average, each wording of one would count as covering each wording of the other (the service
  layer never lets two wordings one demand lists separately cover each other there). A line's
  weight is the sum over its demands of headcount x importance (a demand that lists two wordings of
  one skill counts once, with the larger importance).
- :func:`assess` gives each line its coverage (the best calibrated evidence among the curriculum's
  items, over all the line's wordings), its status (covered at or above the MET threshold, partial at
  or above the PARTIAL threshold, gap below), the evidence, and for a gap the course whose items come
  closest (by combined similarity), the natural place to add it.
- :func:`build_report` orders the lines worst weighted gap first (weight x (1 - coverage)) and adds the
  programme's coverage: the weight-averaged coverage of its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components

from service.gaps.evidence import EvidenceItem
from service.text import has_cjk, normalize_phrase

COVERED = "covered"
PARTIAL = "partial"
GAP = "gap"

# Grouping compares phrases in blocks of this many rows (memory: block x phrases floats).
GROUP_BLOCK = 1024
# Pairs with calibrated coverage below this are treated as 0 when grouping (keeps the graph sparse).
EDGE_FLOOR = 0.05


@dataclass(frozen=True)
class Thresholds:
    """Calibrated coverage cut-offs: ``met`` and above is covered, ``partial`` and above is partial.
    ``same`` (None: ``met``): the coverage at which one phrase on its own clearly covers another, before
    competition and hub discount; it decides which wordings share a line and which evidence competes."""

    met: float
    partial: float
    same: float | None = None
    # Where the best item is in another language than the demanded wording (Chinese against English),
    # ``partial`` fitted on English O*NET curricula is not known to hold: such a cell below ``met`` is
    # partial from this coverage up, and a gap under it (None: ``partial`` applies).
    across: float | None = None

    @property
    def same_skill(self) -> float:
        return self.met if self.same is None else self.same

    def status(self, coverage: float, *, across_languages: bool = False) -> str:
        if coverage >= self.met:
            return COVERED
        floor = self.across if across_languages and self.across is not None else self.partial
        if coverage >= floor:
            return PARTIAL
        return GAP


@dataclass(frozen=True)
class SkillOccurrence:
    """One skill as one demand asks for it."""

    name: str
    importance: int = 3
    headcount: int = 1
    demand_id: str | None = None  # reported in the line's demand_ids (None for an unsaved demand)
    required: bool = False
    demand_key: str = ""  # identifies the demand within one report (defaults to demand_id)

    @property
    def key(self) -> str:
        return self.demand_key or self.demand_id or ""


@dataclass
class SkillLine:
    """One line of a report: a demanded skill (possibly several wordings of it) and its weight."""

    label: str
    phrases: list[str]  # distinct wordings, label first
    weight: float
    headcount: int
    importance: int
    required: bool
    demand_ids: list[str] = field(default_factory=list)

    @property
    def aliases(self) -> list[str]:
        return self.phrases[1:]


@dataclass
class Assessment:
    line: SkillLine
    coverage: float
    status: str
    evidence: EvidenceItem | None
    nearest: EvidenceItem | None
    nearest_similarity: float | None
    similarity: float = 0.0  # fused similarity of the best item (0 when there is none)


def distinct_phrases(occurrences: Iterable[SkillOccurrence]) -> tuple[list[str], list[int]]:
    """(the first surface form of each distinct normalised wording, each occurrence's index into it)."""
    seen: dict[str, int] = {}
    phrases: list[str] = []
    index: list[int] = []
    for occ in occurrences:
        key = normalize_phrase(occ.name)
        if key not in seen:
            seen[key] = len(phrases)
            phrases.append(occ.name.strip())
        index.append(seen[key])
    return phrases, index


def cluster_phrases(
    n: int, block_coverage: Callable[[int, int], np.ndarray], threshold: float, block: int = GROUP_BLOCK
) -> np.ndarray:
    """Cluster ``n`` phrases by average linkage on calibrated coverage, cut at ``threshold``.

    ``block_coverage(start, stop)`` returns the (stop - start, n) coverage of phrases start..stop
    against all phrases (it need not be symmetric; the mean of both directions is used).
    Two clusters merge when their average pairwise coverage is at least ``threshold``. Since such a
    pair of clusters always has at least one pair of phrases at or above the threshold, the linkage is
    run separately inside each connected component of the "coverage >= threshold" graph, which keeps
    memory proportional to the edges plus the largest component squared instead of ``n`` squared.
    Returns a cluster label per phrase (0..k-1, in order of first appearance).
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for start in range(0, n, block):
        stop = min(n, start + block)
        cov = np.asarray(block_coverage(start, stop), dtype=np.float32)
        r, c = np.nonzero(cov >= min(EDGE_FLOOR, threshold))
        keep = r + start != c
        rows.append(r[keep] + start)
        cols.append(c[keep])
        vals.append(cov[r[keep], c[keep]])
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    val = np.concatenate(vals)
    directed = sp.coo_matrix((val, (row, col)), shape=(n, n)).tocsr()
    sym = (directed + directed.T) * 0.5  # mean of both directions (absent edges count as 0)
    strong = sym.multiply(sym >= threshold)
    _, comp = connected_components(strong, directed=False)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    for c in np.unique(comp):
        members = np.flatnonzero(comp == c)
        if len(members) == 1:
            sub_labels = np.zeros(1, dtype=np.int64)
        else:
            sim = sym[members][:, members].toarray()
            dist = 1.0 - np.clip(sim, 0.0, 1.0)
            np.fill_diagonal(dist, 0.0)
            condensed = dist[np.triu_indices(len(members), 1)]
            tree = linkage(condensed, method="average")
            sub_labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance") - 1
        for local in np.unique(sub_labels):
            labels[members[sub_labels == local]] = next_label
            next_label += 1
    # Renumber in order of first appearance, so output is stable.
    order: dict[int, int] = {}
    out = np.empty(n, dtype=np.int64)
    for i, lab in enumerate(labels):
        out[i] = order.setdefault(int(lab), len(order))
    return out


def group_skills(
    occurrences: Sequence[SkillOccurrence], phrase_labels: np.ndarray | None = None
) -> list[SkillLine]:
    """Fold occurrences into report lines.

    ``phrase_labels`` gives a cluster label to each distinct wording (as returned by
    :func:`distinct_phrases`); None keeps each distinct wording on its own line. A line's label is its
    wording with the largest headcount x importance (ties: first seen).
    """
    phrases, index = distinct_phrases(occurrences)
    labels = np.arange(len(phrases)) if phrase_labels is None else np.asarray(phrase_labels)
    by_cluster: dict[int, list[int]] = {}
    for i, occ_index in enumerate(index):
        by_cluster.setdefault(int(labels[occ_index]), []).append(i)
    lines: list[SkillLine] = []
    for members in by_cluster.values():
        per_demand: dict[str, tuple[int, int]] = {}  # demand key -> (headcount, max importance)
        demand_ids: list[str] = []
        phrase_weight: dict[int, float] = {}
        for i in members:
            occ = occurrences[i]
            key = occ.key
            if occ.demand_id is not None and occ.demand_id not in demand_ids:
                demand_ids.append(occ.demand_id)
            hc, imp = per_demand.get(key, (occ.headcount, 0))
            per_demand[key] = (hc, max(imp, occ.importance))
            p = index[i]
            phrase_weight[p] = phrase_weight.get(p, 0.0) + occ.headcount * occ.importance
        ranked = sorted(phrase_weight, key=lambda p: (-phrase_weight[p], p))
        lines.append(
            SkillLine(
                label=phrases[ranked[0]],
                phrases=[phrases[p] for p in ranked],
                weight=float(sum(hc * imp for hc, imp in per_demand.values())),
                headcount=sum(hc for hc, _ in per_demand.values()),
                importance=max(occurrences[i].importance for i in members),
                required=any(occurrences[i].required for i in members),
                demand_ids=demand_ids,
            )
        )
    return lines


def assess(
    lines: Sequence[SkillLine],
    evidence: Sequence[EvidenceItem],
    coverage: np.ndarray,
    similarity: np.ndarray,
    phrase_row: dict[str, int],
    thresholds: Thresholds,
) -> list[Assessment]:
    """Coverage, status and evidence per line.

    ``coverage`` and ``similarity`` are (phrases, evidence items) matrices: calibrated coverage and
    combined similarity of each demanded wording (row ``phrase_row[normalize_phrase(wording)]``)
    against each evidence item. A line's coverage is its best cell over all its wordings.
    """
    out: list[Assessment] = []
    n_items = len(evidence)
    for line in lines:
        if n_items == 0:
            out.append(Assessment(line, 0.0, GAP, None, None, None))
            continue
        rows = [phrase_row[normalize_phrase(p)] for p in line.phrases]
        cov = np.max(coverage[rows], axis=0)
        sim = np.max(similarity[rows], axis=0)
        best = int(np.lexsort((-sim, -cov))[0])  # best coverage; among ties the most similar
        value = float(np.clip(cov[best], 0.0, 1.0))
        wording = line.phrases[int(np.argmax(coverage[rows, best]))]
        across = has_cjk(wording) != has_cjk(evidence[best].scored)
        status = thresholds.status(value, across_languages=across)
        top = float(sim[best])
        if status == GAP:
            # The course whose items come closest: the one holding the most similar item.
            j = int(np.argmax(sim))
            out.append(Assessment(line, value, status, None, evidence[j], float(sim[j]), float(sim[j])))
        else:
            out.append(Assessment(line, value, status, evidence[best], None, None, top))
    return out


def compete(
    sim: np.ndarray, groups: Sequence[Sequence[int]], gate: float, line_sim: np.ndarray | None = None
) -> np.ndarray:
    """Similarities after competition between demanded skills: an item that is clearly evidence of
    another line (its similarity to that line is at least ``gate``, the report's covered threshold)
    counts less for this one, by how much closer it is to the other line:
    ``sim - max(0, other - sim)`` where ``other >= gate``. ``groups`` are each line's rows of ``sim``
    (phrases x items). A curriculum sentence that describes one demanded skill then stops covering the
    related skills it merely resembles; items that clearly cover nothing else are left alone.

    ``line_sim`` (lines x lines), the similarity between the lines' wordings, limits the penalty: an
    item is evidence *against* this line only as far as it is closer to the other line than the other
    line is to this one, ``max(0, other - max(sim, line_sim))``. Two wordings of one skill in one demand
    ("CNC machining", "operate CNC machines") then barely compete, while siblings do."""
    if len(groups) < 2 or sim.shape[1] == 0:
        return sim
    line_best = np.stack([sim[list(rows)].max(axis=0) for rows in groups])  # (lines, items)
    order = np.argsort(-line_best, axis=0, kind="stable")
    cols = np.arange(sim.shape[1])
    top1, top2 = line_best[order[0], cols], line_best[order[1], cols]
    out = sim.copy()
    for li, rows in enumerate(groups):
        is_top = order[0] == li
        other = np.where(is_top, top2, top1)
        own = sim[list(rows)]
        floor = own
        if line_sim is not None:
            rival = np.where(is_top, order[1], order[0])
            floor = np.maximum(own, line_sim[li][rival])
        out[list(rows)] = own - np.where(other >= gate, np.maximum(0.0, other - floor), 0.0)
    return out


def priority(a: Assessment) -> float:
    """How much a line hurts: weight x (1 - coverage)."""
    return a.line.weight * (1.0 - a.coverage)


def programme_coverage(assessments: Sequence[Assessment]) -> float:
    """Weight-averaged coverage of the lines; 0.0 when nothing is demanded."""
    total = sum(a.line.weight for a in assessments)
    if total <= 0:
        return 0.0
    return float(sum(a.line.weight * a.coverage for a in assessments) / total)


def _evidence_dict(item: EvidenceItem) -> dict[str, Any]:
    return {
        "course_id": item.course_id,
        "course_index": item.course_index,
        "course_title": item.course_title,
        "text": item.text,
        "kind": item.kind,
        "matched": item.scored,
    }


def build_report(
    program_id: str | None, scope: dict[str, Any], assessments: Sequence[Assessment], model: str
) -> dict[str, Any]:
    """The contract's report: lines worst weighted gap first, and the programme's coverage."""
    ordered = sorted(assessments, key=lambda a: (-priority(a), -a.line.weight, a.line.label))
    skills = []
    for a in ordered:
        nearest = None
        if a.nearest is not None:
            nearest = {
                "course_id": a.nearest.course_id,
                "course_index": a.nearest.course_index,
                "course_title": a.nearest.course_title,
                "closest_text": a.nearest.text,
                "matched": a.nearest.scored,
                "similarity": round(float(a.nearest_similarity or 0.0), 4),
            }
        skills.append(
            {
                "skill": a.line.label,
                "aliases": a.line.aliases,
                "weight": a.line.weight,
                "headcount": a.line.headcount,
                "importance": a.line.importance,
                "required": a.line.required,
                "demand_ids": a.line.demand_ids,
                "coverage": round(a.coverage, 4),
                "similarity": round(a.similarity, 4),
                "status": a.status,
                "evidence": _evidence_dict(a.evidence) if a.evidence is not None else None,
                "nearest_course": nearest,
            }
        )
    summary = {
        COVERED: sum(1 for a in assessments if a.status == COVERED),
        PARTIAL: sum(1 for a in assessments if a.status == PARTIAL),
        GAP: sum(1 for a in assessments if a.status == GAP),
    }
    return {
        "program_id": program_id,
        "scope": scope,
        "coverage": round(programme_coverage(assessments), 4),
        "summary": summary,
        "model": model,
        "skills": skills,
    }
