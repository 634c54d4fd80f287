"""Per-process taxonomy state: the :class:`~service.taxonomy.index.TaxonomyIndex` at the database's state.

One :class:`TaxonomyRuntime` per app (or CLI run) holds the index. Each use compares the database's
``taxonomy`` state counter with the one the index was built at and rebuilds the index when another
process (an import, a re-embed) changed it. It also keeps an LRU of query embeddings and a memo of
canonical ids, both emptied of erased phrases.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from sqlalchemy.orm import Session

from service import changes
from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder, EncoderUnavailable
from service.matching.synonyms import SESSION_INFO_KEY as SYNONYMS_KEY
from service.matching.synonyms import Synonyms
from service.memory import release_memory
from service.taxonomy import repository as repo
from service.taxonomy.index import TaxonomyIndex
from service.taxonomy.scoring import DEFAULT

log = logging.getLogger(__name__)

ENCODE_AT_LOAD = 5_000
QUERY_CACHE = 20_000
SESSION_INFO_KEY = "taxonomy_runtime"
_CHECKED_KEY = "taxonomy_state_checked"


class TaxonomyRuntime:
    """Per-process state: the current index, a query-embedding LRU and a memo of canonical ids."""

    def __init__(self, encoder: Callable[[], Encoder | None]) -> None:
        self._encoder = encoder
        self._lock = threading.Lock()
        self._index: TaxonomyIndex | None = None
        self._queries: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.canonical_memo: dict[str, str | None] = {}
        phrase_cache.register_forgetter(self)

    def forget_phrases(self, norms: set[str]) -> None:
        """Drop erased phrases from the canonical-id memo and the query-embedding LRU."""
        with self._lock:
            self.canonical_memo = {k: v for k, v in self.canonical_memo.items() if k not in norms}
            for key in [k for k in self._queries if k[1] in norms]:
                del self._queries[key]

    def encoder(self) -> Encoder:
        enc = self._encoder()
        if enc is None:
            raise EncoderUnavailable("The encoder is not loaded; skills cannot be matched.")
        return enc

    def index(self, session: Session) -> TaxonomyIndex:
        """The index at the database's current taxonomy state (rebuilt when it changed)."""
        encoder = self.encoder()
        model = phrase_cache.model_key(encoder)
        current = self._index
        checked = session.info.get(_CHECKED_KEY)
        if current is not None and checked == (id(self), current.seq) and current.model == model:
            return current  # this session (one transaction) has already compared the counter
        seq = changes.current(session, changes.TAXONOMY)
        if current is not None and current.seq == seq and current.model == model:
            session.info[_CHECKED_KEY] = (id(self), seq)
            return current
        with self._lock:
            current = self._index
            if current is not None and current.seq == seq and current.model == model:
                return current
            current = load_index(session, encoder, seq)
            release_memory()  # the rows and cached-vector blobs read for the build
            self._index = current
            self.canonical_memo = {}
            session.info[_CHECKED_KEY] = (id(self), seq)
            return current

    def synonyms(self, session: Session) -> Synonyms | None:
        """The labels of the index at the database's state, as the matcher reads them (None while no
        taxonomy is imported)."""
        return self.index(session).synonyms()

    def query_vectors(self, session: Session, norms: list[str], *, store: bool = False) -> np.ndarray:
        """Embeddings of query phrases: from the in-process LRU, then the database cache, then the
        encoder. With ``store`` (names being written with a demand, graduate or course) new vectors
        go into the database cache too, so the matcher does not embed them again."""
        encoder = self.encoder()
        model = phrase_cache.model_key(encoder)
        out = np.zeros((len(norms), encoder.dim), dtype=np.float32)
        todo: list[str] = []
        for norm in dict.fromkeys(norms):
            if (model, norm) not in self._queries:
                todo.append(norm)
        if todo:
            vecs = _embed(session, encoder, todo, store=store)
            for norm, vec in zip(todo, vecs, strict=True):
                self._queries[(model, norm)] = vec
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        for i, norm in enumerate(norms):
            vec = self._queries.get((model, norm))
            if vec is None:  # evicted by a very large batch
                vec = phrase_cache.vectors_for(session, encoder, [norm], store=False)[0]
            else:
                self._queries.move_to_end((model, norm))
            out[i] = vec
        return out


def _embed(session: Session, encoder: Encoder, norms: list[str], *, store: bool) -> np.ndarray:
    if store:
        return phrase_cache.embed_texts(session, encoder, norms, store=True)
    return phrase_cache.vectors_for(session, encoder, norms, store=False)


def load_index(session: Session, encoder: Encoder, seq: int) -> TaxonomyIndex:
    rows = repo.all_labels(session)
    norms = list(dict.fromkeys(r[4] for r in rows))
    vectors = phrase_cache.load_cached(session, encoder, norms)
    missing = [n for n in norms if n not in vectors]
    if missing and len(missing) <= ENCODE_AT_LOAD:
        vectors.update(zip(missing, encoder.encode(missing), strict=True))
    elif missing:
        log.warning(
            "%d taxonomy labels have no cached embedding for %s; they match lexically only until "
            "`talentmatch reembed` runs",
            len(missing),
            phrase_cache.model_key(encoder),
        )
    index = TaxonomyIndex(
        seq=seq,
        model=phrase_cache.model_key(encoder),
        rows=rows,
        vectors=vectors,
        dim=encoder.dim,
        multilingual=bool(getattr(encoder, "multilingual", False)),
        calibration=DEFAULT,
    )
    log.info("taxonomy index: %d skills, %d labels (state %d)", len(index), len(index.label_norm), seq)
    return index


def runtime_for(session: Session) -> TaxonomyRuntime | None:
    runtime = session.info.get(SESSION_INFO_KEY)
    return runtime if isinstance(runtime, TaxonomyRuntime) else None


def attach(sessionmakers: list[object], runtime: TaxonomyRuntime) -> None:
    """Make ``runtime`` reachable from every session these sessionmakers create (``session.info``)."""
    for maker in sessionmakers:
        kw = getattr(maker, "kw", {})
        info = dict(kw.get("info") or {})
        info[SESSION_INFO_KEY] = runtime
        info[SYNONYMS_KEY] = runtime.synonyms
        maker.configure(info=info)  # type: ignore[attr-defined]
