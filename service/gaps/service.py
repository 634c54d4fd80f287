"""Curriculum gap analysis: which demanded skills a programme's curriculum does not teach.

Public entry points:

- :func:`program_gaps` (``service.gaps.service.program_gaps``) - the report for a stored programme
  against stored demands; other domains (training orders) call it to fill curriculum additions.
- :func:`analyse_curriculum` - the same computation on plain dicts (the stateless call, the benchmark).

Similarity and calibrated coverage come from the matching engine (same encoder, phrase cache, lexical
channel and calibration as ranking); the report logic is the pure :mod:`service.gaps.analysis`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session

from service.curricula import service as curricula_service
from service.demands import repository as demands_repo
from service.embeddings.cache import embed_texts
from service.embeddings.encoder import Encoder, companion
from service.errors import NotFound, Unprocessable
from service.gaps import analysis, evidence
from service.gaps.calibration import gap_thresholds
from service.gaps.schemas import GapAnalysisRequest, ScopeKind
from service.matching import scoring
from service.matching.calibration import Bridge, Calibration, load_bridge, load_calibration
from service.matching.engine import synonyms_for
from service.matching.hubs import HubBackground, load_hub_background
from service.matching.lexical import LexicalModel, latin_share
from service.matching.lexical import default_model as lexical_model
from service.matching.synonyms import Synonyms
from service.orgs import repository as orgs_repository
from service.orm import Demand, Organization, Program
from service.text import normalize_phrase

Embed = Callable[[list[str]], np.ndarray]
# Evidence that clearly covers another demanded skill counts less for this one (analysis.compete).
COMPETE = True
# A demanded skill close to almost any text needs more than that closeness (service.matching.hubs).
HUB_DISCOUNT = True


@dataclass(frozen=True)
class Phrases:
    """Texts prepared for scoring once: their vectors and lexical rows."""

    texts: list[str]
    vecs: np.ndarray
    lex: sp.csr_matrix
    ml: np.ndarray | None = None  # multilingual vectors, when the scorer has that channel

    def __len__(self) -> int:
        return len(self.texts)

    def rows(self, start: int, stop: int) -> Phrases:
        ml = None if self.ml is None else self.ml[start:stop]
        return Phrases(self.texts[start:stop], self.vecs[start:stop], self.lex[start:stop], ml)


@dataclass(frozen=True)
class Scorer:
    """The matching engine's similarity and calibrated coverage, bound to one encoder and embedder."""

    embed: Embed
    calibration: Calibration
    lexical: LexicalModel
    multilingual: bool
    model: str
    # the multilingual channel (pairs where a text holds CJK characters), when it is on
    ml_embed: Embed | None = None
    bridge: Bridge | None = None
    hubs: HubBackground | None = None
    # the imported taxonomy's labels: two labels of one of its skills are the same skill
    synonyms: Synonyms | None = None

    @classmethod
    def for_encoder(
        cls, encoder: Encoder, embed: Embed, ml_encoder: Encoder | None = None, ml_embed: Embed | None = None
    ) -> Scorer:
        calibration = load_calibration(encoder.name)
        bridge = load_bridge(calibration, ml_encoder.name) if ml_encoder is not None else None
        return cls(
            embed=embed,
            calibration=calibration,
            lexical=lexical_model(),
            multilingual=bool(getattr(encoder, "multilingual", False)),
            model=f"{encoder.name} {encoder.version}",
            ml_embed=ml_embed if bridge is not None else None,
            bridge=bridge if ml_embed is not None else None,
            hubs=load_hub_background(encoder.name),
        )

    @property
    def thresholds(self) -> analysis.Thresholds:
        """Covered / partial cut-offs of calibrated coverage (``models/gap_thresholds.json``)."""
        return gap_thresholds(self.calibration, bridge=self.bridge)

    @property
    def met(self) -> float:
        """The matching engine's MET threshold: one phrase counts as evidence of another."""
        return self.calibration.met

    def prepare(self, texts: Sequence[str]) -> Phrases:
        """Embed (through the phrase cache) and analyse ``texts`` once, to score them many times."""
        texts = list(texts)
        vecs = self.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        ml = self.ml_embed(texts) if self.ml_embed is not None and texts else None
        return Phrases(texts, vecs, self.lexical.transform(texts), ml)

    def scores(self, left: Phrases, right: Phrases) -> tuple[np.ndarray, np.ndarray]:
        """(combined similarity, calibrated coverage) of every left phrase against every right one."""
        if not len(left) or not len(right):
            empty = np.zeros((len(left), len(right)), dtype=np.float32)
            return empty, empty
        sim = scoring.combined_similarity(
            left.texts,
            left.vecs,
            right.texts,
            right.vecs,
            calibration=self.calibration,
            lexical=self.lexical,
            multilingual=self.multilingual,
            demand_lex=left.lex,
            phrase_lex=right.lex,
            bridge=self.bridge,
            demand_ml=left.ml,
            phrase_ml=right.ml,
            synonyms=self.synonyms,
        )
        return sim, scoring.coverage(sim, self.calibration)

    def hub_discount(self, phrases: Phrases) -> np.ndarray:
        """(len(phrases),) amount each phrase's similarities lose as a demanded skill for being close
        to almost any text (zeros without a background for this encoder)."""
        if self.hubs is None or not len(phrases):
            return np.zeros(len(phrases), dtype=np.float32)
        trust = None if self.multilingual else latin_share(phrases.texts)
        return self.hubs.discount(phrases.vecs, trust)

    def pair_scores(self, left: list[str], right: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`scores` of two lists of texts."""
        return self.scores(self.prepare(left), self.prepare(right))


def group_lines(
    scorer: Scorer, occurrences: Sequence[analysis.SkillOccurrence], *, group: bool
) -> list[analysis.SkillLine]:
    """Report lines of the demanded skills; ``group`` folds paraphrases together (aggregate scopes).

    Two wordings share a line when, on average, each would count as *covered* by the other in this
    report (the gap report's ``covered`` threshold, fitted on O*NET), not merely as evidence of it (the
    matching engine's lower MET): related but different skills ("PLC programming" / "industrial robot
    programming", "welding" / "soldering") keep their own lines, weights and shortages.

    Wordings that one demand lists separately never count as covering each other here: the demand
    says they are different requirements (an occupation's essential skills "perform MIG welding" and
    "perform TIG welding" are as close to each other as two wordings of one skill can be), so only
    wordings of different demands are folded, as a report of one demand folds nothing."""
    if not group:
        return analysis.group_skills(occurrences)
    wordings, index = analysis.distinct_phrases(occurrences)
    phrases = scorer.prepare(wordings)
    by_demand: dict[str, set[int]] = {}
    for occ, i in zip(occurrences, index, strict=True):
        by_demand.setdefault(occ.demand_key, set()).add(i)
    siblings: list[set[int]] = [set() for _ in wordings]
    for members in by_demand.values():
        for i in members:
            siblings[i] |= members
    for i, others in enumerate(siblings):
        others.discard(i)

    def block(start: int, stop: int) -> np.ndarray:
        cov = np.array(scorer.scores(phrases.rows(start, stop), phrases)[1], dtype=np.float32)
        for r in range(start, stop):
            if siblings[r]:
                cov[r - start, sorted(siblings[r])] = 0.0
        return cov

    labels = analysis.cluster_phrases(len(phrases), block, scorer.thresholds.same_skill)
    return analysis.group_skills(occurrences, labels)


def occurrences_of(demands: Sequence[dict[str, Any]]) -> list[analysis.SkillOccurrence]:
    """Skill occurrences from demands given as dicts with ``id``, ``headcount`` and ``skills``."""
    out = []
    for index, d in enumerate(demands):
        for s in d.get("skills") or []:
            out.append(
                analysis.SkillOccurrence(
                    name=str(s["name"]),
                    importance=int(s.get("importance") or 3),
                    headcount=int(d.get("headcount") or 1),
                    demand_id=d.get("id"),
                    required=bool(s.get("required", False)),
                    demand_key=str(d.get("id") or f"#{index}"),
                )
            )
    return out


def analyse_curriculum(
    *,
    scorer: Scorer,
    courses: Sequence[dict[str, Any]],
    demands: Sequence[dict[str, Any]],
    group: bool,
    program_id: str | None,
    scope: dict[str, Any],
) -> dict[str, Any]:
    """The gap report of a curriculum (courses as dicts) against demands (dicts); see the module doc.

    Cost: one embedding call per distinct phrase not yet cached, and one (demanded phrases x curriculum
    items) similarity matrix (plus phrases x phrases when grouping).
    """
    occurrences = occurrences_of(demands)
    lines = group_lines(scorer, occurrences, group=group)
    items = evidence.curriculum_evidence(courses)
    phrases = list(dict.fromkeys(p for line in lines for p in line.phrases))
    row = {normalize_phrase(p): i for i, p in enumerate(phrases)}
    demanded = scorer.prepare(phrases)
    sim, cov = scorer.scores(demanded, scorer.prepare([e.scored for e in items]))
    if COMPETE or HUB_DISCOUNT:
        score = sim
        if COMPETE:
            groups = [[row[normalize_phrase(p)] for p in line.phrases] for line in lines]
            gate = scorer.calibration.similarity_at(scorer.thresholds.same_skill)
            line_sim = None
            if len(groups) > 1:
                pair = scorer.scores(demanded, demanded)[0]
                line_sim = np.stack([pair[g].max(axis=0) for g in groups])
                line_sim = np.stack([line_sim[:, g].max(axis=1) for g in groups], axis=1)
                line_sim = np.minimum(line_sim, line_sim.T)
            score = analysis.compete(sim, groups, gate, line_sim)
        if HUB_DISCOUNT:
            score = score - scorer.hub_discount(demanded)[:, None]
        cov = scoring.coverage(score, scorer.calibration)
    assessments = analysis.assess(lines, items, cov, sim, row, scorer.thresholds)
    report = analysis.build_report(program_id, scope, assessments, scorer.model)
    if scorer.synonyms is not None:
        name_same_skills(report, scorer.synonyms)
    return report


def name_same_skills(report: dict[str, Any], synonyms: Synonyms) -> None:
    """In place: the evidence of a line that is another label of one of the line's wordings' taxonomy
    skill names that skill (``same_skill``), as match evidence does."""
    for line in report["skills"]:
        found = line["evidence"]
        if found is None:
            continue
        for wording in (line["skill"], *line["aliases"]):
            same = synonyms.same_skill(wording, found["matched"])
            if same is not None:
                found["same_skill"] = same
                break


def scorer_for(session: Session, encoder: Encoder, *, store: bool = True) -> Scorer:
    """A scorer that embeds through the matching engine's database phrase cache; ``store=False``
    reads the cache but keeps no new phrase (stateless calls keep nothing of what they were sent)."""

    def embed(texts: list[str]) -> np.ndarray:
        return embed_texts(session, encoder, texts, store=store)

    synonyms = synonyms_for(session)
    ml_encoder = companion(encoder)
    if ml_encoder is None:
        return replace(Scorer.for_encoder(encoder, embed), synonyms=synonyms)
    second: Encoder = ml_encoder

    def ml_embed(texts: list[str]) -> np.ndarray:
        return embed_texts(session, second, texts, store=store)

    return replace(Scorer.for_encoder(encoder, embed, second, ml_embed), synonyms=synonyms)


def model_name(encoder: Encoder) -> str:
    return f"{encoder.name} {encoder.version}"


def _demand_dict(d: Demand) -> dict[str, Any]:
    return {"id": d.id, "headcount": d.headcount, "skills": list(d.skills or [])}


def program_gaps(
    session: Session,
    encoder: Encoder,
    program: Program,
    demands: Sequence[Demand],
    *,
    scope: dict[str, Any] | None = None,
    group: bool | None = None,
) -> dict[str, Any]:
    """Gap report of ``program``'s curriculum against ``demands``.

    Signature: ``program_gaps(session, encoder, program, demands, *, scope=None, group=None) -> dict``.

    - ``session``: the request's session (only reads, plus the phrase cache's inserts; never commits);
    - ``encoder``: the app's encoder (``request.app.state.encoder``);
    - ``program``: a :class:`~service.orm.Program` (its courses are read);
    - ``demands``: :class:`~service.orm.Demand` rows in scope (headcount x importance weights);
    - ``scope``: the report's ``scope`` object (default: a "demand" scope for one demand, else a
      "filter" scope without filters);
    - ``group``: fold paraphrased skills across demands into one line (default: when more than one
      demand is in scope).

    Returns the contract's report as a dict: ``{"program_id", "scope", "coverage", "summary",
    "model", "skills": [{"skill", "aliases", "weight", "headcount", "importance", "required",
    "demand_ids", "coverage", "status", "evidence", "nearest_course"}]}``, worst weighted gaps first.
    The lines with ``status == "gap"`` are what a curriculum should add. A programme with no courses
    gets every demanded skill as a gap (coverage 0); no demands give no lines and coverage 0.
    """
    if scope is None:
        kind = ScopeKind.demand if len(demands) == 1 else ScopeKind.filter
        scope = {
            "kind": kind.value,
            "demand_id": demands[0].id if kind == ScopeKind.demand else None,
            "region": None,
            "industry": None,
        }
    scope = {**scope, "demands": len(demands), "headcount": sum(d.headcount for d in demands)}
    courses = [curricula_service.course_view(c) for c in program.courses]
    return analyse_curriculum(
        scorer=scorer_for(session, encoder),
        courses=courses,
        demands=[_demand_dict(d) for d in demands],
        group=len(demands) > 1 if group is None else group,
        program_id=program.id,
        scope=scope,
    )


def school_scope(session: Session, program: Program) -> tuple[str | None, str | None]:
    """(region, industry) of the school that owns ``program``: the default scope of its gap report.

    A school trains for its own labour market, so a report without filters weighs the open demands
    of the school's region (and of its industry when it has one), not every demand of every region.
    A school with neither gets every open demand."""
    school = orgs_repository.get(session, program.organization_id)
    if school is None:
        return None, None
    return (school.region or None), (school.industry or None)


def stored_report(
    session: Session,
    encoder: Encoder,
    org: Organization,
    program: Program,
    *,
    demand_id: str | None,
    region: str | None,
    industry: str | None,
) -> dict[str, Any]:
    """The report for ``GET /v1/programs/{id}/gaps``: one demand the caller may read, or every open
    demand passing the region / industry filters (not both); with neither, the open demands of the
    school's own region and industry (:func:`school_scope`). The answer's ``scope`` says which."""
    if demand_id and (region or industry):
        raise Unprocessable("Give either demand_id or region/industry filters, not both.")
    if demand_id:
        demand = demands_repo.get_visible(session, demand_id, org.id)
        if demand is None:
            raise NotFound(f"No demand {demand_id}.")
        scope = {"kind": ScopeKind.demand.value, "demand_id": demand.id, "region": None, "industry": None}
        return program_gaps(session, encoder, program, [demand], scope=scope, group=False)
    kind = ScopeKind.filter
    if not (region or industry):
        kind = ScopeKind.school
        region, industry = school_scope(session, program)
    demands = demands_repo.open_demands(session, region=region, industry=industry)
    scope = {"kind": kind.value, "demand_id": None, "region": region, "industry": industry}
    return program_gaps(session, encoder, program, demands, scope=scope, group=True)


def stateless_report(session: Session, encoder: Encoder, body: GapAnalysisRequest) -> dict[str, Any]:
    """The report for ``POST /v1/gap-analysis``: a curriculum and one demand given in the request."""
    courses = [c.model_dump() for c in body.curriculum.courses]
    demand = {
        "id": None,
        "headcount": body.demand.headcount,
        "skills": [s.model_dump() for s in body.demand.skills],
    }
    scope = {
        "kind": ScopeKind.request.value,
        "demand_id": None,
        "region": None,
        "industry": None,
        "demands": 1,
        "headcount": body.demand.headcount,
    }
    return analyse_curriculum(
        scorer=scorer_for(session, encoder, store=False),
        courses=courses,
        demands=[demand],
        group=False,
        program_id=None,
        scope=scope,
    )
