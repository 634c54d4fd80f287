"""The phrase cache: phrase embeddings through the database (table ``phrase_embedding``).

Each distinct normalised phrase is embedded once per encoder: the cache key is the encoder's
``name@version`` and the SHA-256 of :func:`normalize_phrase` of the text. Vectors are stored as
float32 bytes.

- :func:`ensure_cached` fills the cache for a large set of phrases (an import): it encodes only the
  missing ones, in big batches (``BULK_BATCH_SIZE`` phrases per forward pass), each batch of
  ``ENCODE_BATCH`` written and committed in its own short transaction, so an interrupted import
  resumes where it stopped and a re-import embeds nothing.
- :func:`vectors_for` reads vectors (and, inside a write transaction, embeds and stores the missing).
- :func:`embed_texts` is a request's way in: cached vectors, the rest encoded in one batch and stored
  (in the request's transaction when it writes, else in a short one of its own), counted in the metrics.
  In front of the database sits :data:`RECENT`, a bounded in-memory LRU of the vectors this process
  used last (:class:`RecentVectors`): a stateless call (``store=False``, ``POST /v1/match``) reads it
  first, so a phrase seen lately costs neither a database read nor an encoder call, and keeps its new
  vectors only there, in memory, never in the database. Storing calls read and write the database
  only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.db import brief_write, is_writer
from service.embeddings import repository as repo
from service.embeddings.encoder import Encoder, EncoderUnavailable
from service.errors import ServiceUnavailable, is_lock_timeout
from service.ops import metrics
from service.text import normalize_phrase

log = logging.getLogger(__name__)

ENCODE_BATCH = 4096
# Short phrases encode much faster in large batches on a CPU (measured on all-MiniLM-L6-v2, 2 cores:
# 130 labels/s at 64 per batch, 205 at 512), so bulk runs raise an encoder's ``batch_size`` to this.
BULK_BATCH_SIZE = 512
Progress = Callable[[int], None]


# Vectors kept in memory per process (about 1.6 KB each at 384 dimensions: 32,768 are about 50 MB);
# ``TALENTMATCH_RECENT_PHRASES`` overrides it, 0 turns the memory off.
RECENT_PHRASES = int(os.environ.get("TALENTMATCH_RECENT_PHRASES", "32768"))


class RecentVectors:
    """A bounded LRU of phrase vectors, keyed by (encoder's ``name@version``, normalised text).

    Thread-safe; ``get`` refreshes what it finds, ``put`` evicts the least recently used beyond
    ``capacity``. It holds only what the process embedded or read lately, and forgets it on restart.
    """

    def __init__(self, capacity: int = RECENT_PHRASES) -> None:
        self.capacity = max(0, capacity)
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, model: str, norms: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if not self.capacity:
            return out
        with self._lock:
            for norm in norms:
                vec = self._data.get((model, norm))
                if vec is not None:
                    self._data.move_to_end((model, norm))
                    out[norm] = vec
        return out

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if not self.capacity or not vectors:
            return
        with self._lock:
            for norm, vec in vectors.items():
                key = (model, norm)
                if key in self._data:
                    self._data.move_to_end(key)
                else:
                    self._data[key] = np.array(vec, dtype=np.float32, copy=True)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def forget(self, norms: set[str]) -> None:
        """Drop these texts under every encoder (an erased graduate's phrases)."""
        if not norms:
            return
        with self._lock:
            for key in [k for k in self._data if k[1] in norms]:
                del self._data[key]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


RECENT = RecentVectors()

# Other in-process memories keyed by phrase text (e.g. the taxonomy's canonical-id memo), told by
# :func:`forget_phrases` to drop an erased graduate's phrases; held weakly, so a discarded app goes.
_FORGETTERS: weakref.WeakSet[Any] = weakref.WeakSet()


def register_forgetter(holder: Any) -> None:
    """``holder.forget_phrases(norms)`` will be called for every erasure in this process."""
    _FORGETTERS.add(holder)


def forget_phrases(norms: set[str]) -> None:
    """Drop these normalised phrases from every in-process memory that holds phrase text (erasure)."""
    if not norms:
        return
    RECENT.forget(norms)
    for holder in list(_FORGETTERS):
        holder.forget_phrases(norms)


def model_key(encoder: Encoder) -> str:
    return f"{encoder.name}@{encoder.version}"


def phrase_hash(norm: str) -> str:
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def distinct_norms(texts: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        norm = normalize_phrase(text)
        if norm:
            seen.setdefault(norm, None)
    return list(seen)


def vector_rows(model: str, norms: list[str], vectors: np.ndarray) -> list[dict[str, Any]]:
    """``phrase_embedding`` rows for ``norms`` (normalised phrases) and their vectors under ``model``."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return [
        {
            "model": model,
            "text_hash": phrase_hash(norm),
            "text": norm,
            "dim": int(vectors.shape[1]),
            "vector": vectors[i].tobytes(),
        }
        for i, norm in enumerate(norms)
    ]


def store_vectors(session: Session, encoder: Encoder, norms: list[str], vectors: np.ndarray) -> None:
    """Add ``norms``' vectors to the cache, in ``session``'s transaction."""
    repo.insert_vectors(session, vector_rows(model_key(encoder), norms, vectors))


def missing_norms(session: Session, encoder: Encoder, norms: list[str]) -> list[str]:
    model = model_key(encoder)
    have = repo.cached_hashes(session, model, [phrase_hash(n) for n in norms])
    return [n for n in norms if phrase_hash(n) not in have]


def ensure_cached(
    sessions: sessionmaker[Session],
    encoder: Encoder,
    texts: Iterable[str],
    *,
    batch: int = ENCODE_BATCH,
    on_missing: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> int:
    """Embed and store every phrase of ``texts`` not yet cached for ``encoder``; the number embedded.

    Cost: one cache lookup per 900 phrases, then one encoder batch per ``batch`` missing phrases.
    """
    norms = distinct_norms(texts)
    with sessions() as session:
        todo = missing_norms(session, encoder, norms)
    if on_missing is not None:
        on_missing(len(todo))
    model = model_key(encoder)
    previous = getattr(encoder, "batch_size", None)
    if isinstance(previous, int) and previous < BULK_BATCH_SIZE:
        encoder.batch_size = BULK_BATCH_SIZE  # type: ignore[attr-defined]
    try:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            vectors = encoder.encode(chunk)
            with sessions() as session, session.begin():
                repo.insert_vectors(session, vector_rows(model, chunk, vectors))
            if progress is not None:
                progress(len(chunk))
    finally:
        if isinstance(previous, int):
            encoder.batch_size = previous  # type: ignore[attr-defined]
    return len(todo)


def load_cached(session: Session, encoder: Encoder, norms: list[str]) -> dict[str, np.ndarray]:
    """norm -> vector for the phrases already cached (others are absent)."""
    model = model_key(encoder)
    by_hash = {phrase_hash(n): n for n in norms}
    out: dict[str, np.ndarray] = {}
    for digest, dim, blob in repo.cached_vectors(session, model, list(by_hash)):
        vec = np.frombuffer(blob, dtype=np.float32)
        if vec.shape[0] == dim == encoder.dim:
            out[by_hash[digest]] = vec
    return out


def vectors_for(session: Session, encoder: Encoder, norms: list[str], *, store: bool) -> np.ndarray:
    """(len(norms), dim) float32: cached vectors, the rest encoded now (and stored when ``store``)."""
    found = load_cached(session, encoder, norms)
    todo = [n for n in dict.fromkeys(norms) if n not in found]
    if todo:
        vectors = encoder.encode(todo)
        found.update(zip(todo, vectors, strict=True))
        if store:
            store_vectors(session, encoder, todo, vectors)
    if not norms:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    return np.stack([found[n] for n in norms]).astype(np.float32, copy=False)


def _count(counter: Any, amount: int) -> None:
    if amount > 0:
        counter.inc(amount)


def _encode(encoder: Encoder, texts: list[str]) -> np.ndarray:
    try:
        return np.asarray(encoder.encode(texts), dtype=np.float32)
    except ServiceUnavailable:
        raise
    except Exception as exc:
        log.exception("encoder failed")
        raise EncoderUnavailable("The encoder failed while embedding phrases; nothing was stored.") from exc


def embed_texts(session: Session, encoder: Encoder, texts: list[str], *, store: bool = True) -> np.ndarray:
    """(len(texts), dim) unit vectors, each distinct normalised phrase embedded once per encoder.

    Cached phrases are read from the database; the others are encoded in one batch and stored: in the
    request's own transaction when it writes, else in a short transaction of their own (the cache holds
    no tenant data, and a reader must not take SQLite's write lock for the length of its request).
    ``store=False`` embeds without storing (stateless calls keep nothing about their candidates in the
    database; their vectors stay only in the process's bounded memory, :data:`RECENT`). Cost for
    phrases seen lately: dictionary lookups, no database read and no encoder call.
    """
    norms = [normalize_phrase(t) for t in texts]
    if not norms:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    distinct = list(dict.fromkeys(norms))
    model = model_key(encoder)
    # Only stateless calls use the memory: a storing call reads the database, so that what it embeds
    # ends up there, and keeps nothing in memory.
    found = {} if store else RECENT.get(model, distinct)
    rest = [n for n in distinct if n not in found] if found else distinct
    fresh: dict[str, np.ndarray] = load_cached(session, encoder, rest) if rest else {}
    todo = [n for n in rest if n not in fresh]
    _count(metrics.phrase_cache_hits, len(distinct) - len(todo))
    _count(metrics.phrase_cache_misses, len(todo))
    if todo:
        vectors = _encode(encoder, todo)
        fresh.update(zip(todo, vectors, strict=True))
        if not store:
            pass
        elif is_writer(session):
            store_vectors(session, encoder, todo, vectors)
        else:
            _store_apart(session, encoder, todo, vectors)
    if not store:
        RECENT.put(model, fresh)
    found.update(fresh)
    return np.stack([found[n] for n in norms]).astype(np.float32, copy=False)


def _store_apart(session: Session, encoder: Encoder, norms: list[str], vectors: np.ndarray) -> None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    try:
        with brief_write(engine) as writer:
            store_vectors(writer, encoder, norms, vectors)
    except Exception as exc:  # the cache is an optimisation: a failed store only costs a later re-embedding
        if isinstance(exc, OperationalError) and is_lock_timeout(exc):
            log.info("%d phrase embeddings not cached: the database is busy with other writes", len(norms))
        else:
            log.warning("could not store %d phrase embeddings in the cache", len(norms), exc_info=True)
