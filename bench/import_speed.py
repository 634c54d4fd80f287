"""Import speed through the real CLI: ``python -m bench.import_speed esco|graduates``.

``esco``: the full ESCO export has 13,896 skills and about 100,000 labels; only a 514-skill sample is
here, so this writes a file in exactly the same format (``skills_en.csv``: the 13 columns of the
official export, CRLF, ``altLabels`` newline-separated inside a quoted field) scaled to ``--skills``
skills and ``--labels`` labels, built from O*NET 29.2 phrases (technology examples, alternate titles,
task-statement fragments, commodity titles) and label variants like ESCO's ("use X", "X skills",
"knowledge of X", ...). Then, on a fresh database and a cold embedding cache, it times
``talentmatch taxonomy import esco DIR`` (model load included), and a re-import (embeds nothing).

``graduates``: writes a CSV of ``--graduates`` graduates (about 15 skills each, levels, certificates)
from ``--programmes`` programmes, each drawing on one O*NET occupation's technology examples and
task fragments in graduates' surface forms (plus a few skills of other occupations), so the number of
distinct phrases is what a school's export has (a few thousand); with the O*NET taxonomy imported
first, it times ``talentmatch import graduates`` with a cold phrase cache, then the re-import.

Everything runs in subprocesses of the CLI with ``TALENTMATCH_ENCODER_DEVICE`` as given (``--device``),
on SQLite in a temporary folder unless ``--database-url`` names an empty PostgreSQL database.
Targets (2 cores): ESCO import <= 10 min; 10,000 graduates <= 60 s; re-imports embed nothing.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from training.onet import ATTRIBUTION, load_onet, onet_dir, task_fragment, tech_variant

ROOT = Path(__file__).resolve().parents[1]
ESCO_HEADER = [
    "conceptType",
    "conceptUri",
    "skillType",
    "reuseLevel",
    "preferredLabel",
    "altLabels",
    "hiddenLabels",
    "status",
    "modifiedDate",
    "scopeNote",
    "definition",
    "inScheme",
    "description",
]
VARIANTS = (
    "use {}",
    "{} skills",
    "knowledge of {}",
    "apply {}",
    "working with {}",
    "{} expertise",
    "operate {}",
    "perform {}",
    "{} practice",
    "manage {}",
)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def build_esco_file(folder: Path, skills: int, labels: int, seed: int = 7) -> tuple[int, int]:
    """Write ``folder/skills_en.csv``; returns (skills, labels) written."""
    onet = load_onet()
    rng = random.Random(seed)
    base: list[str] = []
    for occ in sorted(onet.occupations.values(), key=lambda o: o.code):
        base.extend(t.example for t in occ.tech)
        base.extend(t.commodity_title for t in occ.tech)
        base.extend(task_fragment(t.text, 0) for t in occ.tasks)
        base.extend(onet.alternate_titles.get(occ.code, []))
    seen: set[str] = set()
    unique = []
    for phrase in base:
        key = _norm(phrase)
        if key and key not in seen and len(phrase) <= 120:
            seen.add(key)
            unique.append(phrase)
    rng.shuffle(unique)
    if len(unique) < skills * 2:
        raise SystemExit(f"only {len(unique)} distinct O*NET phrases; ask for fewer skills")
    preferred = unique[:skills]
    spare = unique[skills:]
    used: set[str] = {_norm(p) for p in preferred}
    per_skill = (labels - skills) / skills
    tasks = [t.text for o in onet.occupations.values() for t in o.tasks]
    written_labels = 0
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "skills_en.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(ESCO_HEADER)
        for i, pref in enumerate(preferred):
            want = int(per_skill) + (1 if rng.random() < per_skill - int(per_skill) else 0)
            alts: list[str] = []
            if spare and rng.random() < 0.5:
                other = spare.pop()
                if _norm(other) not in used:
                    used.add(_norm(other))
                    alts.append(other)
            for template in rng.sample(VARIANTS, len(VARIANTS)):
                if len(alts) >= want:
                    break
                label = template.format(pref[:1].lower() + pref[1:] if not pref[:2].isupper() else pref)
                if _norm(label) not in used:
                    used.add(_norm(label))
                    alts.append(label)
            written_labels += 1 + len(alts)
            writer.writerow(
                [
                    "KnowledgeSkillCompetence",
                    f"http://data.europa.eu/esco/skill/bench-{i:05d}",
                    "skill/competence" if i % 3 else "knowledge",
                    "sector-specific",
                    pref,
                    "\n".join(alts),
                    "",
                    "released",
                    "2023-12-01T10:00:00Z",
                    "",
                    "",
                    "http://data.europa.eu/esco/concept-scheme/skills",
                    rng.choice(tasks),
                ]
            )
    return skills, written_labels


def _env(database_url: str, device: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TALENTMATCH_DATABASE_URL": database_url,
            "TALENTMATCH_ENCODER_DEVICE": device,
            "TALENTMATCH_ENCODER_BACKEND": env.get("TALENTMATCH_ENCODER_BACKEND", "real"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "COLUMNS": "160",
        }
    )
    return env


def cli(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``talentmatch ARGS``; (wall seconds, output). Fails loudly on a non-zero exit."""
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from service.cli import app; app()", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(
            f"talentmatch {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return seconds, proc.stdout


def cell(output: str, name: str) -> str:
    match = re.search(rf"│ {re.escape(name)}\s*│ ([^│]*?)\s*│", output)
    return match.group(1) if match else "?"


def _database(args: argparse.Namespace, tmp: Path) -> str:
    return args.database_url or f"sqlite:///{tmp / 'bench.db'}"


def run_esco(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "ESCO dataset - v1.2.0 - classification - en - csv"
        skills, labels = build_esco_file(folder, args.skills, args.labels)
        size = (folder / "skills_en.csv").stat().st_size
        print(f"scaled ESCO-format file: {skills:,} skills, {labels:,} labels, {size / 1e6:.1f} MB")
        env = _env(_database(args, tmp), args.device)
        cli(["migrate"], env)
        seconds, out = cli(["taxonomy", "import", "esco", str(folder)], env)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"import (cold cache, model load included): {seconds:.1f} s; "
            f"{labels / seconds:,.0f} labels/s overall"
        )
        print(f"  created {cell(out, 'created')}, labels embedded {cell(out, 'labels embedded now')}")
        print(f"  service time: {cell(out, 'time')}; peak RSS of the CLI process: {peak:.0f} MB")
        seconds, out = cli(["taxonomy", "import", "esco", str(folder)], env)
        print(
            f"re-import: {seconds:.1f} s; created {cell(out, 'created')}, "
            f"unchanged {cell(out, 'unchanged')}, "
            f"labels embedded {cell(out, 'labels embedded now')}"
        )
        index_figures(_database(args, tmp), args.device)
    print(f"device: {args.device}; cores: {os.cpu_count()}; {ATTRIBUTION}")


def index_figures(database_url: str, device: str) -> None:
    """In this process: build the in-memory taxonomy index from the database (what each API process
    does at start and after an import), then time normalize calls on it; report resident memory."""
    from service.db import make_engine, make_sessionmakers
    from service.embeddings.loader import load_encoder
    from service.taxonomy import service as taxonomy_service
    from service.taxonomy.runtime import TaxonomyRuntime, attach

    encoder = load_encoder(os.environ.get("TALENTMATCH_ENCODER_BACKEND", "real"), None, device)
    engine = make_engine(database_url)
    read, write = make_sessionmakers(engine)
    runtime = TaxonomyRuntime(lambda: encoder)
    attach([read, write], runtime)
    rss0 = _rss_mb()
    with read() as session:
        began = time.perf_counter()
        index = runtime.index(session)
        load = time.perf_counter() - began
    rss1 = _rss_mb()
    texts = ["use spreadsheets", "CNC machining", "Python programming", "read engineering drawings"] * 25
    timings = []
    for i in range(5):
        batch = [f"{t} {i}" for t in texts]
        with read() as session:
            began = time.perf_counter()
            taxonomy_service.normalize(session, batch, top_k=5)
            timings.append(time.perf_counter() - began)
    with read() as session:
        began = time.perf_counter()
        prefixes = (
            "dat weld cnc spread prog manag repair pyth acc sol inst oper elec mach test writ sell driv"
        )
        for prefix in prefixes.split():
            taxonomy_service.search(session, prefix, limit=10)
        search_ms = (time.perf_counter() - began) / len(prefixes.split()) * 1000
    engine.dispose()
    print(
        f"in-memory index: {len(index):,} skills, {len(index.label_norm):,} labels built in {load:.1f} s, "
        f"+{rss1 - rss0:.0f} MB resident (process {rss1:.0f} MB)"
    )
    print(
        f"normalize, 100 new texts per call: median {sorted(timings)[2] * 1000:.0f} ms (embedding included); "
        f"autocomplete (new query each time): {search_ms:.0f} ms per call"
    )


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def build_graduates_file(path: Path, graduates: int, programmes: int, seed: int = 11) -> int:
    """Write the CSV; returns the number of distinct skill phrases in it."""
    onet = load_onet()
    rng = random.Random(seed)
    occupations = [o for o in sorted(onet.occupations.values(), key=lambda o: o.code) if len(o.tech) >= 10]
    chosen = rng.sample(occupations, programmes)
    pools: list[list[str]] = []
    for occ in chosen:
        pool = []
        for t in occ.tech[:40]:
            pool.append(t.example)
            pool.append(tech_variant(t.example, rng.randrange(2)))
        for i, task in enumerate(occ.tasks[:25]):
            pool.append(task_fragment(task.text, i))
        pools.append(list(dict.fromkeys(pool)))
    distinct: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_ref", "program_id", "graduation_year", "skills", "certificates"])
        for n in range(graduates):
            p = n % programmes
            names: list[str] = []
            while len(names) < 15:
                pool = pools[rng.randrange(programmes)] if rng.random() < 0.1 else pools[p]
                name = rng.choice(pool).replace(";", ",").replace(":", " ")
                if name not in names:
                    names.append(name)
            distinct.update(_norm(x) for x in names)
            skills = "; ".join(f"{x}:{rng.randint(1, 5)}" if rng.random() < 0.7 else x for x in names)
            certs = "; ".join(
                rng.sample(["CET-4", "Computer level 2", "Vocational skill level 4"], rng.randint(0, 2))
            )
            writer.writerow([f"S-{2026}-{n:06d}", "", rng.choice((2025, 2026)), skills, certs])
    return len(distinct)


def run_graduates(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path = tmp / "graduates.csv"
        distinct = build_graduates_file(path, args.graduates, args.programmes)
        print(f"graduates file: {args.graduates:,} rows x 15 skills, {distinct:,} distinct skill phrases")
        env = _env(_database(args, tmp), args.device)
        cli(["migrate"], env)
        _, out = cli(["org", "create", "--kind", "school", "--name", "Bench Vocational College"], env)
        if not args.no_taxonomy:
            seconds, _ = cli(["taxonomy", "import", "onet", str(onet_dir())], env)
            print(f"(O*NET taxonomy imported first, {seconds:.0f} s, not part of the figure)")
        seconds, out = cli(["import", "graduates", str(path), "--school", "Bench Vocational College"], env)
        print(
            f"import, cold phrase cache (model load included): {seconds:.1f} s; "
            f"created {cell(out, 'created')}; "
            f"phrases embedded {cell(out, 'phrases embedded now')}; service time {cell(out, 'time')}"
        )
        seconds, out = cli(["import", "graduates", str(path), "--school", "Bench Vocational College"], env)
        print(
            f"re-import: {seconds:.1f} s; created {cell(out, 'created')}, updated {cell(out, 'updated')}, "
            f"unchanged {cell(out, 'unchanged')}; phrases embedded {cell(out, 'phrases embedded now')}"
        )
    print(f"device: {args.device}; cores: {os.cpu_count()}; {ATTRIBUTION}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("esco", "graduates"))
    parser.add_argument("--skills", type=int, default=14_000)
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--graduates", type=int, default=10_000)
    parser.add_argument("--programmes", type=int, default=40)
    parser.add_argument("--no-taxonomy", action="store_true", help="graduates: skip the O*NET taxonomy")
    parser.add_argument("--device", default=os.environ.get("TALENTMATCH_ENCODER_DEVICE", "cpu"))
    parser.add_argument("--database-url", default=None, help="an empty database (default: temporary SQLite)")
    args = parser.parse_args()
    if args.what == "esco":
        run_esco(args)
    else:
        run_graduates(args)


if __name__ == "__main__":
    main()
