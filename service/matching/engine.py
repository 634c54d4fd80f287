"""The matching engine, one per process: the phrase store and graduate index, kept in step with the
database through the ``graduate`` change counter (a cheap read per request, then only the changed rows
and tombstones), its warm-up at start-up and its sync after an erasure. The use cases that rank with
it live in :mod:`service.matching.service`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy.orm import Session
from starlette.datastructures import State

from service import changes
from service.embeddings.cache import embed_texts, forget_phrases, register_forgetter
from service.embeddings.encoder import Encoder, EncoderUnavailable, companion
from service.matching import crosslingual, scoring
from service.matching import repository as repo
from service.matching.calibration import Calibration, load_bridge, load_calibration
from service.matching.index import GraduateIndex
from service.matching.lexical import LexicalModel, default_model
from service.matching.phrase_store import PhraseStore
from service.matching.synonyms import SESSION_INFO_KEY as SYNONYMS_KEY
from service.matching.synonyms import Synonyms
from service.memory import release_memory

log = logging.getLogger(__name__)


# --- the engine (one per process) -----------------------------------------------------------------


def synonyms_for(session: Session) -> Synonyms | None:
    """The synonyms of the taxonomy imported in this session's database (:mod:`~service.matching.synonyms`):
    sessions made by the app or the CLI carry a provider (``session.info[SYNONYMS_KEY]``, set by the
    taxonomy package); None without one, or while no taxonomy with labels is imported."""
    provider = session.info.get(SYNONYMS_KEY)
    return provider(session) if callable(provider) else None


def skill_names_levels(skills: list[Any]) -> tuple[list[str], list[int | None]]:
    names = [str(s.get("name", "")) for s in skills if s.get("name")]
    levels = [s.get("level") for s in skills if s.get("name")]
    return names, levels


class MatchingEngine:
    """The encoder, calibration, lexical channel and the process's graduate index.

    With ``ml_encoder`` (the multilingual encoder, when its channel is on and its curve is fitted),
    every phrase also gets its multilingual vector (cached under that encoder's own key), and pairs
    where a text holds CJK characters are scored through it too (:func:`crosslingual.cross_lingual`).
    """

    def __init__(
        self,
        encoder: Encoder,
        calibration: Calibration,
        lexical: LexicalModel,
        ml_encoder: Encoder | None = None,
    ) -> None:
        self.encoder = encoder
        self.calibration = calibration
        self.lexical = lexical
        self.multilingual = bool(getattr(encoder, "multilingual", False))
        self.bridge = load_bridge(calibration, ml_encoder.name) if ml_encoder is not None else None
        self.ml_encoder = ml_encoder if self.bridge is not None else None
        self.phrases = PhraseStore(
            encoder.dim, lexical, ml_dim=self.ml_encoder.dim if self.ml_encoder else 0, bridge=self.bridge
        )
        self.index = GraduateIndex(self.phrases, calibration, multilingual=self.multilingual)
        self.seen = -1
        self._sync_lock = threading.RLock()
        self._background = threading.Lock()  # guards the two flags of sync_in_background
        self._background_running = False
        self._background_again = False
        register_forgetter(lexical)

    @property
    def model(self) -> str:
        return self.encoder.name

    def ensure_phrases(self, session: Session, texts: list[str]) -> np.ndarray:
        """Store ids of ``texts``, embedding (or reading from the cache) the phrases not held yet."""
        ids, missing = self.phrases.lookup(texts)
        if missing:
            self.phrases.add(
                missing, embed_texts(session, self.encoder, missing), self.ml_vectors(session, missing)
            )
            todo = np.flatnonzero(ids < 0)
            ids[todo] = self.phrases.ids([texts[i] for i in todo])
        return ids

    def ml_vectors(self, session: Session, texts: list[str], *, store: bool = True) -> np.ndarray | None:
        """Multilingual vectors of ``texts`` through the phrase cache, or None when the channel is off."""
        if self.ml_encoder is None:
            return None
        return embed_texts(session, self.ml_encoder, texts, store=store)

    def ml_for(
        self, session: Session, demand: scoring.DemandSkills, texts: list[str], *, store: bool = True
    ) -> np.ndarray | None:
        """The multilingual vectors :func:`crosslingual.cross_lingual` reads for ``demand`` against ``texts``
        (:func:`crosslingual.ml_needed`), or None when the channel is off."""
        encoder = self.ml_encoder
        if encoder is None:
            return None
        return crosslingual.ml_needed(
            lambda part: embed_texts(session, encoder, part, store=store), encoder.dim, demand.trust, texts
        )

    def sync_in_background(self, sessions: Callable[[], Session]) -> None:
        """:meth:`sync` from a background task (after an erasure). At most one such sync runs at a
        time, and it takes no database connection until the index is free: erasures made during a
        long sync (a match embedding many new phrases) would otherwise each hold a pooled connection
        while they wait, and could empty the pool. A call made while one runs has that one sync once
        more before it returns."""
        with self._background:
            if self._background_running:
                self._background_again = True
                return
            self._background_running = True
        try:
            while True:
                with self._background:
                    self._background_again = False
                with self._sync_lock, sessions() as session:
                    self.sync(session)
                with self._background:
                    if not self._background_again:
                        self._background_running = False
                        return
        except BaseException:
            with self._background:
                self._background_running = False
            raise

    def sync(self, session: Session) -> None:
        """Bring the graduate index up to the database's ``graduate`` change counter."""
        current = changes.current(session, changes.GRADUATE)
        if current == self.seen:
            return
        with self._sync_lock:
            if current == self.seen:
                return
            first = self.seen < 0
            if first:
                self._load_all(session)
                self.phrases.shrink()
                release_memory()
            else:
                rows = list(repo.graduates_changed_since(session, self.seen))
                removed = repo.tombstones_since(session, self.seen)
                self.ensure_phrases(
                    session, [n for _, _, skills, _ in rows for n in skill_names_levels(skills)[0]]
                )
                for gid, school, skills, placed in rows:
                    if placed:
                        self.index.remove(gid)
                        continue
                    names, lv = skill_names_levels(skills)
                    self.index.upsert(gid, self.phrases.ids(names), lv, payload=school)
                for gid in removed:
                    self.index.remove(gid)
                if removed:
                    self.drop_orphan_phrases()
            self.seen = current

    def drop_orphan_phrases(self) -> int:
        """After an erasure: drop from the phrase store every phrase no live graduate holds (the erased
        graduates', and those of placed ones, which a later use embeds again from the database cache),
        and tell the process's other phrase memories to forget them. Returns how many."""
        dropped = self.phrases.drop(self.index.orphans())
        forget_phrases(set(dropped))
        return len(dropped)

    def weights(self, session: Session, demand: scoring.DemandSkills) -> np.ndarray:
        """Effective weights of the demanded skills: importance x specificity among all graduates
        (:meth:`GraduateIndex.specificity_for`), the same in every kind of match."""
        self.sync(session)
        return demand.weights * self.index.specificity_for(demand)

    def _load_all(self, session: Session, chunk: int = 5000) -> None:
        """First sync of the process: every live graduate, read and indexed in chunks (a bounded
        amount of Python objects at a time), then one rebuild of the index."""
        keys: list[str] = []
        payloads: list[str] = []
        ids: list[np.ndarray] = []
        levels: list[np.ndarray] = []
        lengths: list[int] = []
        batch: list[tuple[str, str, list[Any], bool]] = []

        schools: dict[str, str] = {}  # one string object per school, not one per graduate

        def flush() -> None:
            live = [
                (gid, school, skill_names_levels(skills))
                for gid, school, skills, placed in batch
                if not placed
            ]
            chunk_ids = self.ensure_phrases(session, [n for _, _, (names, _) in live for n in names])
            start = 0
            for gid, school, (names, lv) in live:
                keys.append(gid)
                payloads.append(schools.setdefault(school, school))
                ids.append(chunk_ids[start : start + len(names)].astype(np.int32))
                levels.append(scoring.encode_levels(lv))
                lengths.append(len(names))
                start += len(names)
            batch.clear()

        for row in repo.graduates_changed_since(session, -1):
            batch.append(row)
            if len(batch) >= chunk:
                flush()
        flush()
        indptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        self.index.load(
            keys,
            indptr,
            np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32),
            np.concatenate(levels) if levels else np.zeros(0, dtype=np.int8),
            payloads,
        )

    def demand_skills(self, session: Session, skills: list[Any]) -> scoring.DemandSkills:
        names = [str(s["name"]) for s in skills]
        vecs = embed_texts(session, self.encoder, names)
        return scoring.DemandSkills.build(
            names,
            vecs,
            self.lexical,
            weights=[float(s.get("importance") or 3) for s in skills],
            required=[bool(s.get("required")) for s in skills],
            levels=[s.get("level") for s in skills],
            ml=self.ml_vectors(session, names),
            synonyms=synonyms_for(session),
        )


_engine_lock = threading.Lock()


def engine_for(app_state: State) -> MatchingEngine:
    """The process's engine, built on first use from the encoder loaded at start-up."""
    engine: MatchingEngine | None = getattr(app_state, "matching", None)
    if engine is not None:
        return engine
    encoder = getattr(app_state, "encoder", None)
    if encoder is None:
        raise EncoderUnavailable("The encoder is not loaded; matching is unavailable.")
    with _engine_lock:
        engine = getattr(app_state, "matching", None)
        if engine is None:
            engine = MatchingEngine(
                encoder,
                load_calibration(encoder.name),
                default_model(),
                ml_encoder=companion(encoder),
            )
            app_state.matching = engine
    return engine


def sync_after_erasure(app_state: State) -> None:
    """Bring a loaded graduate index up to date now (after an erasure commits), so the erased
    graduates' phrases leave this process's memory at once rather than at the next match."""
    engine: MatchingEngine | None = getattr(app_state, "matching", None)
    if engine is None or engine.seen < 0:
        return  # nothing loaded: the first sync reads only live graduates
    try:
        engine.sync_in_background(app_state.read_sessions)
    except Exception:  # the next request's sync does the same
        log.exception("syncing the graduate index after an erasure failed")


class WarmUp:
    """Loads the graduate index in a background thread at start-up, so that the first match request
    does not pay for it (100,000 graduates: tens of seconds). ``status`` is ``loading``, ``ok`` or
    ``failed``; readiness reports it, and a request that comes earlier waits for the same load."""

    def __init__(self, app_state: State) -> None:
        self.status = "loading"
        self._app_state = app_state
        self._thread = threading.Thread(target=self._run, name="graduate-index-warm-up", daemon=True)

    def start(self) -> WarmUp:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            engine = engine_for(self._app_state)
            with self._app_state.read_sessions() as session:
                engine.sync(session)
            self.status = "ok"
            log.info("graduate index loaded: %d graduates", len(engine.index))
        except Exception:
            self.status = "failed"
            log.exception("loading the graduate index at start-up failed; the first match will retry")
