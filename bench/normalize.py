"""Skill normalisation quality on O*NET: ``python -m bench.normalize`` (``make bench-normalize``).

Three tasks, each a taxonomy imported through the service's own importer and queried through the same
function as ``POST /v1/skills/normalize`` (top 20), with expert-made answers from O*NET 29.2:

- ``alt-title``: an occupation's alternate titles are its surface forms. Taxonomy: the 1,016
  occupations, preferred label = title, alternative labels = half of each occupation's alternate titles
  (chosen by a hash). Queries: the other half, of *eval* occupations only (``training.onet.split``),
  minus any that equal a label after normalisation (those are trivial); answer: the occupation.
- ``tech-class``: a technology ``Example`` -> its ``Commodity Title``. Taxonomy: the commodity classes,
  titles only. Queries: examples listed under exactly one class.
- ``tech-class+alt``: the same with half of each class's examples as alternative labels; queries: the
  other half.
- ``esco-half``: real ESCO labels (the v1.1.1 sample in ``tests/taxonomy/data``): half of each skill's
  alternative labels stay, the other half are the queries.

In the same run, on the same label sets, two TF-IDF baselines (scikit-learn; word 1-2-grams and
character 3-5-grams) rank skills by their best label's cosine. Reported: R@1, R@5 and MRR@20, and for
the service how often its top-1 candidate is right when its score reaches a threshold (the canonical
id needs 0.85, extraction 0.6).

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.taxonomy.importers import ParsedTaxonomy, SkillRecord
from service.text import normalize_phrase
from training.onet import ATTRIBUTION, load_onet, split

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

OUT = Path(__file__).resolve().parent / "out"
TOP = 20


def _half(text: str) -> int:
    return hashlib.sha256(normalize_phrase(text).encode()).digest()[0] % 2


@dataclass
class Task:
    name: str
    records: list[SkillRecord]
    queries: list[tuple[str, str]]  # (text, answer skill_id)
    note: str


def task_alt_title(part: str = "eval") -> Task:
    onet = load_onet()
    records = []
    queries = []
    labels: set[str] = set()
    for occ in sorted(onet.occupations.values(), key=lambda o: o.code):
        titles = list(dict.fromkeys(onet.alternate_titles.get(occ.code, [])))
        alts = tuple(
            t for t in titles if _half(t) == 0 and normalize_phrase(t) != normalize_phrase(occ.title)
        )
        records.append(
            SkillRecord(f"onet-occ:{occ.code}", occ.title, alt_labels=alts, description=occ.description)
        )
        labels.update(normalize_phrase(x) for x in (occ.title, *alts))
        if split(occ.code) == part:
            queries.extend((t, f"onet-occ:{occ.code}") for t in titles if _half(t) == 1)
    owners: dict[str, set[str]] = {}
    for text, answer in queries:
        owners.setdefault(normalize_phrase(text), set()).add(answer)
    kept = [
        (t, a)
        for t, a in queries
        if len(owners[normalize_phrase(t)]) == 1 and normalize_phrase(t) not in labels
    ]
    kept = list({normalize_phrase(t): (t, a) for t, a in kept}.values())
    note = (
        f"{len(queries) - len(kept)} queries dropped (equal to a label, or the title of several occupations)"
    )
    return Task("alt-title", records, kept, note)


def _tech() -> dict[str, tuple[str, str]]:
    onet = load_onet()
    classes: dict[str, set[str]] = {}
    titles: dict[str, str] = {}
    for occ in onet.occupations.values():
        for t in occ.tech:
            classes.setdefault(t.example, set()).add(t.commodity_code)
            titles[t.commodity_code] = t.commodity_title
    return {e: (next(iter(c)), titles[next(iter(c))]) for e, c in classes.items() if len(c) == 1}


def task_tech_class(with_alts: bool) -> Task:
    examples = _tech()
    titles = {code: title for code, title in examples.values()}
    alts: dict[str, list[str]] = {}
    queries = []
    for example, (code, _) in sorted(examples.items()):
        if with_alts and _half(example) == 0:
            alts.setdefault(code, []).append(example)
        else:
            queries.append((example, f"onet-class:{code}"))
    records = [
        SkillRecord(f"onet-class:{code}", title, alt_labels=tuple(alts.get(code, [])))
        for code, title in sorted(titles.items())
    ]
    label_norms = {normalize_phrase(r.preferred_label) for r in records}
    label_norms |= {normalize_phrase(a) for r in records for a in r.alt_labels}
    kept = [(t, a) for t, a in queries if normalize_phrase(t) not in label_norms]
    return Task("tech-class+alt" if with_alts else "tech-class", records, kept, f"{len(titles)} classes")


# -- the service ---------------------------------------------------------------------------------


class Service:
    """A bench database with one task's taxonomy, queried like ``POST /v1/skills/normalize``."""

    def __init__(self, task: Task, encoder: Any, fresh: bool = False) -> None:
        from service.db import make_engine, make_sessionmakers
        from service.migrate import upgrade
        from service.taxonomy.importing import import_taxonomy
        from service.taxonomy.runtime import TaxonomyRuntime, attach

        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"normalize-{task.name}.db"
        if fresh and path.exists():
            path.unlink()
        url = f"sqlite:///{path}"
        upgrade(url)
        self.engine = make_engine(url)
        self.read, self.write = make_sessionmakers(self.engine)
        self.runtime = TaxonomyRuntime(lambda: encoder)
        attach([self.read, self.write], self.runtime)
        parsed = ParsedTaxonomy("bench", "1", task.records)
        began = time.perf_counter()
        summary = import_taxonomy(self.write, encoder, parsed)
        self.import_seconds = time.perf_counter() - began
        self.embedded = summary.embedded

    def rank(self, texts: list[str]) -> list[list[str]]:
        from service.taxonomy import service as taxonomy_service

        out: list[list[str]] = []
        with self.read() as session:
            for start in range(0, len(texts), 100):
                results = taxonomy_service.normalize(session, texts[start : start + 100], top_k=TOP)
                out.extend([c.skill_id for c in cands] for _, cands in results)
        return out

    def close(self) -> None:
        self.engine.dispose()


def tfidf_rank(task: Task, texts: list[str], analyzer: str) -> list[list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    labels: list[str] = []
    owner: list[int] = []
    for i, r in enumerate(task.records):
        for label, _ in r.labels():
            labels.append(label)
            owner.append(i)
    if analyzer == "word":
        vec = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)
    x = vec.fit_transform(labels)
    owner_arr = np.asarray(owner)
    n_skills = len(task.records)
    out = []
    for start in range(0, len(texts), 500):
        sims = (vec.transform(texts[start : start + 500]) @ x.T).toarray()
        per_skill = np.full((sims.shape[0], n_skills), -1.0)
        np.maximum.at(per_skill.T, owner_arr, sims.T)
        order = np.argsort(-per_skill, axis=1, kind="stable")[:, :TOP]
        out.extend([[task.records[j].skill_id for j in row] for row in order])
    return out


def metrics(ranked: list[list[str]], answers: list[str]) -> dict[str, float]:
    r1 = r5 = rr = 0.0
    for got, want in zip(ranked, answers, strict=True):
        if want in got:
            pos = got.index(want)
            rr += 1.0 / (pos + 1)
            r1 += pos == 0
            r5 += pos < 5
    n = max(len(answers), 1)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR": rr / n}


# -- thresholds --------------------------------------------------------------------------------


ESCO_SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "taxonomy" / "data" / "esco_sample"


def task_esco_half() -> Task:
    """The ESCO sample (real ESCO labels, not O*NET): half of each skill's alternative labels stay in
    the taxonomy, the other half are queries whose answer is their skill."""
    from service.taxonomy.importers import parse_esco

    parsed = parse_esco(ESCO_SAMPLE)
    records = []
    queries = []
    for r in parsed.records:
        keep = tuple(a for a in r.alt_labels if _half(a) == 0)
        records.append(SkillRecord(r.skill_id, r.preferred_label, alt_labels=keep))
        queries.extend((a, r.skill_id) for a in r.alt_labels if _half(a) == 1)
    labels = {normalize_phrase(x) for r in records for x, _ in r.labels()}
    kept = [(t, a) for t, a in queries if normalize_phrase(t) not in labels]
    return Task("esco-half", records, kept, "ESCO v1.1.1 sample")


def threshold_table(
    service: Service, task: Task, queries: list[tuple[str, str]]
) -> list[tuple[float, float, float]]:
    """(threshold, share of queries whose top-1 score reaches it, precision of those top-1s)."""
    from service.taxonomy import service as taxonomy_service

    texts = [t for t, _ in queries]
    tops: list[tuple[str, float]] = []
    with service.read() as session:
        for start in range(0, len(texts), 100):
            for _, cands in taxonomy_service.normalize(session, texts[start : start + 100], top_k=1):
                tops.append((cands[0].skill_id, cands[0].score) if cands else ("", 0.0))
    rows = []
    for t in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9):
        chosen = [(got, want) for (got, score), (_, want) in zip(tops, queries, strict=True) if score >= t]
        right = sum(got == want for got, want in chosen)
        rows.append((t, len(chosen) / max(len(queries), 1), right / max(len(chosen), 1)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=2000, help="queries per task (sampled, seeded)")
    parser.add_argument("--encoder", choices=("real", "fake"), default="real")
    parser.add_argument("--device", default=os.environ.get("TALENTMATCH_ENCODER_DEVICE", "cpu"))
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench databases (cold cache)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--tasks", default="alt-title,tech-class,tech-class+alt,esco-half")
    args = parser.parse_args()

    from service.embeddings.loader import load_encoder

    encoder = load_encoder(args.encoder, None, args.device)
    builders = {
        "alt-title": task_alt_title,
        "tech-class": lambda: task_tech_class(False),
        "tech-class+alt": lambda: task_tech_class(True),
        "esco-half": task_esco_half,
    }
    rows = []
    for name in args.tasks.split(","):
        task = builders[name]()
        rng = random.Random(args.seed)
        queries = rng.sample(task.queries, min(args.queries, len(task.queries)))
        texts = [t for t, _ in queries]
        answers = [a for _, a in queries]
        service = Service(task, encoder, fresh=args.fresh)
        began = time.perf_counter()
        ranked = service.rank(texts)
        per_query = (time.perf_counter() - began) / max(len(texts), 1) * 1000
        thresholds = threshold_table(service, task, queries)
        service.close()
        n_labels = sum(1 + len(r.alt_labels) for r in task.records)
        print(
            f"\n{name}: {len(task.records):,} skills, {n_labels:,} labels, "
            f"{len(texts):,} queries ({task.note}); "
            f"import {service.import_seconds:.1f} s ({service.embedded:,} labels embedded), "
            f"service {per_query:.1f} ms/query"
        )
        for method, result in (
            (f"service ({encoder.name})", ranked),
            ("TF-IDF words 1-2", tfidf_rank(task, texts, "word")),
            ("TF-IDF chars 3-5", tfidf_rank(task, texts, "char")),
        ):
            m = metrics(result, answers)
            rows.append((name, method, m))
            print(f"  {method:<32} R@1 {m['R@1']:.3f}  R@5 {m['R@5']:.3f}  MRR {m['MRR']:.3f}")
        print(
            "  service top-1 by score: "
            + "; ".join(
                f">= {t:.2f}: {share:.0%} of queries, {prec:.0%} right" for t, share, prec in thresholds
            )
        )
    print(f"\nencoder {encoder.name} {encoder.version} on {args.device}; seed {args.seed}. {ATTRIBUTION}")


if __name__ == "__main__":
    main()
