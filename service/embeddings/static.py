"""Static token vectors of the served English encoder: a cheap approximate vector for any phrase.

A phrase's static vector is the L2-normalised sum of one stored row per word piece (the rows already
carry each piece's weight and a linear map towards the transformer's space; how they are made:
:mod:`training.static_vectors`, manifest ``models/encoder/static.json``). About 0.9 cosine to the
transformer's vector on O*NET phrases the fit never saw, at the cost of a tokenizer call and a sparse
product: hundreds of thousands of phrases a second instead of about a thousand.

It is never a similarity a user reads. A large stateless match uses it only to shortlist the
candidates worth the transformer (:func:`service.matching.service.match_candidates`). It exists only
for the encoder it was built from: :func:`for_encoder` returns None for any other.

The rows (int8, 11.7 MB) are read from the file as a batch needs them (:class:`FileRows`), so they
live in the page cache, not in each process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from service.embeddings.cache import register_forgetter
from service.embeddings.multilingual import FileRows
from service.paths import models_dir
from service.text import normalize_phrase

log = logging.getLogger(__name__)

MANIFEST = "static.json"
ROWS_FILE = "static-rows.i8"
SCALES_FILE = "static-scales.npy"
TOKENIZER_FILE = "tokenizer.json"
MAX_PIECES = 256
RECENT_TEXTS = 32_768  # as many as the memory of recent vectors (service.embeddings.cache)


class StaticVectors:
    """Approximate unit vectors of texts from per-piece rows (see the module's text)."""

    def __init__(self, rows: FileRows, scales: np.ndarray, tokenizer: Any, manifest: dict[str, Any]) -> None:
        self._rows = rows
        self._scales = scales.astype(np.float32, copy=False)
        self._tokenizer = tokenizer
        self.dim = int(rows.shape[1])
        self.encoder = str(manifest.get("encoder", ""))
        self.encoder_version = str(manifest.get("encoder_version", ""))
        # the word pieces of texts seen lately: a list sent again costs no tokenizer call
        self._pieces: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path) -> StaticVectors:
        from tokenizers import Tokenizer

        manifest = (
            json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if (folder / MANIFEST).exists()
            else {}
        )
        scales = np.load(folder / SCALES_FILE)
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_PIECES)
        path = folder / ROWS_FILE
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        size = os.fstat(fd).st_size
        rows = FileRows(fd, path, len(scales), size // max(1, len(scales)))
        return cls(rows, scales, tokenizer, manifest)

    def forget_phrases(self, norms: set[str]) -> None:
        """Drop the remembered pieces of texts whose normalised form is in ``norms`` (erasure)."""
        with self._lock:
            for text in [t for t in self._pieces if normalize_phrase(t) in norms]:
                del self._pieces[text]

    def pieces(self, texts: list[str]) -> list[np.ndarray]:
        """Each text's word-piece ids (without ``[CLS]`` and ``[SEP]``), remembered for the last
        :data:`RECENT_TEXTS` texts."""
        known: dict[str, np.ndarray] = {}
        with self._lock:
            for t in texts:
                ids = self._pieces.get(t)
                if ids is not None:
                    self._pieces.move_to_end(t)
                    known[t] = ids
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            encodings = self._tokenizer.encode_batch(todo, add_special_tokens=False)
            fresh = {t: np.asarray(e.ids, dtype=np.int32) for t, e in zip(todo, encodings, strict=True)}
            known.update(fresh)
            with self._lock:
                self._pieces.update(fresh)
                while len(self._pieces) > RECENT_TEXTS:
                    self._pieces.popitem(last=False)
        return [known[t] for t in texts]

    def encode(self, texts: list[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array of unit rows (zero for a text with no piece)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        pieces = self.pieces(texts)
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        if not lengths.sum():
            return out
        flat = np.concatenate(pieces).astype(np.int64)
        unique, inverse = np.unique(flat, return_inverse=True)
        table = self._rows[unique].view(np.int8).astype(np.float32) * self._scales[unique, None]
        owner = np.repeat(np.arange(len(texts)), lengths)
        counts = sp.csr_matrix(
            (np.ones(len(flat), dtype=np.float32), (owner, inverse)), shape=(len(texts), len(unique))
        )
        out = np.asarray(counts @ table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, np.float32(1e-12))


_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], StaticVectors | None] = {}


def for_encoder(encoder: Any, folder: Path | None = None) -> StaticVectors | None:
    """The static vectors built from ``encoder`` (same name and version as the manifest says), loaded
    once per process; None when there are none for it (another model folder, the test encoder) or
    their files cannot be read."""
    key = (str(getattr(encoder, "name", "")), str(getattr(encoder, "version", "")))
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load_for(key, folder or models_dir() / "encoder")
        return _LOADED[key]


def _load_for(key: tuple[str, str], folder: Path) -> StaticVectors | None:
    try:
        static = StaticVectors.load(folder)
    except (OSError, ValueError) as exc:
        log.info("no static vectors (%s): large stateless matches encode every phrase", exc)
        return None
    if (static.encoder, static.encoder_version) != key:
        return None
    register_forgetter(static)  # it remembers texts: an erasure must reach it
    return static
