"""Matching and gap reports on held-out development cases built from public data: ``python -m bench.heldout``.

The cases live outside the repository, in ``../shared/data/eval-dev`` (override with
``TALENTMATCH_EVAL_DIR``; its README says how they were built). Nothing is fitted on them: this script
only measures. When the folder is absent it says so and exits 0.

- ``ranking_esco``: 60 demands (ESCO occupations' skills, preferred labels) against a pool of 1,200
  graduates (skills written with ESCO alternative labels); nDCG@10 (gain 2^rel - 1), MAP@10 and P@5 on
  the graduates of the same occupation (rel = 2);
- ``gaps_esco``: 60 curricula of ESCO skill descriptions; ``gaps_courses``: 60 programmes of three real
  Coursera courses. Per demanded skill: AUROC of the coverage (taught = positive), F1 of the status
  ``gap`` against the skills the curriculum does not teach, and the status mix of taught and untaught
  skills.

Methods, computed in the same run on the same cases:

- **service**: the code the API runs. Ranking goes through the in-memory graduate index
  (:meth:`service.matching.index.GraduateIndex.rank`, what ``POST /v1/demands/{id}/match`` calls, with
  its specificity weights); gap reports through :func:`service.gaps.service.analyse_curriculum` (what
  ``POST /v1/gap-analysis`` calls), statuses with the shipped thresholds;
- **plain cosine**: each demanded skill's best cosine (all-MiniLM-L6-v2) among the other side's phrases
  (a graduate's skills; a curriculum's titles and learning outcomes), importance-weighted mean;
- **TF-IDF**: the same with word 1-2-gram TF-IDF fitted on this run's texts;
- **keyword**: the same with the share of the skill's content words found in one phrase.

The baselines have no status; their gap F1 uses the threshold that is best *on these cases*
(an upper bound for them; the README's anchors tune it on the other half), the service's F1 uses its
shipped statuses. Vectors are kept in ``bench/out`` for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.gaps import auroc, fit_gap_threshold, gap_prf, keyword_scores
from training.onet import CACHE_DIR, REPO_ROOT, EmbeddingCache

DEFAULT_EVAL_DIR = REPO_ROOT.parent / "shared" / "data" / "eval-dev"
SETS = ("ranking_esco", "gaps_esco", "gaps_courses")
GAP_SETS = ("gaps_esco", "gaps_courses")
SERVICE = "service"
SERVICE_ESCO = "service + ESCO"  # the service with the ESCO skills imported (their labels as synonyms)
DEFAULT_ESCO_DIR = REPO_ROOT.parent / "shared" / "data" / "esco_v1.1.1"
COSINE = "plain cosine"
TFIDF = "TF-IDF"
KEYWORD = "keyword"

# Pairwise scorer of the baselines: (skills, phrases) -> (len(skills), len(phrases)) similarity.
PairScore = Callable[[Sequence[str], Sequence[str]], np.ndarray]


def eval_dir() -> Path:
    return Path(os.environ.get("TALENTMATCH_EVAL_DIR", DEFAULT_EVAL_DIR))


def load_sets(folder: Path) -> dict[str, Any]:
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) for name in SETS}


# --- metrics --------------------------------------------------------------------------------------


def ndcg_at(ranked: Sequence[str], relevance: dict[str, int], k: int = 10) -> float:
    gains = [2 ** relevance.get(key, 0) - 1 for key in ranked[:k]]
    dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((2**r - 1 for r in relevance.values()), reverse=True)[:k]
    idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
    return float(dcg / idcg) if idcg else 0.0


def ap_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    hits, total = 0, 0.0
    for i, key in enumerate(ranked[:k]):
        if key in relevant:
            hits += 1
            total += hits / (i + 1)
    denom = min(k, len(relevant))
    return total / denom if denom else 0.0


def precision_at(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    return sum(1 for key in ranked[:k] if key in relevant) / k


def ranking_metrics(rankings: dict[str, list[str]], relevance: dict[str, dict[str, int]]) -> dict[str, float]:
    nd, ap, p5 = [], [], []
    for demand_id, ranked in rankings.items():
        rel = relevance.get(demand_id, {})
        top = {key for key, r in rel.items() if r == 2}
        nd.append(ndcg_at(ranked, rel))
        ap.append(ap_at(ranked, top))
        p5.append(precision_at(ranked, top))
    return {"nDCG@10": float(np.mean(nd)), "MAP@10": float(np.mean(ap)), "P@5": float(np.mean(p5))}


def status_mix(status: np.ndarray, taught: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for name, mask in (("taught", taught), ("untaught", ~taught)):
        n = max(int(mask.sum()), 1)
        out[name] = {s: float(np.sum(status[mask] == s) / n) for s in ("covered", "partial", "gap")}
    return out


def gap_metrics(coverage: np.ndarray, taught: np.ndarray, status: np.ndarray | None) -> dict[str, Any]:
    """AUROC of coverage; gap F1 of the statuses (or, without statuses, at the best threshold here)."""
    untaught = ~taught
    out: dict[str, Any] = {"AUROC": auroc(coverage, taught)}
    if status is not None:
        out["gap_F1"] = gap_prf(status == "gap", untaught)[2]
        out["mix"] = status_mix(status, taught)
    t = fit_gap_threshold(coverage, untaught)
    out["gap_F1_best_threshold"] = gap_prf(coverage < t, untaught)[2]
    return out


# --- baselines ------------------------------------------------------------------------------------


def cosine_pairs(embed: Callable[[list[str]], np.ndarray]) -> PairScore:
    def score(skills: Sequence[str], phrases: Sequence[str]) -> np.ndarray:
        return np.asarray(embed(list(skills)) @ embed(list(phrases)).T, dtype=np.float32)

    return score


def tfidf_pairs(corpus: Sequence[str]) -> PairScore:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit(list(corpus))

    def score(skills: Sequence[str], phrases: Sequence[str]) -> np.ndarray:
        return np.asarray((vec.transform(list(skills)) @ vec.transform(list(phrases)).T).toarray())

    return score


def keyword_pairs(skills: Sequence[str], phrases: Sequence[str]) -> np.ndarray:
    return (
        np.stack([keyword_scores(skills, [p]) for p in phrases], axis=1)
        if phrases
        else np.zeros((len(skills), 0))
    )


@dataclass
class Pool:
    """Graduates as a CSR layout over their distinct phrases."""

    keys: list[str]
    texts: list[str]
    indptr: np.ndarray
    idx: np.ndarray

    @classmethod
    def build(cls, graduates: Sequence[dict[str, Any]]) -> Pool:
        from service.text import normalize_phrase

        ids: dict[str, int] = {}
        texts: list[str] = []
        idx: list[int] = []
        indptr = [0]
        for g in graduates:
            for s in g["skills"]:
                key = normalize_phrase(s["name"])
                if key not in ids:
                    ids[key] = len(texts)
                    texts.append(s["name"])
                idx.append(ids[key])
            indptr.append(len(idx))
        keys = [g["external_ref"] for g in graduates]
        return cls(keys, texts, np.asarray(indptr, dtype=np.int64), np.asarray(idx, dtype=np.int64))


def baseline_ranking(data: dict[str, Any], pool: Pool, pair: PairScore) -> dict[str, list[str]]:
    """Per demand: graduates ordered by the importance-weighted mean of each skill's best score."""
    out = {}
    starts = pool.indptr[:-1]
    for d in data["demands"]:
        names = [s["name"] for s in d["skills"]]
        w = np.asarray([float(s.get("importance") or 3) for s in d["skills"]])
        sim = pair(names, pool.texts)  # (k, P)
        best = np.stack([np.maximum.reduceat(sim[j, pool.idx], starts) for j in range(len(names))], axis=1)
        scores = best @ (w / w.sum())
        order = np.lexsort((np.arange(len(scores)), -scores))[:10]
        out[d["id"]] = [pool.keys[i] for i in order]
    return out


def curriculum_phrases(program: dict[str, Any]) -> list[str]:
    out = []
    for c in program["courses"]:
        if c.get("title"):
            out.append(c["title"])
        out.extend(o for o in c.get("learning_outcomes") or [] if o.strip())
    return out


def baseline_gaps(cases: Sequence[dict[str, Any]], pair: PairScore) -> tuple[np.ndarray, np.ndarray]:
    """(best score per demanded skill, taught flag), flattened over the cases."""
    scores, taught = [], []
    for case in cases:
        names = [s["name"] for s in case["demand"]["skills"]]
        gaps = set(case["expected_gaps"])
        scores.extend(pair(names, curriculum_phrases(case["program"])).max(axis=1).tolist())
        taught.extend(name not in gaps for name in names)
    return np.asarray(scores), np.asarray(taught, dtype=bool)


# --- the service ----------------------------------------------------------------------------------


def esco_synonyms(folder: Path) -> Any:
    """The synonyms the service reads once the ESCO skills of ``folder`` are imported
    (``talentmatch taxonomy import esco``): every preferred, alternative and hidden label."""
    from service.matching.synonyms import Synonyms
    from service.taxonomy.importers import parse_esco
    from service.text import normalize_phrase

    records = parse_esco(folder).records
    skills: dict[str, list[int]] = {}
    for n, record in enumerate(records):
        for label, _ in record.labels():
            known = skills.setdefault(normalize_phrase(label), [])
            if n not in known:
                known.append(n)
    return Synonyms(
        key=("esco", str(folder)),
        lookup=lambda norm: skills.get(norm, ()),
        describe=lambda n: (records[n].skill_id, records[n].preferred_label),
    )


def service_ranking(
    data: dict[str, Any],
    encoder: Any,
    embed: Callable[[list[str]], np.ndarray],
    ml: tuple[Any, Callable[[list[str]], np.ndarray]] | None = None,
    synonyms: Any = None,
) -> dict[str, list[str]]:
    """Rank the pool through the graduate index, as ``POST /v1/demands/{id}/match`` does."""
    from service.matching import scoring
    from service.matching.calibration import load_bridge, load_calibration
    from service.matching.index import GraduateIndex
    from service.matching.lexical import default_model
    from service.matching.phrase_store import PhraseStore

    lexical = default_model()
    calibration = load_calibration(encoder.name)
    multilingual = bool(getattr(encoder, "multilingual", False))
    bridge = load_bridge(calibration, ml[0].name) if ml is not None else None
    ml_embed = ml[1] if ml is not None and bridge is not None else None
    phrases = PhraseStore(encoder.dim, lexical, ml_dim=ml[0].dim if ml else 0, bridge=bridge)
    pool = Pool.build(data["graduates"])
    phrases.add(pool.texts, embed(pool.texts), ml_embed(pool.texts) if ml_embed else None)
    index = GraduateIndex(phrases, calibration, multilingual=multilingual)
    ids = phrases.ids([pool.texts[i] for i in pool.idx])
    index.load(pool.keys, pool.indptr, ids)
    out = {}
    for d in data["demands"]:
        names = [s["name"] for s in d["skills"]]
        demand = scoring.DemandSkills.build(
            names,
            embed(names),
            lexical,
            weights=[float(s.get("importance") or 3) for s in d["skills"]],
            required=[bool(s.get("required")) for s in d["skills"]],
            levels=[s.get("level") for s in d["skills"]],
            ml=ml_embed(names) if ml_embed else None,
            synonyms=synonyms,
        )
        out[d["id"]] = [str(k) for k in index.rank(demand, 10).keys]
    return out


def service_gaps(cases: Sequence[dict[str, Any]], scorer: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coverage, status, taught) per demanded skill through ``analyse_curriculum``, as
    ``POST /v1/gap-analysis`` runs it."""
    from service.gaps.service import analyse_curriculum
    from service.text import normalize_phrase

    cov, status, taught = [], [], []
    for case in cases:
        demand = {
            "id": None,
            "headcount": case["demand"].get("headcount", 1),
            "skills": case["demand"]["skills"],
        }
        report = analyse_curriculum(
            scorer=scorer,
            courses=case["program"]["courses"],
            demands=[demand],
            group=False,
            program_id=None,
            scope={"kind": "request"},
        )
        lines = {normalize_phrase(line["skill"]): line for line in report["skills"]}
        gaps = set(case["expected_gaps"])
        for s in case["demand"]["skills"]:
            line = lines[normalize_phrase(s["name"])]
            cov.append(line["coverage"])
            status.append(line["status"])
            taught.append(s["name"] not in gaps)
    return np.asarray(cov), np.asarray(status), np.asarray(taught, dtype=bool)


# --- the run --------------------------------------------------------------------------------------


def evaluate(
    folder: Path, encoder_backend: str = "real", multilingual: bool = False, esco: Path | None = None
) -> dict[str, Any]:
    """Every figure of the table; ``multilingual`` runs the service path with the multilingual channel
    on, as the service serves it by default (the cases are English: no figure may move). With ``esco``
    (a folder of the ESCO export) the service path runs a second time as it does once those skills
    are imported: their labels are synonyms (row ``service + ESCO``)."""
    from dataclasses import replace

    from service.embeddings.loader import load_encoder
    from service.gaps.service import Scorer

    sets = load_sets(folder)
    encoder = load_encoder(encoder_backend)
    cache = EmbeddingCache(encoder, persist=encoder_backend == "real")
    if cache.path is not None:  # held-out phrases apart from the O*NET ones
        cache.path = CACHE_DIR / f"heldout-{cache.path.name}"
        cache.vectors = {}
        if cache.path.is_file():
            with np.load(cache.path, allow_pickle=False) as stored:
                cache.vectors = dict(zip((str(k) for k in stored["keys"]), stored["vecs"], strict=True))
    results: dict[str, Any] = {"encoder": f"{encoder.name} {encoder.version}", "sets": {}}
    ml: tuple[Any, Callable[[list[str]], np.ndarray]] | None = None
    if multilingual:
        from service.embeddings.multilingual import load_multilingual

        ml_encoder = load_multilingual()
        ml_cache = EmbeddingCache(ml_encoder, persist=False)
        ml = (ml_encoder, ml_cache.embed)
        results["encoder"] += f" + {ml_encoder.name} {ml_encoder.version}"

    ranking = sets["ranking_esco"]
    pool = Pool.build(ranking["graduates"])
    started = time.perf_counter()
    res = {SERVICE: ranking_metrics(service_ranking(ranking, encoder, cache.embed, ml), ranking["relevance"])}
    results["service_seconds_ranking"] = round(time.perf_counter() - started, 1)
    synonyms = esco_synonyms(esco) if esco is not None else None
    if synonyms is not None:
        res[SERVICE_ESCO] = ranking_metrics(
            service_ranking(ranking, encoder, cache.embed, ml, synonyms), ranking["relevance"]
        )
    corpus = [*pool.texts, *(s["name"] for d in ranking["demands"] for s in d["skills"])]
    for name, pair in (
        (COSINE, cosine_pairs(cache.embed)),
        (TFIDF, tfidf_pairs(corpus)),
        (KEYWORD, keyword_pairs),
    ):
        res[name] = ranking_metrics(baseline_ranking(ranking, pool, pair), ranking["relevance"])
    results["sets"]["ranking_esco"] = res

    scorer = Scorer.for_encoder(encoder, cache.embed, *(ml if ml else (None, None)))
    for set_name in GAP_SETS:
        cases = sets[set_name]
        cov, status, taught = service_gaps(cases, scorer)
        res = {SERVICE: gap_metrics(cov, taught, status)}
        if synonyms is not None:
            cov, status, taught = service_gaps(cases, replace(scorer, synonyms=synonyms))
            res[SERVICE_ESCO] = gap_metrics(cov, taught, status)
        corpus = [
            t
            for c in cases
            for t in [*curriculum_phrases(c["program"]), *(s["name"] for s in c["demand"]["skills"])]
        ]
        for name, pair in (
            (COSINE, cosine_pairs(cache.embed)),
            (TFIDF, tfidf_pairs(corpus)),
            (KEYWORD, keyword_pairs),
        ):
            scores, taught_b = baseline_gaps(cases, pair)
            res[name] = gap_metrics(scores, taught_b, None)
        results["sets"][set_name] = res
    cache.save()
    results["thresholds"] = {"covered": scorer.thresholds.met, "partial": scorer.thresholds.partial}
    return results


def _fmt(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def print_table(result: dict[str, Any]) -> None:
    sets = result["sets"]
    print(
        f"held-out development cases (eval-dev); encoder {result['encoder']}; "
        f"gap thresholds {result['thresholds']}"
    )
    header = (
        f"{'method':14} {'nDCG@10':>7} {'MAP@10':>7} {'P@5':>6} | "
        f"{'esco AUROC':>10} {'gap F1':>7} {'(best)':>7}"
        f" | {'courses AUROC':>13} {'gap F1':>7} {'(best)':>7}"
    )
    print(header)
    print("-" * len(header))
    for method in (SERVICE, SERVICE_ESCO, COSINE, TFIDF, KEYWORD):
        if method not in sets["ranking_esco"]:
            continue
        r = sets["ranking_esco"][method]
        ge, gc = sets["gaps_esco"][method], sets["gaps_courses"][method]
        print(
            f"{method:14} {r['nDCG@10']:7.3f} {r['MAP@10']:7.3f} {r['P@5']:6.3f} | {ge['AUROC']:10.3f}"
            f" {_fmt(ge.get('gap_F1')):>7} {ge['gap_F1_best_threshold']:7.3f} | {gc['AUROC']:13.3f}"
            f" {_fmt(gc.get('gap_F1')):>7} {gc['gap_F1_best_threshold']:7.3f}"
        )
    print("gap F1: the service's status `gap`; (best): at the threshold best on these cases (an upper bound)")
    print("\nstatus mix of the service's gap report (share of demanded skills)")
    print(f"{'set':14} {'skills':9} {'covered':>8} {'partial':>8} {'gap':>8}")
    for set_name in GAP_SETS:
        for kind in ("taught", "untaught"):
            m = sets[set_name][SERVICE]["mix"][kind]
            print(f"{set_name:14} {kind:9} {m['covered']:8.1%} {m['partial']:8.1%} {m['gap']:8.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--encoder", choices=("real", "fake"), default="real")
    parser.add_argument(
        "--multilingual",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the service path with the multilingual channel, as served (default: on)",
    )
    parser.add_argument(
        "--esco",
        nargs="?",
        type=Path,
        const=DEFAULT_ESCO_DIR,
        default=None,
        help="also run the service as it runs with these ESCO skills imported (their labels are "
        f"synonyms); default folder {DEFAULT_ESCO_DIR}",
    )
    args = parser.parse_args(argv)
    folder = eval_dir()
    if not all((folder / f"{name}.json").is_file() for name in SETS):
        print(f"skipped: the held-out development cases are not in {folder} (set TALENTMATCH_EVAL_DIR)")
        return 0
    esco = args.esco
    if esco is not None and not (esco / "skills_en.csv").is_file():
        print(f"no ESCO export (skills_en.csv) in {esco}: the row `{SERVICE_ESCO}` is left out")
        esco = None
    result = evaluate(folder, args.encoder, args.multilingual, esco)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
