"""Ranking quality on O*NET 29.2 with known answers: ``python -m bench.quality`` (``make bench-quality``).

The task, built only from the *eval* occupations (``training.onet.split``; the calibration in
``models/calibration.json`` was fitted on the disjoint *fit* occupations, so no case is seen by it):

- **graduates**: for each eval occupation, ``--per-occupation`` synthetic graduates (default 3) of about
  15 skills: 5-9 of the occupation's technology skills, written as the O*NET example (30 %), as a
  vendor-less or acronym form (45 %: "AutoCAD", "SQL") or as its commodity title (25 %: "Computer aided
  design CAD software"); 4-7 of its core tasks as short paraphrased fragments ("Running machinery
  tools", never the full statement; ``training.onet.task_fragment`` and ``paraphrase``); and 2-4 skills
  of a random other occupation;
- **demands**: ``--demands`` eval occupations (default 120); each demand lists 7 technology examples
  (drawn at random; ``--hot-first`` puts the hot technologies, mostly office software, first) and 8 core
  tasks written as short skill phrases (fragment + thesaurus, drawn independently of the graduates'; with
  ``--long-tasks``, the full O*NET task statements). All skills have the same importance and none is
  required: the relevance labels know nothing of either (unit tests cover both);
- **relevance**: a graduate of the demand's occupation is 2, of an occupation O*NET lists as related
  (``Related Occupations.txt``, primary tiers) 1, else 0.

Every method ranks the same pool of graduates for the same demands:

- **matcher**: this service's skill-by-skill scoring (``service.matching``: encoder cosine fused with
  the lexical channel, calibrated coverage, importance-weighted, required penalty);
- **keyword overlap**: share of the demand's words found in the graduate's skills;
- **TF-IDF cosine**: word 1-2-gram TF-IDF of the whole demand against the whole profile;
- **document embedding**: all-MiniLM-L6-v2 cosine of the whole demand text against the whole profile.

Reported: nDCG@10 (graded), MAP with "relevant" = same occupation, MAP with "relevant" = same or related,
averaged over demands. Embeddings are cached in ``bench/out/``; a second run takes well under a minute.

The lexical IDF table (``models/lexical_idf.npz``) is unsupervised (document frequencies of all O*NET
phrases, no labels); the TF-IDF baseline fits its IDF on the benchmark's own documents.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from training.onet import ATTRIBUTION, EmbeddingCache, load_onet, paraphrase, task_fragment, tech_variant

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PRIMARY_TIERS = {"Primary-Short", "Primary-Long"}
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.\-]*")


@dataclass
class Graduate:
    key: str
    occupation: str
    skills: list[str]


@dataclass
class DemandCase:
    occupation: str
    skills: list[str]
    weights: list[float]
    required: list[bool]


def build(
    seed: int,
    per_occupation: int,
    n_demands: int,
    hot_first: bool = False,
    long_tasks: bool = False,
    split: str = "eval",
) -> tuple[list[Graduate], list[DemandCase], dict]:
    onet = load_onet()
    occs = [o for o in onet.part(split) if len([t for t in o.tasks if t.core]) >= 3 and len(o.tech) >= 3]
    rng = random.Random(seed)
    graduates: list[Graduate] = []
    for occ in occs:
        core = [t for t in occ.tasks if t.core]
        for g in range(per_occupation):
            skills: list[str] = []
            for t in rng.sample(occ.tech, min(len(occ.tech), rng.randint(5, 9))):
                r = rng.random()
                if r < 0.3:
                    skills.append(t.example)
                elif r < 0.75:
                    skills.append(tech_variant(t.example, rng.randrange(2)))
                else:
                    skills.append(t.commodity_title)
            for task in rng.sample(core, min(len(core), rng.randint(4, 7))):
                skills.append(paraphrase(task_fragment(task.text, rng.randrange(3)), rng))
            other = rng.choice(occs)
            noise = [t.example for t in other.tech] + [task_fragment(t.text, 1) for t in other.tasks]
            skills.extend(rng.sample(noise, min(len(noise), rng.randint(2, 4))))
            rng.shuffle(skills)
            graduates.append(Graduate(f"{occ.code}#{g}", occ.code, list(dict.fromkeys(skills))))
    demands: list[DemandCase] = []
    for occ in rng.sample(occs, min(n_demands, len(occs))):
        tech = sorted(occ.tech, key=lambda t: ((not t.hot) if hot_first else 0, rng.random()))
        core = [t for t in occ.tasks if t.core]
        tasks = rng.sample(core, min(8, len(core)))
        skills = [t.example for t in tech[:7]]
        if long_tasks:
            skills += [t.text for t in tasks]
        else:
            skills += [paraphrase(task_fragment(t.text, rng.randrange(3)), rng) for t in tasks]
        skills = list(dict.fromkeys(skills))
        # the relevance labels know nothing of importance or "required": all equal, none required
        demands.append(DemandCase(occ.code, skills, [3.0] * len(skills), [False] * len(skills)))
    related = {o.code: {c for c, tier, _ in o.related if tier in PRIMARY_TIERS} for o in occs}
    return graduates, demands, related


def relevance(demand: DemandCase, graduates: list[Graduate], related: dict[str, set[str]]) -> np.ndarray:
    rel = related.get(demand.occupation, set())
    return np.array(
        [2 if g.occupation == demand.occupation else 1 if g.occupation in rel else 0 for g in graduates],
        dtype=np.float64,
    )


def ndcg_at(scores: np.ndarray, rel: np.ndarray, k: int = 10) -> float:
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    gains = (2.0 ** rel[order] - 1) / np.log2(np.arange(2, len(order) + 2))
    ideal = np.sort(rel)[::-1][:k]
    idcg = float(((2.0**ideal - 1) / np.log2(np.arange(2, len(ideal) + 2))).sum())
    return float(gains.sum()) / idcg if idcg > 0 else 0.0


def average_precision(scores: np.ndarray, relevant: np.ndarray) -> float:
    order = np.lexsort((np.arange(len(scores)), -scores))
    hits = relevant[order].astype(np.float64)
    if hits.sum() == 0:
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def words(text: str) -> set[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return {w.strip(".-") for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS and len(w) > 1}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demands", type=int, default=200)
    parser.add_argument(
        "--split",
        choices=["eval", "fit"],
        default="eval",
        help="occupations to build the task from: eval (report) or fit (development only: the "
        "calibration was fitted there)",
    )
    parser.add_argument("--per-occupation", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--long-tasks",
        action="store_true",
        help="demands list full O*NET task statements instead of short skill phrases",
    )
    parser.add_argument(
        "--hot-first",
        action="store_true",
        help="demands list the occupation's hot technologies first (mostly generic office software)",
    )
    args = parser.parse_args()

    from sklearn.feature_extraction.text import TfidfVectorizer

    from service.embeddings.loader import load_encoder
    from service.matching import scoring
    from service.matching.calibration import load_calibration
    from service.matching.index import GraduateIndex
    from service.matching.lexical import default_model
    from service.matching.phrase_store import PhraseStore

    t_start = time.perf_counter()
    graduates, demands, related = build(
        args.seed, args.per_occupation, args.demands, args.hot_first, args.long_tasks, split=args.split
    )
    onet = load_onet()
    if args.split == "eval":
        note = f"calibration fitted on the {len(onet.part('fit'))} disjoint fit occupations"
    else:
        note = "DEVELOPMENT RUN on the fit occupations, where the calibration was fitted"
    print(
        f"{len(graduates):,} graduates of {len(graduates) // args.per_occupation} {args.split} occupations, "
        f"{len(demands)} demands; {note}"
    )
    encoder = load_encoder("real", None, "cpu")
    cache = EmbeddingCache(encoder)
    calibration = load_calibration(encoder.name)
    lexical = default_model()

    # matcher: every graduate's phrases in the index
    phrases = sorted({s for g in graduates for s in g.skills})
    store = PhraseStore(encoder.dim, lexical, capacity=len(phrases))
    store.add(phrases, cache.embed(phrases))
    index = GraduateIndex(store, calibration, multilingual=encoder.multilingual)
    indptr = np.cumsum([0] + [len(g.skills) for g in graduates])
    index.load(list(range(len(graduates))), indptr, store.ids([s for g in graduates for s in g.skills]))

    keys = list(range(len(graduates)))

    def matcher_scores(d: DemandCase, lexis: bool = True, specificity: bool = True) -> np.ndarray:
        demand = scoring.DemandSkills.build(d.skills, cache.embed(d.skills), lexical, d.weights, d.required)
        if not lexis:
            no_lex = sp.csr_matrix(demand.lex.shape, dtype=np.float32)
            demand = scoring.DemandSkills(
                demand.names,
                demand.vecs,
                no_lex,
                demand.trust,
                demand.weights,
                demand.required,
                demand.levels,
            )
        if specificity:
            return index.scores_of(demand, keys)
        cov = calibration.coverage(store.similarity(demand, calibration, encoder.multilingual))
        return scoring.aggregate(
            index.best_evidence(cov, demand), demand.weights, demand.required, calibration
        )

    # baselines
    grad_docs = ["; ".join(g.skills) for g in graduates]
    demand_docs = ["; ".join(d.skills) for d in demands]
    grad_words = [words(doc) for doc in grad_docs]
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    tfidf.fit(grad_docs + demand_docs)
    g_tfidf = tfidf.transform(grad_docs)
    d_tfidf = tfidf.transform(demand_docs)
    g_doc_vecs = cache.embed(grad_docs)
    d_doc_vecs = cache.embed(demand_docs)
    cache.embed(sorted({s for d in demands for s in d.skills}))  # one batch; the loop reads the cache
    cache.save()

    methods = [
        "matcher (this service)",
        "  ablation: no specificity weights",
        "  ablation: encoder channel only",
        "keyword overlap",
        "TF-IDF cosine",
        "document embedding",
    ]
    results: dict[str, list[tuple[float, float, float]]] = {m: [] for m in methods}
    t_rank = time.perf_counter()
    for i, d in enumerate(demands):
        rel = relevance(d, graduates, related)
        dw = words(demand_docs[i])
        per_method = {
            methods[0]: matcher_scores(d),
            methods[1]: matcher_scores(d, specificity=False),
            methods[2]: matcher_scores(d, lexis=False),
            methods[3]: np.array([len(dw & gw) / max(1, len(dw)) for gw in grad_words]),
            methods[4]: np.asarray((g_tfidf @ d_tfidf[i].T).toarray()).ravel(),
            methods[5]: g_doc_vecs @ d_doc_vecs[i],
        }
        for name, s in per_method.items():
            results[name].append(
                (ndcg_at(s, rel), average_precision(s, rel == 2), average_precision(s, rel >= 1))
            )
    rank_s = time.perf_counter() - t_rank

    print()
    print(
        f"| method ({len(demands)} demands x {len(graduates):,} graduates) | nDCG@10 | MAP (same occupation) "
        "| MAP (same or related) |"
    )
    print("|---|---|---|---|")
    for name in methods:
        arr = np.array(results[name])
        print(f"| {name} | {arr[:, 0].mean():.3f} | {arr[:, 1].mean():.3f} | {arr[:, 2].mean():.3f} |")
    print()
    for col, label in enumerate(("nDCG@10", "MAP (same occupation)", "MAP (same or related)")):
        ours = np.mean([r[col] for r in results[methods[0]]])
        best_name = max(methods[3:], key=lambda m: np.mean([r[col] for r in results[m]]))
        best = np.mean([r[col] for r in results[best_name]])
        verdict = "beats all three baselines" if ours > best else f"does NOT beat {best_name}"
        print(f"{label}: matcher {ours:.3f}, best baseline {best:.3f} ({best_name}): {verdict}")
    print(
        f"encoder {encoder.name} {encoder.version}; {encoder.calls} encoder batches this run "
        f"(rest from bench/out cache); ranking {rank_s:.1f} s; total {time.perf_counter() - t_start:.0f} s"
    )
    print(ATTRIBUTION)


if __name__ == "__main__":
    main()
