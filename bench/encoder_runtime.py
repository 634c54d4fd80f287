"""The encoder's runtimes side by side: ``python -m bench.encoder_runtime``.

Each runtime (``onnx``: the served int8 ONNX export, :mod:`service.embeddings.onnx_runtime`;
``onnx-fp32``: the fp32 export, when ``python -m training.export_onnx`` has built it; ``torch``:
sentence-transformers, the reference) runs in a fresh child process, so resident memory is its own:
load time, phrases per second on 2,000 O*NET 29.2 phrases (technology examples and commodity titles,
seed 7; one call, and calls of 64; best of 3), resident memory after loading and after encoding,
whether torch was imported. Then each runtime's smallest and mean cosine to the torch vectors.
ONNX Runtime uses ``TALENTMATCH_ENCODER_THREADS`` threads (default: the CPUs available, at most 4).

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.speed import rss_mb
from service.embeddings.encoder import Encoder
from training.onet import ATTRIBUTION, load_onet

RUNTIMES = ("onnx", "onnx-fp32", "torch")


def phrases(n: int = 2000, seed: int = 7) -> list[str]:
    onet = load_onet()
    pool = {t.example for o in onet.occupations.values() for t in o.tech}
    pool |= {t.commodity_title for o in onet.occupations.values() for t in o.tech}
    return random.Random(seed).sample(sorted(pool), n)


def _fp32_file() -> Path:
    from service.paths import models_dir

    return models_dir() / "encoder" / "all-MiniLM-L6-v2.fp32.onnx"


def _load(runtime: str) -> Encoder:
    from service.embeddings.loader import load_encoder

    if runtime != "onnx-fp32":
        return load_encoder("real", runtime=runtime)
    from service.embeddings.onnx_runtime import OnnxSentenceEncoder

    runtime_ = OnnxSentenceEncoder(_fp32_file(), _fp32_file().parent / "tokenizer.json")

    class Fp32:
        threads = runtime_.threads
        encode = staticmethod(runtime_.encode)

    return Fp32()  # type: ignore[return-value]


def child(runtime: str, out: Path) -> None:
    """Measure one runtime in this (fresh) process; vectors to ``out``.npy, figures to ``out``.json."""
    texts = phrases()
    before = rss_mb()
    t0 = time.perf_counter()
    encoder = _load(runtime)
    load_s = time.perf_counter() - t0
    loaded = rss_mb()
    encoder.encode(texts[:64])  # warm-up

    def best(fn: Callable[[], object], n: int = 3) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    vecs = encoder.encode(texts)
    one_call = best(lambda: encoder.encode(texts))
    per_64 = best(lambda: [encoder.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    np.save(out.with_suffix(".npy"), vecs)
    figures = {
        "class": type(encoder).__name__,
        "threads": getattr(encoder, "threads", None),
        "torch_imported": "torch" in sys.modules,
        "load_s": load_s,
        "per_s_one_call": len(texts) / one_call,
        "per_s_calls_of_64": len(texts) / per_64,
        "rss_before": before,
        "rss_loaded": loaded,
        "rss_after": rss_mb(),
    }
    out.with_suffix(".json").write_text(json.dumps(figures), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", choices=RUNTIMES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    results = {}
    runtimes = [r for r in RUNTIMES if r != "onnx-fp32" or _fp32_file().is_file()]
    with tempfile.TemporaryDirectory() as tmp:
        for runtime in runtimes:
            out = Path(tmp) / runtime
            cmd = [sys.executable, "-m", "bench.encoder_runtime", "--child", runtime, "--out", str(out)]
            subprocess.run(cmd, check=True, env=env)
            results[runtime] = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
            results[runtime]["vecs"] = np.load(out.with_suffix(".npy"))
    print("| 2,000 O*NET phrases | " + " | ".join(runtimes) + " |")
    print("|---" * (len(runtimes) + 1) + "|")
    rows = [
        ("torch imported", "torch_imported", "{}"),
        ("ONNX Runtime threads", "threads", "{}"),
        ("load", "load_s", "{:.2f} s"),
        ("phrases/s, one call (best of 3)", "per_s_one_call", "{:.0f}"),
        ("phrases/s, calls of 64 (best of 3)", "per_s_calls_of_64", "{:.0f}"),
        ("resident memory after load", "rss_loaded", "{:.0f} MiB"),
        ("resident memory after encoding", "rss_after", "{:.0f} MiB"),
    ]
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(results[r][key]) for r in runtimes) + " |")
    reference = results["torch"]["vecs"]
    for runtime in runtimes[:-1]:
        cos = (results[runtime]["vecs"] * reference).sum(axis=1)
        print(f"{runtime} vs torch: smallest cosine {cos.min():.5f}, mean {cos.mean():.6f}")
    print(f"{os.cpu_count()} CPUs. {ATTRIBUTION}")


if __name__ == "__main__":
    main()
