"""Building the served encoder's static token vectors: ``python -m training.static_vectors --write``.

A stateless ``POST /v1/match`` may bring 1,000 candidates of 15 skills, about 14,000 phrases the
process has never seen; the transformer encodes about 1,000 of them a second on two cores. The static
vectors give every phrase a cheap approximate vector (a weighted sum of one row per word piece, no
transformer), good enough to shortlist the candidates that can reach the top; only the shortlist's
phrases go through the transformer (``service.embeddings.static``, ``service.matching.service``).

How the table is made (all from the served int8 ONNX encoder and O*NET 29.2 *fit* occupations;
nothing of ESCO, CSCO or eval-dev is read):

1. **token rows**: for every word piece of the tokenizer's vocabulary, the transformer's output at that
   piece's position for the input ``[CLS] piece [SEP]``;
2. **weights**: smooth inverse frequency, ``a / (a + p(piece))`` with ``a`` = 1e-3 and ``p`` the
   piece's share of all pieces of the fit phrases (technology examples and their short forms,
   commodity titles, task statements and their short forms, alternate titles), so a piece as common as
   "and" or "data" counts less;
3. **map**: one 384 x 384 linear map, fitted by ridge least squares from the weighted sums of the fit
   phrases to their transformer vectors (the map is folded into the rows, so a phrase's static vector
   is still a sum of rows);
4. **refinement**: each row moves by a correction fitted jointly on the fit phrases (ridge least squares
   of the sums against the transformer vectors scaled to the sums' norms, so only the direction is
   fitted; block conjugate gradients); the ridge weight is chosen on a held-out fifth of the fit
   phrases, then the correction is refitted on all of them;
5. rows stored as int8 with one float32 scale per row.

Figures (agreement with the transformer on phrases of the *eval* occupations) are written into the
manifest ``models/encoder/static.json``. The build is deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from service.embeddings.static import MANIFEST, ROWS_FILE, SCALES_FILE, TOKENIZER_FILE, StaticVectors
from service.paths import models_dir
from training.onet import ATTRIBUTION, load_onet, onet_dir, task_fragment, tech_variant

SIF_A = 1e-3
RIDGE = 1e-3
BATCH = 512
REFINE_RIDGES = (1.0, 3.0, 10.0, 30.0)
REFINE_STEPS = 60


def phrases(part: str) -> list[str]:
    """Distinct skill-like phrases of one O*NET split part, sorted."""
    onet = load_onet()
    out: set[str] = set()
    for occ in onet.part(part):
        for t in occ.tech:
            out.update((t.example, t.commodity_title, tech_variant(t.example, 0), tech_variant(t.example, 1)))
        for task in occ.tasks:
            out.add(task.text)
            out.update(task_fragment(task.text, v) for v in range(3))
        out.update(onet.alternate_titles.get(occ.code, []))
    return sorted(p for p in out if p.strip())


def token_rows(runtime: Any) -> np.ndarray:
    """(vocabulary, dim): the transformer's output at the piece for ``[CLS] piece [SEP]``."""
    tokenizer = runtime._tokenizer
    size = tokenizer.get_vocab_size()
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    out = np.zeros((size, runtime.dim), dtype=np.float32)
    for start in range(0, size, BATCH):
        ids = np.array([[cls, t, sep] for t in range(start, min(size, start + BATCH))], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in runtime._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (tokens,) = runtime._session.run(["token_embeddings"], feeds)
        out[start : start + len(ids)] = tokens[:, 1]
    return out


def piece_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    return [e.ids[1:-1] for e in tokenizer.encode_batch(texts)]


def piece_counts(ids: list[list[int]], vocabulary: int) -> sp.csr_matrix:
    lengths = [len(seq) for seq in ids]
    rows = np.repeat(np.arange(len(ids)), lengths)
    cols = np.fromiter((t for seq in ids for t in seq), dtype=np.int64, count=sum(lengths))
    return sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(ids), vocabulary))


def mean_cosine(table: np.ndarray, counts: sp.csr_matrix, target: np.ndarray) -> float:
    sums = np.asarray(counts @ table)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return float((sums * target).sum(axis=1).mean())


def refine(table: np.ndarray, counts: sp.csr_matrix, target: np.ndarray, ridge: float) -> np.ndarray:
    """``table`` plus the correction D minimising ``|counts (table + D) - target'|^2 + ridge |D|^2``, where
    ``target'`` is each phrase's unit target scaled to the norm of its current sum."""
    sums = np.asarray(counts @ table)
    residual = target * np.linalg.norm(sums, axis=1, keepdims=True) - sums
    gram = (counts.T @ counts).tocsr()
    rhs = np.asarray(counts.T @ residual)
    x = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    rs = (r * r).sum(axis=0)
    for _ in range(REFINE_STEPS):  # conjugate gradients, one per column, all columns at once
        ap = np.asarray(gram @ p) + ridge * p
        alpha = rs / np.maximum((p * ap).sum(axis=0), 1e-30)
        x += alpha * p
        r -= alpha * ap
        new = (r * r).sum(axis=0)
        p = r + new / np.maximum(rs, 1e-30) * p
        rs = new
    return table + x


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(folder: Path) -> dict[str, Any]:
    from service.embeddings.onnx_runtime import OnnxEncoder

    started = time.perf_counter()
    encoder = OnnxEncoder()
    runtime = encoder._runtime
    tokenizer = runtime._tokenizer
    rows = token_rows(runtime)

    fit = phrases("fit")
    fit_ids = piece_ids(tokenizer, fit)
    counts = piece_counts(fit_ids, len(rows))  # phrases x pieces
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    weights = SIF_A / (SIF_A + frequency / frequency.sum())
    weighted = rows.astype(np.float64) * weights[:, None]

    x = np.asarray(counts @ weighted)
    y = encoder.encode(fit).astype(np.float64)
    gram = x.T @ x
    gram += RIDGE * np.trace(gram) / len(gram) * np.eye(len(gram))
    mapping = np.linalg.solve(gram, x.T @ y)
    table = weighted @ mapping

    held = np.arange(len(fit)) % 5 == 0
    chosen = {
        ridge: mean_cosine(refine(table, counts[~held], y[~held], ridge), counts[held], y[held])
        for ridge in REFINE_RIDGES
    }
    ridge = max(chosen, key=lambda r: chosen[r])
    table = refine(table, counts, y, ridge)
    scales = np.abs(table).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    quantised = np.clip(np.rint(table / scales[:, None]), -127, 127).astype(np.int8)

    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / TOKENIZER_FILE).exists():  # --out elsewhere: the rows go with their tokenizer
        shutil.copyfile(models_dir() / "encoder" / TOKENIZER_FILE, folder / TOKENIZER_FILE)
    (folder / ROWS_FILE).write_bytes(quantised.tobytes())
    np.save(folder / SCALES_FILE, scales.astype(np.float32))

    static = StaticVectors.load(folder)
    figures = {}
    for part, texts in (("fit", fit), ("eval", phrases("eval"))):
        real = y.astype(np.float32) if part == "fit" else encoder.encode(texts)
        approx = static.encode(texts)
        cos = (real * approx).sum(axis=1)
        figures[part] = {
            "phrases": len(texts),
            "mean_cosine": round(float(cos.mean()), 4),
            "p05_cosine": round(float(np.quantile(cos, 0.05)), 4),
        }
    manifest = {
        "what": "static token vectors of the served encoder: a phrase's approximate vector is the "
        "L2-normalised sum of its word pieces' rows (row = int8 x scale); used only to shortlist "
        "candidates of a large stateless match, never as a match's similarity",
        "encoder": encoder.name,
        "encoder_version": encoder.version,
        "rows_file": ROWS_FILE,
        "rows_sha256": _sha256(folder / ROWS_FILE),
        "scales_file": SCALES_FILE,
        "scales_sha256": _sha256(folder / SCALES_FILE),
        "vocabulary": len(rows),
        "dimension": int(rows.shape[1]),
        "method": "row = transformer output at the piece for [CLS] piece [SEP]; x SIF weight a/(a+p), "
        f"a = {SIF_A}; x a {rows.shape[1]}x{rows.shape[1]} ridge least-squares map (ridge {RIDGE} x mean "
        "diagonal) from the weighted sums of the fit phrases to their transformer vectors; then every row "
        f"refined jointly (ridge least squares, {REFINE_STEPS} conjugate-gradient steps), ridge {ridge} "
        "chosen on a held-out fifth of the fit phrases",
        "refinement_ridge_held_out_cosine": {str(r): round(c, 4) for r, c in chosen.items()},
        "fit_data": {
            "source": f"O*NET 29.2 fit occupations (training.onet.split): {len(fit)} phrases",
            "files_sha256": {
                name: _sha256(onet_dir() / name)
                for name in (
                    "Occupation Data.txt",
                    "Task Statements.txt",
                    "Technology Skills.txt",
                    "Alternate Titles.txt",
                )
            },
            "attribution": ATTRIBUTION,
        },
        "agreement_with_the_encoder": figures,
        "rebuild": "python -m training.static_vectors --write",
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="write models/encoder/static.*")
    parser.add_argument("--out", type=Path, help="write into this folder instead")
    args = parser.parse_args(argv)

    if not args.write and args.out is None:
        parser.error("say --write (models/encoder) or --out FOLDER")
    manifest = build(args.out or models_dir() / "encoder")
    print(json.dumps(manifest["agreement_with_the_encoder"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
