"""Curriculum gap analysis on O*NET 29.2 with known answers: ``python -m bench.gaps``.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.

Cases (one per occupation, built deterministically from its code):

- the **demand** asks for ten skills of the occupation: six of its tasks, written short as an employer
  would ("Inspect welded joints", "Operating machine tools"), and four classes of its technology
  ("Desktop publishing software", the O*NET commodity title);
- the **curriculum** teaches a known half of them, paraphrased, never copied: a task becomes a
  learning outcome in other words (the full task statement with its leading verb replaced by a
  synonym, behind an outcome phrase such as "Students will be able to ..."); a technology class is
  taught through one of the occupation's concrete tools of that class, either as a learning outcome
  ("Hands-on practice with Adobe InDesign" for "Desktop publishing software") or as a course's tagged
  skill ("Adobe InDesign"), with no word in common;
- the curriculum also teaches things that are *not* demanded, to be hard to tell apart: two other tasks
  of the same occupation, one tool of a technology class that is not demanded, and a general course
  of three tasks of an occupation of another major group;
- the other half of the demand are the **expected gaps**.

Scores compared on the same cases, in the same run:

- **service**: the gap analysis as the API runs it (``service.gaps.service.analyse_curriculum``: same
  encoder, lexical channel, fused similarity, calibrated coverage and the shipped status thresholds of
  ``models/gap_thresholds.json``). Predicted gap = status not ``covered`` (``gap`` or ``partial``:
  what the report tells a school to add, and what a training order's curriculum additions take); the
  row "status gap only" counts only ``gap``;
- **keyword overlap**: share of the skill's content words (lightly stemmed) found in a curriculum item,
  best item;
- **TF-IDF**: cosine of word 1-2-gram TF-IDF vectors (fitted on the case texts), best item.

Metrics: precision, recall and F1 of the predicted gaps against the expected gaps, and the AUROC of the
coverage score (covered = positive). The baselines' gap thresholds maximise gap F1 on cases built from
the *fit* occupations (``training.onet.split``), disjoint from the *eval* occupations reported; the
service is reported with the thresholds it ships and, for reference, with a threshold fitted the same
way as the baselines'.

``--fit`` first refits the shipped thresholds on the fit cases and writes ``models/gap_thresholds.json``
(``covered``: Youden's J; ``partial``: reached by 95 % of the taught skills; see
:mod:`service.gaps.calibration`). Other options: ``--limit N`` occupations per split, ``--json``,
``--encoder fake`` (the test encoder). Exit status 0 when the service beats both baselines on gap F1
and AUROC. The first run embeds about 30,000 phrases (minutes on two cores); the vectors are kept in
``bench/out`` for the next runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.gap_thresholds import auroc, fit_status_thresholds, write_thresholds
from training.onet import ATTRIBUTION, VERB_LIST, Occupation, Onet, load_onet, task_fragment

SERVICE = "service (gap = not covered)"
N_TASK_SKILLS = 6
N_TECH_SKILLS = 4
COVERED_SHARE = 0.5

# Verb paraphrases for learning outcomes (hand-written; none is taken from the encoder).
VERB_SYNONYMS: dict[str, str] = {
    "maintain": "keep up",
    "prepare": "draw up",
    "provide": "supply",
    "perform": "carry out",
    "conduct": "carry out",
    "develop": "build",
    "monitor": "keep track of",
    "evaluate": "appraise",
    "review": "go over",
    "operate": "run",
    "analyze": "break down and interpret",
    "supervise": "oversee",
    "inspect": "examine",
    "direct": "lead",
    "coordinate": "organise",
    "confer": "consult",
    "participate in": "take part in",
    "record": "log",
    "test": "check",
    "write": "author",
    "examine": "inspect",
    "implement": "put in place",
    "determine": "work out",
    "collaborate": "work together",
    "remove": "take off",
    "adjust": "tune",
    "install": "fit",
    "advise": "counsel",
    "apply": "use",
    "repair": "fix",
    "read": "interpret",
    "design": "lay out",
    "recommend": "propose",
    "clean": "wash",
    "identify": "recognise",
    "train": "coach",
    "administer": "manage",
    "keep": "hold",
    "select": "choose",
    "arrange": "organise",
    "interpret": "make sense of",
    "collect": "gather",
    "verify": "confirm",
    "check": "verify",
    "observe": "watch",
    "assess": "judge",
    "study": "look into",
    "measure": "gauge",
    "assist": "help",
    "create": "produce",
    "manage": "run",
    "attend": "go to",
    "consult": "confer with",
    "grade": "mark",
    "instruct": "teach",
    "replace": "swap out",
    "use": "work with",
    "communicate": "convey",
    "document": "write up",
    "obtain": "acquire",
    "deliver": "hand over",
    "teach": "instruct",
    "compile": "assemble",
    "make": "produce",
    "investigate": "probe",
    "explain": "clarify",
    "report": "communicate",
    "oversee": "supervise",
    "cut": "trim",
    "answer": "respond to",
    "assemble": "put together",
    "plan": "schedule",
    "meet": "get together",
    "establish": "set up",
    "contact": "reach out to",
    "calculate": "compute",
    "place": "put",
    "schedule": "plan",
    "inform": "notify",
    "refer": "direct",
    "modify": "alter",
    "attach": "fasten",
    "treat": "care for",
    "estimate": "approximate",
    "interview": "question",
    "position": "set",
    "drive": "steer",
    "revise": "rework",
    "take": "get",
    "mark": "label",
    "move": "shift",
    "present": "show",
    "negotiate": "bargain over",
    "start": "launch",
    "research": "investigate",
    "enforce": "uphold",
    "compute": "calculate",
    "respond": "reply",
    "set": "place",
    "process": "handle",
    "order": "requisition",
    "counsel": "advise",
    "complete": "finish",
    "distribute": "hand out",
    "secure": "fasten",
    "issue": "give out",
    "mix": "blend",
    "control": "regulate",
    "connect": "link",
    "compare": "contrast",
    "update": "refresh",
    "submit": "file",
    "assign": "allocate",
    "set up": "install",
    "transport": "carry",
    "load": "put",
    "resolve": "settle",
    "demonstrate": "show",
    "discuss": "talk through",
    "follow": "observe",
    "fill": "top up",
    "tend": "look after",
    "draw": "sketch",
    "sell": "market",
    "enter": "key in",
    "fabricate": "build",
    "lubricate": "oil",
    "store": "stow",
    "notify": "alert",
    "produce": "make",
    "weigh": "gauge the weight of",
    "align": "line up",
    "approve": "sign off",
    "polish": "buff",
    "receive": "accept",
    "organize": "arrange",
    "disassemble": "take apart",
    "edit": "revise",
    "purchase": "buy",
    "gather": "collect",
}
OUTCOME_TEMPLATES = (
    "Students will be able to {x}",
    "Able to {x}",
    "Learners can {x}",
    "Graduates are able to {x} independently",
    "Practise how to {x}",
)
TOOL_TEMPLATES = (
    "Hands-on practice with {x}",
    "Use {x} in daily work",
    "Projects built with {x}",
    "Working knowledge of {x}",
)
COURSE_TITLES = (
    "Professional practice",
    "Workplace technology",
    "Core techniques",
    "Applied project",
    "General studies",
    "Foundations",
)


@dataclass
class DemandedSkill:
    text: str
    covered: bool
    kind: str  # "task" | "tech"


@dataclass
class Case:
    code: str
    title: str
    skills: list[DemandedSkill]
    courses: list[dict[str, Any]] = field(default_factory=list)


def _rng(code: str, salt: str = "") -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(f"{code}{salt}".encode()).digest()[:8], "big"))


def paraphrase_task(task: str, rng: random.Random) -> str:
    """A learning outcome for a task, in other words: leading verb list -> one synonym verb."""
    text = task.strip().rstrip(".")
    match = VERB_LIST.match(text)
    if match is None:
        body = text[:1].lower() + text[1:]
    else:
        verb = match.group("verb").lower()
        body = f"{VERB_SYNONYMS.get(verb, verb)} {match.group('rest')}"
    return rng.choice(OUTCOME_TEMPLATES).format(x=body)


def _skill_phrase(task: str, variant: int) -> str:
    return task_fragment(task, variant)


def _usable_tasks(occ: Occupation) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in sorted(occ.tasks, key=lambda t: (not t.core, t.task_id)):
        frag = task_fragment(t.text, 0).casefold()
        if len(frag.split()) >= 2 and frag not in seen:
            seen.add(frag)
            out.append(t.text)
    return out


def _tech_classes(occ: Occupation) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {}
    for t in occ.tech:
        classes.setdefault(t.commodity_title, []).append(t.example)
    return {k: sorted(set(v)) for k, v in classes.items()}


def build_case(occ: Occupation, others: Sequence[Occupation]) -> Case | None:
    """One known-answer case from an occupation, or None when it has too few tasks or tools."""
    rng = _rng(occ.code)
    tasks = _usable_tasks(occ)
    classes = _tech_classes(occ)
    if len(tasks) < N_TASK_SKILLS + 2 or len(classes) < N_TECH_SKILLS + 1:
        return None
    rng.shuffle(tasks)
    demand_tasks, extra_tasks = tasks[:N_TASK_SKILLS], tasks[N_TASK_SKILLS : N_TASK_SKILLS + 2]
    class_names = sorted(classes)
    rng.shuffle(class_names)
    demand_classes, extra_class = class_names[:N_TECH_SKILLS], class_names[N_TECH_SKILLS]

    items: list[tuple[str, str, str]] = []  # (kind, skill phrase, source)
    for i, task in enumerate(demand_tasks):
        items.append(("task", _skill_phrase(task, i % 2), task))
    items.extend(("tech", name, name) for name in demand_classes)
    covered_idx = set(rng.sample(range(len(items)), round(len(items) * COVERED_SHARE)))

    practice: list[str] = []
    tools: list[str] = []
    tagged: list[str] = []
    skills: list[DemandedSkill] = []

    def teach_tool(commodity: str) -> None:
        tool = rng.choice(classes[commodity])
        if rng.random() < 0.5:
            tagged.append(tool)  # a course's tagged skill
        else:
            tools.append(rng.choice(TOOL_TEMPLATES).format(x=tool))

    for i, (kind, phrase, source) in enumerate(items):
        covered = i in covered_idx
        skills.append(DemandedSkill(phrase, covered, kind))
        if not covered:
            continue
        if kind == "task":
            practice.append(paraphrase_task(source, rng))
        else:
            teach_tool(source)
    practice.extend(paraphrase_task(t, rng) for t in extra_tasks)
    teach_tool(extra_class)
    rng.shuffle(practice)
    rng.shuffle(tools)

    major = occ.code[:2]
    pool = [o for o in others if o.code[:2] != major and len(o.tasks) >= 3]
    other = pool[rng.randrange(len(pool))]
    general = [paraphrase_task(t.text, rng) for t in rng.sample(other.tasks, 3)]
    titles = rng.sample(COURSE_TITLES, 3)
    courses = [
        {"title": titles[0], "learning_outcomes": practice, "skills": []},
        {"title": titles[1], "learning_outcomes": tools, "skills": tagged},
        {"title": titles[2], "learning_outcomes": general, "skills": []},
    ]
    return Case(occ.code, occ.title, skills, courses)


def build_cases(onet: Onet, part: str, limit: int | None = None) -> list[Case]:
    occs = sorted(onet.part(part), key=lambda o: o.code)
    everyone = sorted((o for o in onet.occupations.values() if o.tasks), key=lambda o: o.code)
    cases = []
    for occ in occs:
        case = build_case(occ, everyone)
        if case is not None:
            cases.append(case)
        if limit is not None and len(cases) >= limit:
            break
    return cases


# --- baselines ------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "the",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "be",
        "can",
        "will",
        "able",
        "use",
        "using",
        "into",
        "their",
        "its",
        "other",
        "such",
        "students",
        "learners",
        "graduates",
        "practise",
        "practice",
        "how",
    ]
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ers", "er", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w.strip(".")) for w in _WORD.findall(text.lower()) if w not in _STOP}


def keyword_scores(skills: Sequence[str], items: Sequence[str]) -> np.ndarray:
    """Per skill: the largest share of its content words found in one curriculum item."""
    item_words = [content_words(t) for t in items]
    out = np.zeros(len(skills), dtype=np.float64)
    for i, skill in enumerate(skills):
        words = content_words(skill)
        if words and item_words:
            out[i] = max(len(words & iw) / len(words) for iw in item_words)
    return out


def tfidf_scorer(corpus: Sequence[str]) -> Callable[[Sequence[str], Sequence[str]], np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english", min_df=1)
    vec.fit(list(corpus))

    def score(skills: Sequence[str], items: Sequence[str]) -> np.ndarray:
        if not items:
            return np.zeros(len(skills))
        a = vec.transform(list(skills))
        b = vec.transform(list(items))
        return np.asarray((a @ b.T).max(axis=1).toarray()).ravel()

    return score


def case_items(case: Case) -> list[str]:
    out = []
    for c in case.courses:
        out.append(c["title"])
        out.extend(c["learning_outcomes"])
        out.extend(c["skills"])
    return out


# --- metrics --------------------------------------------------------------------------------------


def gap_prf(predicted_gap: np.ndarray, true_gap: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(predicted_gap & true_gap))
    fp = float(np.sum(predicted_gap & ~true_gap))
    fn = float(np.sum(~predicted_gap & true_gap))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def fit_gap_threshold(scores: np.ndarray, true_gap: np.ndarray) -> float:
    """The score below which a skill is called a gap that maximises gap F1 (midpoints between scores)."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    best_t, best_f = float(candidates[0]), -1.0
    for t in candidates:
        f = gap_prf(scores < t, true_gap)[2]
        if f > best_f:
            best_t, best_f = float(t), f
    return best_t


# --- the service ----------------------------------------------------------------------------------


def service_scores(cases: Sequence[Case], scorer: Any) -> list[dict[str, Any]]:
    """Run the service's gap analysis on each case: per skill its coverage and status."""
    from service.gaps.service import analyse_curriculum

    out = []
    for case in cases:
        report = analyse_curriculum(
            scorer=scorer,
            courses=case.courses,
            demands=[
                {
                    "id": None,
                    "headcount": 1,
                    "skills": [{"name": s.text, "importance": 3} for s in case.skills],
                }
            ],
            group=False,
            program_id=None,
            scope={"kind": "request", "demands": 1, "headcount": 1},
        )
        by_skill = {row["skill"]: row for row in report["skills"]}
        out.append({s.text: by_skill[s.text] for s in case.skills})
    return out


def _flatten(cases: Sequence[Case]) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts = [s.text for c in cases for s in c.skills]
    covered = np.array([s.covered for c in cases for s in c.skills], dtype=bool)
    kinds = np.array([s.kind for c in cases for s in c.skills])
    return texts, covered, kinds


def _baseline_scores(
    cases: Sequence[Case], scorer: Callable[[Sequence[str], Sequence[str]], np.ndarray]
) -> np.ndarray:
    return np.concatenate([scorer([s.text for s in c.skills], case_items(c)) for c in cases])


def evaluate(limit: int | None, encoder_backend: str = "real", fit: bool = False) -> dict[str, Any]:
    from service.embeddings.loader import load_encoder
    from service.gaps.service import Scorer
    from training.onet import EmbeddingCache

    onet = load_onet()
    fit_cases = build_cases(onet, "fit", limit)
    eval_cases = build_cases(onet, "eval", limit)
    encoder = load_encoder(encoder_backend)
    cache = EmbeddingCache(encoder, persist=encoder_backend == "real")
    scorer = Scorer.for_encoder(encoder, cache.embed)
    _, fit_covered, _ = _flatten(fit_cases)
    _, eval_covered, eval_kinds = _flatten(eval_cases)
    fit_gap, eval_gap = ~fit_covered, ~eval_covered

    def service_arrays(rows: list[dict[str, Any]], cases: Sequence[Case]) -> tuple[np.ndarray, np.ndarray]:
        cov = np.array([rows[i][s.text]["coverage"] for i, c in enumerate(cases) for s in c.skills])
        status = np.array([rows[i][s.text]["status"] for i, c in enumerate(cases) for s in c.skills])
        return cov, status

    fit_rows = service_scores(fit_cases, scorer)
    fit_cov, _ = service_arrays(fit_rows, fit_cases)
    # the score the statuses apply to (after competition and the hub discount), back from its coverage
    fit_sim = np.array(
        [scorer.calibration.similarity_at(c) if c > 0 else -1.0 for c in fit_cov], dtype=np.float64
    )
    fit_plain = np.array(
        [fit_rows[i][s.text]["similarity"] for i, c in enumerate(fit_cases) for s in c.skills]
    )
    fitted = fit_status_thresholds(fit_sim, fit_covered, scorer.calibration, fit_plain)
    if fit:
        write_thresholds(encoder, fitted, len(fit_cases))
    started = time.perf_counter()
    eval_rows = service_scores(eval_cases, scorer)  # statuses with the shipped thresholds
    service_seconds = time.perf_counter() - started
    cache.save()
    eval_cov, eval_status = service_arrays(eval_rows, eval_cases)

    corpus = [t for c in [*fit_cases, *eval_cases] for t in [*case_items(c), *(s.text for s in c.skills)]]
    tfidf = tfidf_scorer(corpus)
    methods: dict[str, dict[str, Any]] = {}

    def report(name: str, scores: np.ndarray, predicted_gap: np.ndarray, threshold: float | None) -> None:
        p, r, f = gap_prf(predicted_gap, eval_gap)
        by_kind = {}
        for kind in ("task", "tech"):
            m = eval_kinds == kind
            by_kind[kind] = {
                "gap_f1": round(gap_prf(predicted_gap[m], eval_gap[m])[2], 3),
                "auroc": round(auroc(scores[m], eval_covered[m]), 3),
            }
        methods[name] = {
            "gap_precision": round(p, 3),
            "gap_recall": round(r, 3),
            "gap_f1": round(f, 3),
            "auroc": round(auroc(scores, eval_covered), 3),
            "gap_threshold": None if threshold is None else round(threshold, 4),
            "by_kind": by_kind,
        }

    th = scorer.thresholds
    report(SERVICE, eval_cov, eval_status != "covered", th.met)
    report("service, status gap only", eval_cov, eval_status == "gap", th.partial)
    t_service = fit_gap_threshold(fit_cov, fit_gap)
    report("service, F1-fitted threshold", eval_cov, eval_cov < t_service, t_service)
    for name, baseline in (("keyword overlap", keyword_scores), ("TF-IDF", tfidf)):
        fit_scores = _baseline_scores(fit_cases, baseline)
        eval_scores = _baseline_scores(eval_cases, baseline)
        t = fit_gap_threshold(fit_scores, fit_gap)
        report(name, eval_scores, eval_scores < t, t)

    return {
        "cases": {"fit": len(fit_cases), "eval": len(eval_cases)},
        "skills": {"eval": len(eval_gap), "eval_gaps": int(eval_gap.sum())},
        "encoder": f"{encoder.name} {encoder.version}",
        "thresholds": {"covered": th.met, "partial": th.partial},
        "fitted_on_fit_split": fitted,
        "service_seconds": round(service_seconds, 1),
        "methods": methods,
    }


def _print(result: dict[str, Any]) -> None:
    print(ATTRIBUTION)
    print(
        f"\ncurriculum gaps on O*NET 29.2: {result['cases']['eval']} eval cases "
        f"({result['skills']['eval']} demanded skills, {result['skills']['eval_gaps']} expected gaps); "
        f"baseline thresholds fitted on {result['cases']['fit']} fit cases"
    )
    print(f"encoder {result['encoder']}; service thresholds {result['thresholds']}")
    print(f"fitted on the fit split now: {result['fitted_on_fit_split']['thresholds']}")
    header = (
        f"{'method':42} {'gap P':>6} {'gap R':>6} {'gap F1':>7} {'AUROC':>6}  "
        f"{'task F1/AUROC':>14} {'tech F1/AUROC':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, m in result["methods"].items():
        task, tech = m["by_kind"]["task"], m["by_kind"]["tech"]
        print(
            f"{name:42} {m['gap_precision']:6.3f} {m['gap_recall']:6.3f} {m['gap_f1']:7.3f} {m['auroc']:6.3f}"
            f"  {task['gap_f1']:6.3f}/{task['auroc']:.3f} {tech['gap_f1']:7.3f}/{tech['auroc']:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="at most N occupations per split")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--encoder", choices=("real", "fake"), default="real")
    parser.add_argument(
        "--fit", action="store_true", help="refit the status thresholds and write models/gap_thresholds.json"
    )
    args = parser.parse_args(argv)
    result = evaluate(args.limit, args.encoder, args.fit)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result)
    service, kw, tf = (result["methods"][k] for k in (SERVICE, "keyword overlap", "TF-IDF"))
    beats = all(service[m] > other[m] for other in (kw, tf) for m in ("gap_f1", "auroc"))
    print(f"\nservice beats keyword overlap and TF-IDF on gap F1 and AUROC: {'yes' if beats else 'NO'}")
    return 0 if beats else 1


if __name__ == "__main__":
    sys.exit(main())
