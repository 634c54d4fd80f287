"""Ranking speed at 100,000 graduates: ``python -m bench.speed`` (``make bench-speed``).

What it does, in one process:

1. builds ``--graduates`` synthetic graduates (default 100,000) of about 15 skills each, drawn from
   O*NET 29.2 (technology examples in three surface forms, task-statement fragments in three forms, a
   few skills of another occupation), so there are tens of thousands of distinct phrases;
2. gets every distinct phrase's vector: by default from the real encoder (all-MiniLM-L6-v2) through the
   benchmark cache ``bench/out/`` - phrases not cached yet are embedded once in a child process, so
   this process never loads torch and its resident memory is that of the index; ``--encoder fake``
   uses the hashing encoder instead (says so in the output);
3. loads them into :class:`service.matching.index.GraduateIndex` and reports resident memory (RSS);
4. times ``--queries`` warm rankings of different 15-skill demands (top 10): p50/p95;
5. times, on the same demands in the same run, a straightforward numpy implementation (a Python loop
   over graduates: the cosine and lexical matrix of its phrases against the demand, calibrated, max,
   weighted mean) and the plain vectorised CSR ranking (:func:`service.matching.scoring.rank`); checks
   they return the same top 10, and prints the speed-up.

``--http auto`` also times ``POST /v1/demands/{id}/matches`` through HTTP: it seeds a SQLite database with
the same population and phrase vectors, starts ``uvicorn service.main:app`` on it and reports that
process's resident memory; ``--http URL --admin-key KEY`` times a running server instead (see
:func:`http_timings`).

Targets (2 cores): p95 <= 50 ms in process, <= 150 ms through HTTP, >= 3x the straightforward version,
<= 600 MB resident.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.ops.idle_trim import IDLE_SECONDS
from training.onet import ATTRIBUTION, CACHE_DIR, EmbeddingCache, load_onet, task_fragment, tech_variant

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MiB (from /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Population:
    keys: list[str]
    indptr: np.ndarray
    phrases: list[str]  # one per entry
    levels: np.ndarray
    demands: list[list[str]]


def synth(n_graduates: int, n_queries: int, seed: int = 7) -> Population:
    """Synthetic graduates and demands from O*NET (any occupation: this measures speed, not quality)."""
    onet = load_onet()
    occs = [o for o in onet.occupations.values() if o.tech and o.tasks]
    rng = random.Random(seed)
    keys: list[str] = []
    lengths: list[int] = []
    phrases: list[str] = []
    levels: list[int] = []
    for g in range(n_graduates):
        occ = rng.choice(occs)
        n = rng.randint(12, 18)
        n_tech = min(len(occ.tech), rng.randint(n // 3, n // 2 + 1))
        n_task = min(len(occ.tasks), n - n_tech - 2)
        chosen: list[str] = []
        for t in rng.sample(occ.tech, n_tech):
            r = rng.random()
            chosen.append(
                t.example if r < 0.5 else t.commodity_title if r < 0.65 else tech_variant(t.example, g)
            )
        chosen.extend(task_fragment(t.text, rng.randrange(3)) for t in rng.sample(occ.tasks, max(0, n_task)))
        other = rng.choice(occs)
        chosen.extend(t.example for t in rng.sample(other.tech, min(2, len(other.tech))))
        chosen = list(dict.fromkeys(chosen))
        keys.append(f"g{g:06d}")
        lengths.append(len(chosen))
        phrases.extend(chosen)
        levels.extend(rng.choice((0, 0, 2, 3, 4)) for _ in chosen)
    demands: list[list[str]] = []
    while len(demands) < n_queries:
        occ = rng.choice([o for o in occs if len(o.tech) >= 7 and len(o.tasks) >= 8])
        tasks = [t.text for t in occ.tasks if len(t.text) <= 200]  # the API's limit on a skill name
        demand = [t.example for t in rng.sample(occ.tech, 7)] + rng.sample(tasks, min(8, len(tasks)))
        if len(demand) == 15:
            demands.append(demand)
    indptr = np.zeros(n_graduates + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    return Population(keys, indptr, phrases, np.asarray(levels, dtype=np.int8), demands)


class _CachedVectors:
    """Encoder stand-in that only reads the benchmark cache (no torch in this process)."""

    def __init__(self, name: str, version: str, dim: int) -> None:
        self.name, self.version, self.dim, self.calls = name, version, dim, 0


def served_version() -> str:
    """The served encoder's version (ONNX, as ``load_encoder("real")`` reports it), without loading it:
    the key its phrase vectors are cached under."""
    import json

    from service.embeddings.encoder import weights_digest
    from service.embeddings.onnx_runtime import manifest_path

    manifest = manifest_path()
    entry = json.loads(manifest.read_text(encoding="utf-8"))
    served = manifest.parent / entry["onnx"]["served"]
    return f"{entry.get('package_version', 'unknown')}+onnx-{weights_digest(served)}"


def real_vectors(texts: list[str]) -> tuple[EmbeddingCache, str]:
    """Vectors of the real encoder from the benchmark cache, filling it in a child process if needed."""
    from service.embeddings.encoder import DEFAULT_MODEL_NAME
    from service.text import normalize_phrase

    ver = served_version()
    stub = _CachedVectors(DEFAULT_MODEL_NAME, ver, 384)
    cache = EmbeddingCache(stub)

    missing = sorted({normalize_phrase(t) for t in texts} - set(cache.vectors))
    note = f"real encoder {DEFAULT_MODEL_NAME} {ver}, vectors from bench/out cache"
    if missing:
        print(f"embedding {len(missing)} phrases not cached yet (child process, once) ...", flush=True)
        t0 = time.perf_counter()
        todo = cache.path.with_suffix(".todo.txt") if cache.path else None
        assert todo is not None
        todo.parent.mkdir(parents=True, exist_ok=True)
        todo.write_text("\n".join(missing), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "bench.speed", "--embed-file", str(todo)], check=True)
        todo.unlink()
        cache = EmbeddingCache(stub)
        note += f" ({len(missing)} embedded now in {time.perf_counter() - t0:.0f} s)"
    return cache, note


def embed_file(path: str) -> None:
    from service.embeddings.loader import load_encoder

    texts = [t for t in Path(path).read_text(encoding="utf-8").split("\n") if t]
    cache = EmbeddingCache(load_encoder("real", None, "cpu"))
    cache.embed(texts)
    cache.save()


def straightforward_cosine(
    demand_vecs: np.ndarray, weights: np.ndarray, vecs: np.ndarray, indptr: np.ndarray, phrase_idx: np.ndarray
) -> np.ndarray:
    """The straightforward implementation: a loop over graduates; for each, the cosine matrix of its
    phrases against the demand, the best per demanded skill, the weighted mean. (Encoder channel only:
    less arithmetic than the real scoring, so the speed-up against it is a lower bound.)"""
    w = weights / weights.sum()
    scores = np.zeros(len(indptr) - 1, dtype=np.float32)
    for g in range(len(indptr) - 1):
        ids = phrase_idx[indptr[g] : indptr[g + 1]]
        if len(ids):
            scores[g] = float((vecs[ids] @ demand_vecs.T).max(axis=0) @ w)
    return scores


def straightforward_full(
    demand: Any,
    store: Any,
    lex_rows: Any,
    indptr: np.ndarray,
    phrase_idx: np.ndarray,
    levels: np.ndarray,
    calibration: Any,
) -> np.ndarray:
    """The same scores as the index (fused similarity, calibration, level caps, required penalty),
    computed graduate by graduate."""
    from service.matching.scoring import aggregate, fuse, level_caps

    caps = level_caps(calibration)
    dlex_t = demand.lex.T.tocsc()
    best = np.zeros((len(indptr) - 1, demand.k), dtype=np.float32)
    for g in range(len(indptr) - 1):
        ids = phrase_idx[indptr[g] : indptr[g + 1]]
        if len(ids) == 0:
            continue
        cos = demand.vecs @ store.vecs[ids].T
        lex = np.asarray((lex_rows[ids] @ dlex_t).toarray().T, dtype=np.float32)
        cov = calibration.coverage(fuse(cos, lex, calibration.gamma, demand.trust, store.trust[ids]))
        cov = np.minimum(cov, caps[demand.levels.astype(np.intp)][:, levels[indptr[g] : indptr[g + 1]]])
        best[g] = cov.max(axis=1)
    return aggregate(best, demand.weights, demand.required, calibration)


@dataclass
class Prepared:
    """The population and phrase vectors :func:`prepare` wrote (``bench/out/speed-*.npz``)."""

    distinct: list[str]
    vecs: np.ndarray
    ids: np.ndarray
    indptr: np.ndarray
    levels: np.ndarray
    demand_texts: list[str]
    demand_vecs: np.ndarray
    demand_ids: np.ndarray
    note: str

    @classmethod
    def load(cls, path: Path) -> Prepared:
        with np.load(path) as data:
            return cls(
                distinct=data["distinct"].tolist(),
                vecs=data["vecs"],
                ids=data["ids"],
                indptr=data["indptr"],
                levels=data["levels"],
                demand_texts=data["demand_texts"].tolist(),
                demand_vecs=data["demand_vecs"],
                demand_ids=data["demand_ids"],
                note=str(data["note"]),
            )


def _seed_database(
    url: str, data_path: Path, encoder_version: str, *, multilingual: bool = False
) -> tuple[str, str]:
    """A migrated SQLite database holding the population, its phrase vectors (the service's cache; with
    ``multilingual`` those of the multilingual channel too) and an enterprise; returns (enterprise key,
    school id). Rows are written directly: this measures serving."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from service import changes
    from service.db import make_engine
    from service.embeddings import cache
    from service.embeddings import repository as cache_repo
    from service.migrate import upgrade
    from service.orgs import service as orgs
    from service.orgs.schemas import OrganizationCreate
    from service.orm import Graduate

    upgrade(url)
    engine = make_engine(url)
    pop = Prepared.load(data_path)
    distinct, vecs, ids, indptr, levels = pop.distinct, pop.vecs, pop.ids, pop.indptr, pop.levels
    demand_texts, demand_vecs = pop.demand_texts, pop.demand_vecs
    from service.embeddings.encoder import DEFAULT_MODEL_NAME
    from service.text import normalize_phrase

    model = f"{DEFAULT_MODEL_NAME}@{encoder_version}"
    norms: dict[str, np.ndarray] = {}
    for text, vec in zip(distinct + demand_texts, np.concatenate([vecs, demand_vecs]), strict=True):
        norms.setdefault(normalize_phrase(text), vec)
    with Session(engine) as session, session.begin():
        _, ent_key = orgs.create(
            session, OrganizationCreate.model_validate({"name": "Bench Co", "kind": "enterprise"})
        )
        school, _ = orgs.create(
            session, OrganizationCreate.model_validate({"name": "Bench School", "kind": "school"})
        )
        session.flush()
        school_id = school.id
        keys = list(norms)
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            vectors = np.stack([norms[k] for k in chunk])
            cache_repo.insert_vectors(session, cache.vector_rows(model, chunk, vectors))
        if multilingual:  # the served process keeps both channels: seed its vectors too (bench/out cache)
            from service.embeddings.multilingual import load_multilingual

            ml_encoder = load_multilingual()
            ml_cache = EmbeddingCache(ml_encoder)
            t0 = time.perf_counter()
            ml_vectors = ml_cache.embed(keys)
            ml_cache.save()
            print(f"HTTP: multilingual vectors of {len(keys):,} phrases in {time.perf_counter() - t0:.0f} s")
            ml_model = cache.model_key(ml_encoder)
            for start in range(0, len(keys), 5000):
                rows = cache.vector_rows(
                    ml_model, keys[start : start + 5000], ml_vectors[start : start + 5000]
                )
                cache_repo.insert_vectors(session, rows)
        seq = changes.bump(session, changes.GRADUATE)
        rows = []
        for g in range(len(indptr) - 1):
            a, b = int(indptr[g]), int(indptr[g + 1])
            skills = [
                {"name": distinct[int(i)], "level": int(lv) or None}
                for i, lv in zip(ids[a:b], levels[a:b], strict=True)
            ]
            rows.append(
                {
                    "organization_id": school_id,
                    "external_ref": f"B{g:06d}",
                    "skills": skills,
                    "change_seq": seq,
                }
            )
            if len(rows) == 5000:
                session.execute(insert(Graduate), rows)
                rows = []
        if rows:
            session.execute(insert(Graduate), rows)
    # one bulk transaction leaves a write-ahead log as large as the data; a running service checkpoints
    # its log as it goes, so the server starts on a checkpointed file
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return ent_key, school_id


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_timings(url: str, data_path: Path, queries: int, admin_key: str | None) -> list[str]:
    """Time ``POST /v1/demands/{id}/matches`` (top 10, stored) through HTTP; returns table rows.

    ``url == "auto"``: seed a SQLite database under ``bench/out`` directly (population, phrase vectors
    from the benchmark cache, so the server embeds nothing), start ``uvicorn service.main:app`` on it,
    and also report that process's resident memory. Otherwise ``url`` is a running server whose
    graduates are already loaded; ``--admin-key`` lets the bench create an enterprise for its demands.
    """
    import httpx

    proc: subprocess.Popen[bytes] | None = None
    multilingual = False
    rows: list[str] = []
    ready_s = 0.0
    pop = Prepared.load(data_path)
    demand_texts, demand_ids = pop.demand_texts, pop.demand_ids
    del pop
    if url == "auto":
        # the served encoder's key: vectors under another would all be embedded again at start-up
        ver = served_version()
        db = data_path.with_suffix(".http.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        t0 = time.perf_counter()
        from service.embeddings.loader import multilingual_wanted
        from service.settings import Settings

        # as served: the multilingual channel is on unless TALENTMATCH_MULTILINGUAL says otherwise
        multilingual = multilingual_wanted(Settings().multilingual, "real")
        ent_key, _ = _seed_database(f"sqlite:///{db}", data_path, ver, multilingual=multilingual)
        print(f"HTTP: database seeded in {time.perf_counter() - t0:.0f} s ({db})", flush=True)
        port = 8765
        env = dict(
            os.environ,
            TALENTMATCH_DATABASE_URL=f"sqlite:///{db}",
            TALENTMATCH_JSON_LOGS="false",
            TALENTMATCH_RATE_LIMIT_PER_MINUTE="1000000",
            TALENTMATCH_LOG_LEVEL="WARNING",
            HF_HUB_OFFLINE="1",
            TOKENIZERS_PARALLELISM="false",
        )
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env)
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {ent_key}"}
        for _ in range(600):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    ready_s = time.perf_counter() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            proc.terminate()
            raise SystemExit("the server did not become ready")
    else:
        if not admin_key:
            raise SystemExit("--http URL needs --admin-key to create the enterprise that posts the demands")
        r = httpx.post(
            f"{url}/v1/organizations",
            json={"name": "Bench Co", "kind": "enterprise"},
            headers={"Authorization": f"Bearer {admin_key}"},
            timeout=30,
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['api_key']}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=300) as client:
            demand_ids_http = []
            for row in demand_ids:
                skills = [
                    {
                        "name": demand_texts[int(i)],
                        "importance": [5, 4, 3, 3, 2][j % 5],
                        "required": j == 0,
                        "level": 3 if j == 0 else None,
                    }
                    for j, i in enumerate(row)
                ]
                r = client.post(
                    "/v1/demands", json={"title": "bench demand", "headcount": 3, "skills": skills}
                )
                r.raise_for_status()
                demand_ids_http.append(r.json()["id"])
            t0 = time.perf_counter()
            r = client.post(f"/v1/demands/{demand_ids_http[0]}/matches", json={"top_k": 10})
            r.raise_for_status()
            cold = time.perf_counter() - t0
            for d in demand_ids_http[1:3]:
                client.post(f"/v1/demands/{d}/matches", json={"top_k": 10}).raise_for_status()
            times = []
            cpu_before = _cpu_seconds(proc.pid) if proc is not None else 0.0
            for d in demand_ids_http[3 : 3 + queries]:
                t = time.perf_counter()
                r = client.post(f"/v1/demands/{d}/matches", json={"top_k": 10})
                times.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            assert len(r.json()["matches"]) == 10
            cpu_per_request = (
                (_cpu_seconds(proc.pid) - cpu_before) * 1000 / len(times) if proc is not None else None
            )
        p50, p95 = np.percentile(times, [50, 95])
        rows.append(f"| through HTTP (POST /v1/demands/{{id}}/matches, stored), warm, p50 | {p50:.1f} ms |")
        rows.append(f"| through HTTP, warm, p95 | {p95:.1f} ms (target <= 150) |")
        rows.append(f"| through HTTP, first request after ready | {cold * 1000:.0f} ms |")
        if proc is not None:
            rows.append(
                f"| server start to ready (encoder loaded, graduate index loaded from the database) "
                f"| {ready_s:.1f} s |"
            )
        if cpu_per_request is not None:
            rows.append(
                f"| through HTTP, server CPU per request (mean, all threads) | {cpu_per_request:.0f} ms |"
            )
        if proc is not None:
            encoders = "both encoders" if multilingual else "encoder"
            busy = rss_mb(proc.pid)
            time.sleep(3 * IDLE_SECONDS)  # the idle heap trim runs once no request has run for a second
            rows.append(
                f"| resident memory of the API process ({encoders} + index + app), right after the "
                f"last request | {busy:.0f} MiB |"
            )
            rows.append(
                f"| resident memory of the API process ({encoders} + index + app), idle "
                f"| {rss_mb(proc.pid):.0f} MiB (target <= 600) |"
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    return rows


def prepare(path: Path, n_graduates: int, n_queries: int, encoder: str) -> None:
    """Child process: synthetic graduates and demands as compact arrays with their phrase vectors."""
    pop = synth(n_graduates, n_queries)
    distinct = sorted(set(pop.phrases))
    demand_texts = sorted({t for d in pop.demands for t in d})
    if encoder == "fake":
        from service.embeddings.fake import FakeEncoder

        cache = EmbeddingCache(FakeEncoder(dim=384), persist=False)
        note = "FakeEncoder (hashing, 384 dims): timings only, similarities are not the real model's"
    else:
        cache, note = real_vectors(distinct + demand_texts)
    col = {t: i for i, t in enumerate(distinct)}
    dcol = {t: i for i, t in enumerate(demand_texts)}
    np.savez(
        path,
        distinct=np.asarray(distinct, dtype=str),
        vecs=cache.embed(distinct),
        ids=np.asarray([col[t] for t in pop.phrases], dtype=np.int32),
        indptr=pop.indptr,
        levels=pop.levels,
        demand_texts=np.asarray(demand_texts, dtype=str),
        demand_vecs=cache.embed(demand_texts),
        demand_ids=np.asarray([[dcol[t] for t in d] for d in pop.demands], dtype=np.int32),
        note=np.asarray(note),
    )


def chinese_queries(index: Any, demands: list[Any], lexical: Any, ml_encoder: Any) -> list[str]:
    """Time the same demands with their first 5 skills written in Chinese (from bench/data's zh/en
    skill pairs): the multilingual product then runs over every stored phrase."""
    from bench.zh import load_pairs
    from service.embeddings.loader import load_encoder
    from service.matching import scoring

    zh = [a for a, _ in load_pairs()]
    encoder = load_encoder("real", None, "cpu")
    mixed = []
    for n, d in enumerate(demands):
        names = [zh[(5 * n + j) % len(zh)] for j in range(5)] + d.names[5:]
        mixed.append(
            scoring.DemandSkills.build(
                names,
                encoder.encode(names),
                lexical,
                weights=list(d.weights),
                required=list(d.required),
                levels=[int(x) or None for x in d.levels],
                ml=ml_encoder.encode(names),
            )
        )
    times, cpu_times = [], []
    for d in mixed:
        t, c = time.perf_counter(), time.process_time()
        result = index.rank(d, 10)
        for i in range(len(result.keys)):
            index.explain(result, d, i)
        times.append((time.perf_counter() - t) * 1000)
        cpu_times.append((time.process_time() - c) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    cpu50, cpu95 = np.percentile(cpu_times, [50, 95])
    return [
        f"| in process, warm, p50 / p95, the same demands with 5 of 15 skills in Chinese "
        f"(multilingual product over every phrase) | {p50:.1f} / {p95:.1f} ms |",
        f"| the same, CPU time per query, p50 / p95 | {cpu50:.1f} / {cpu95:.1f} ms |",
        f"| resident memory, both encoders loaded, after the Chinese queries | {rss_mb():.0f} MiB |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--graduates", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100, help="warm queries timed (different demands)")
    parser.add_argument(
        "--check-graduates",
        type=int,
        default=5000,
        help="graduates on which the loop with the full scoring is timed (scaled) and compared",
    )
    parser.add_argument("--encoder", choices=["real", "fake"], default="real")
    parser.add_argument(
        "--http",
        metavar="URL",
        help="also time the HTTP endpoint: 'auto' seeds a database and starts a local server; a URL "
        "names a running server whose graduates are loaded (with --admin-key)",
    )
    parser.add_argument("--admin-key", default=os.environ.get("TALENTMATCH_ADMIN_KEY"))
    parser.add_argument(
        "--multilingual",
        action="store_true",
        help="in process: also load the multilingual encoder and keep every phrase's multilingual vector "
        "(int8 rows) in the index, as the service does by default; then also time demands with 5 Chinese "
        "skills",
    )
    parser.add_argument("--embed-file", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.embed_file:
        embed_file(args.embed_file)
        return
    if args.prepare:
        prepare(Path(args.prepare), args.graduates, args.queries + 3, args.encoder)
        return

    from service.matching import scoring
    from service.matching.calibration import load_bridge, load_calibration
    from service.matching.index import GraduateIndex
    from service.matching.lexical import default_model
    from service.matching.phrase_store import PhraseStore

    # 1-2: population and vectors, prepared (once, cached in bench/out) by a child process, so that
    # this process holds only what the service would hold
    data_path = CACHE_DIR / f"speed-{args.encoder}-{args.graduates}-{args.queries + 3}.npz"
    if not data_path.is_file():
        t0 = time.perf_counter()
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "bench.speed",
            "--prepare",
            str(data_path),
            "--graduates",
            str(args.graduates),
            "--queries",
            str(args.queries),
            "--encoder",
            args.encoder,
        ]
        subprocess.run(cmd, check=True)
        print(f"population prepared in {time.perf_counter() - t0:.0f} s -> {data_path}")
    rss_start = rss_mb()
    pop = Prepared.load(data_path)
    distinct, vecs, ids, indptr, levels = pop.distinct, pop.vecs, pop.ids, pop.indptr, pop.levels
    demand_texts, demand_vecs, demand_ids, note = pop.demand_texts, pop.demand_vecs, pop.demand_ids, pop.note
    del pop
    keys = [f"g{g:06d}" for g in range(len(indptr) - 1)]
    calibration = load_calibration("fake-hash" if args.encoder == "fake" else "all-MiniLM-L6-v2")
    print(
        f"{len(keys):,} graduates, {len(ids):,} skill entries ({len(ids) / len(keys):.1f} per graduate), "
        f"{len(distinct):,} distinct texts drawn from O*NET 29.2"
    )
    print(f"phrase vectors: {note}")

    # 3: the index, as the service holds it
    t0 = time.perf_counter()
    lexical = default_model()
    ml_encoder: Any = None
    ml_vecs: np.ndarray | None = None
    ml_demand: np.ndarray | None = None
    bridge = None
    if args.multilingual:  # the second channel, as the API process holds it
        from service.embeddings.multilingual import load_multilingual

        ml_encoder = load_multilingual()
        bridge = load_bridge(calibration, ml_encoder.name)
        ml_cache = EmbeddingCache(ml_encoder)
        ml_vecs = ml_cache.embed(distinct)
        ml_demand = ml_cache.embed(demand_texts)
        ml_cache.save()
        del ml_cache
        gc.collect()
        rss_start = rss_mb()
    store = PhraseStore(
        vecs.shape[1],
        lexical,
        capacity=len(distinct),
        ml_dim=ml_encoder.dim if ml_encoder else 0,
        bridge=bridge,
    )
    ids = store.add(distinct, vecs, ml_vecs)[ids]  # texts differing only in case or spacing share one phrase
    del ml_vecs
    index = GraduateIndex(store, calibration, multilingual=False)
    index.load(keys, indptr, ids, levels)
    store.lexical_t()
    load_s = time.perf_counter() - t0
    del vecs, distinct
    gc.collect()
    rss_loaded = rss_mb()
    print(
        f"index built in {load_s:.1f} s: phrase store {store.nbytes() / 2**20:.0f} MiB, graduate layout "
        f"{index.nbytes() / 2**20:.0f} MiB; RSS {rss_start:.0f} MiB with the libraries imported, "
        f"{rss_loaded:.0f} MiB with {len(index):,} graduates loaded"
    )

    def demand_of(row: np.ndarray) -> scoring.DemandSkills:
        names = [demand_texts[i] for i in row]
        return scoring.DemandSkills.build(
            names,
            demand_vecs[row],
            lexical,
            weights=[5, 4, 3, 3, 2] * 3,
            required=[True] + [False] * 14,
            levels=[3] + [None] * 14,
            ml=None if ml_demand is None else ml_demand[row],
        )

    # 4: warm queries
    demands = [demand_of(row) for row in demand_ids]
    for d in demands[:3]:
        index.rank(d, 10)
    times, cpu_times = [], []
    for d in demands[3:]:
        t, c = time.perf_counter(), time.process_time()
        result = index.rank(d, 10)
        for i in range(len(result.keys)):
            index.explain(result, d, i)
        times.append((time.perf_counter() - t) * 1000)
        cpu_times.append((time.process_time() - c) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    cpu50, cpu95 = np.percentile(cpu_times, [50, 95])
    rss_peak = rss_mb()

    # 5: reference implementations, on some of the same demands
    sample = demands[3 : 3 + min(3, len(demands) - 3)]
    n_full = min(args.check_graduates, len(keys))
    lex_rows = lexical.transform(store.texts)
    csr_times, cos_times, full_times, max_diff = [], [], [], 0.0
    for d in sample:
        t = time.perf_counter()
        sim = store.similarity(d, calibration, False)
        cov = calibration.coverage(sim)
        weights = d.weights * index.specificity(cov)
        idx_csr, _ = scoring.rank(cov, weights, d.required, d.levels, indptr, ids, levels, 10, calibration)
        csr_times.append((time.perf_counter() - t) * 1000)
        assert [keys[i] for i in idx_csr] == index.rank(d, 10).keys, "CSR ranking and index disagree"
        plain = scoring.DemandSkills(d.names, d.vecs, d.lex, d.trust, weights, d.required, d.levels)
        t = time.perf_counter()
        straightforward_cosine(d.vecs, d.weights, store.vecs, indptr, ids)
        cos_times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        loop_scores = straightforward_full(
            plain, store, lex_rows, indptr[: n_full + 1], ids, levels, calibration
        )
        full_times.append((time.perf_counter() - t) * 1000 * len(keys) / n_full)
        max_diff = max(max_diff, float(np.abs(loop_scores - index.scores_of(d, keys[:n_full])).max()))
    n_sample = len(sample)
    cos_ms = float(np.median(cos_times))
    full_ms = float(np.median(full_times))
    csr_ms = float(np.median(csr_times))
    http_rows: list[str] = []
    if args.http:
        del lex_rows, demands, sample
        gc.collect()
        http_rows = http_timings(args.http, data_path, args.queries, args.admin_key)
    zh_rows: list[str] = []
    if ml_encoder is not None and args.encoder == "real":
        zh_rows = chinese_queries(index, demands[3:], lexical, ml_encoder)
    rss_encoder = None
    if args.encoder == "real" and not http_rows:
        from service.embeddings.loader import load_encoder

        encoder = load_encoder("real", None, "cpu")
        encoder.encode(demand_texts[:64])
        rss_encoder = rss_mb()

    print()
    print(f"| {len(keys):,} graduates, 15-skill demand, top 10 with evidence | value |")
    print("|---|---|")
    print(f"| in process, warm, p50 | {p50:.1f} ms |")
    print(f"| in process, warm, p95 | {p95:.1f} ms (target <= 50) |")
    print(
        f"| in process, CPU time per query (all threads; independent of other load), p50 / p95 "
        f"| {cpu50:.1f} / {cpu95:.1f} ms |"
    )
    print(f"| straightforward numpy loop over graduates, cosine only, median | {cos_ms:,.0f} ms |")
    print(f"| speed-up: straightforward median / our p95 | {cos_ms / p95:,.1f}x (target >= 3) |")
    print(
        f"| straightforward loop with the same scoring (timed on {n_full:,}, scaled), median "
        f"| {full_ms:,.0f} ms ({full_ms / p95:,.0f}x our p95) |"
    )
    print(f"| vectorised CSR without posting lists (scoring.rank), median | {csr_ms:.1f} ms |")
    print(f"| resident memory with {len(index):,} graduates loaded | {rss_loaded:.0f} MiB (target <= 600) |")
    print(f"| resident memory after the queries | {rss_peak:.0f} MiB |")
    if rss_encoder is not None:
        print(
            f"| resident memory, real encoder also loaded (as in the API process) | {rss_encoder:.0f} MiB |"
        )
    print(f"| largest score difference, index vs graduate-by-graduate loop | {max_diff:.1e} |")
    for row in [*zh_rows, *http_rows]:
        print(row)
    print(
        f"\nphrase vectors: {note}. Queries: {len(times)} distinct demands (7 technology examples + 8 task "
        f"statements of one occupation; importance 2..5; one required skill with level 3). "
        f"Reference implementations on {n_sample} of them. Machine: {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end."
    )
    print(ATTRIBUTION)


if __name__ == "__main__":
    main()
