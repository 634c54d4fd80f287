"""The served encoder runtime: an ONNX export of a BERT sentence-transformers model, run by ONNX Runtime.

:class:`OnnxSentenceEncoder` tokenises with the ``tokenizers`` library (the model's own
``tokenizer.json``, truncated at ``max_seq_length`` like sentence-transformers), runs the exported
transformer (its output is the last hidden state), then mean-pools over the real tokens and
L2-normalises, exactly as sentence-transformers' ``Pooling`` and ``normalize_embeddings=True`` do.
It imports neither torch nor sentence-transformers. ``training/export_onnx.py`` builds the files.

:class:`OnnxEncoder` is the served encoder: the file that ``models/encoder.json`` names (``onnx.served``:
all-MiniLM-L6-v2 quantised to int8) under the name ``all-MiniLM-L6-v2`` (its calibration) and the
version ``<package version>+onnx-<first 12 hex of the file's SHA-256>``: its vectors differ slightly
from the torch runtime's (cosine >= 0.997), so they are cached apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from service.embeddings.encoder import (
    DEFAULT_MODEL_NAME,
    DEFAULT_PACKAGE,
    EncoderUnavailable,
    LocalModelEncoder,
    ModelFolder,
    unavailable_help,
    weights_digest,
)
from service.memory import trim_heap
from service.paths import models_dir

# Texts per ONNX Runtime call; texts are sorted by length first, so a batch pads little.
BATCH_SIZE = 64
# The most tokens (batch x padded length) one call may hold, so long texts go in smaller batches.
TOKEN_BUDGET = 16_384
THREADS_ENV = "TALENTMATCH_ENCODER_THREADS"


def default_threads() -> int:
    """Intra-op threads: ``TALENTMATCH_ENCODER_THREADS``, else the CPUs this process may use, at most 4
    (a phrase batch of this size gains little from more, and the API serves requests beside it)."""
    override = os.environ.get(THREADS_ENV)
    if override:
        return max(1, int(override))
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        available = os.cpu_count() or 1
    return max(1, min(4, available))


class OnnxSentenceEncoder:
    """Unit vectors of texts from an ONNX transformer file and a ``tokenizer.json``."""

    def __init__(
        self, model: Path, tokenizer: Path, max_seq_length: int = 256, threads: int | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # No arena: ONNX Runtime's CPU arena keeps the largest batch's activations for the life of the
        # process (2,000 phrases left 122 MiB resident with it, 58 MiB without), and the API process
        # encodes only the few new phrases of a request.
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self.threads = options.intra_op_num_threads
        output = self._session.get_outputs()[0]
        self.dim = int(output.shape[-1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array of L2-normalised rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        start = 0
        while start < len(order):
            longest = max(1, int(lengths[order[min(start + BATCH_SIZE, len(order)) - 1]]))
            size = max(1, min(BATCH_SIZE, TOKEN_BUDGET // longest))
            chunk = order[start : start + size]
            out[chunk] = self._batch([encodings[i].ids for i in chunk], lengths[chunk])
            start += len(chunk)
        trim_heap()
        return out

    def _batch(self, ids: list[list[int]], lengths: np.ndarray) -> np.ndarray:
        width = max(1, int(lengths.max()))
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
        mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (tokens,) = self._session.run(["token_embeddings"], feeds)
        # sentence-transformers' mean pooling: sum of the real tokens over their count (at least 1e-9),
        # then F.normalize: divide by the norm, at least 1e-12.
        weights = mask.astype(np.float32)[:, :, None]
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32, copy=False)


def manifest_path() -> Path:
    return models_dir() / "encoder.json"


class OnnxEncoder(LocalModelEncoder):
    """The bundled encoder as ``models/encoder.json`` serves it, run by ONNX Runtime (no torch).

    Raises :class:`EncoderUnavailable`, saying how to rebuild, when the manifest or a file it names is
    missing or broken.
    """

    def __init__(self, threads: int | None = None) -> None:
        manifest = manifest_path()
        try:
            entry = json.loads(manifest.read_text(encoding="utf-8"))
            onnx = entry["onnx"]
            model = manifest.parent / onnx["served"]
            tokenizer = manifest.parent / onnx["tokenizer"]
            max_seq_length = int(entry.get("max_seq_length", 256))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EncoderUnavailable(
                unavailable_help(f"the encoder manifest {manifest} is missing or broken ({exc})")
            ) from exc
        for needed in (model, tokenizer):
            if not needed.is_file():
                raise EncoderUnavailable(
                    f"Encoder unavailable: {needed} is missing; rebuild it with "
                    "python -m training.export_onnx, or set TALENTMATCH_ENCODER_RUNTIME=torch."
                )
        try:
            self._runtime = OnnxSentenceEncoder(model, tokenizer, max_seq_length, threads)
        except Exception as exc:
            problem = f"loading {model} failed ({exc.__class__.__name__}: {exc})"
            raise EncoderUnavailable(unavailable_help(problem)) from exc
        package_version = str(entry.get("package_version", "unknown"))
        version = f"{package_version}+onnx-{weights_digest(model)}"
        self._identify(ModelFolder(model.parent, model, DEFAULT_MODEL_NAME, version), self._runtime.dim)
        self.path = str(model)
        self.threads = self._runtime.threads
        self.source_package = DEFAULT_PACKAGE

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._runtime.encode(texts)
