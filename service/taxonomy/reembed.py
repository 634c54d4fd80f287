"""Re-embedding: every stored phrase (taxonomy labels, the skills and outcomes of demands, graduates and
courses) embedded for the configured encoder, as ``talentmatch reembed`` runs it after an encoder change."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from service import changes
from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder
from service.kit.progress import NullProgress, Progress
from service.taxonomy import repository as repo
from service.text import normalize_phrase


@dataclass
class ReembedSummary:
    model: str
    phrases: int
    embedded: int
    seconds: float


def all_phrases(session: Session) -> list[str]:
    """Every phrase the service embeds: taxonomy labels, and the skills and outcomes of demands,
    graduates and courses."""
    out: dict[str, None] = {}
    for row in repo.all_labels(session):
        out.setdefault(row[4], None)
    for skills in (*repo.phrases_of_graduates(session), *repo.phrases_of_demands(session)):
        for skill in skills or []:
            out.setdefault(normalize_phrase(str(skill.get("name", ""))), None)
    for skills, outcomes, title in repo.phrases_of_courses(session):
        for skill in skills or []:
            name = skill.get("name", "") if isinstance(skill, dict) else str(skill)
            out.setdefault(normalize_phrase(name), None)
        for outcome in outcomes or []:
            out.setdefault(normalize_phrase(str(outcome)), None)
        out.setdefault(normalize_phrase(title), None)
    out.pop("", None)
    return list(out)


def reembed(
    sessions: sessionmaker[Session], encoder: Encoder, *, progress: Progress | None = None
) -> ReembedSummary:
    """Embed every phrase for the configured encoder (only those not cached for it), then bump the
    taxonomy counter so every process rebuilds its in-memory index with the new vectors."""
    progress = progress or NullProgress()
    began = time.perf_counter()
    with sessions() as session:
        phrases = all_phrases(session)

    def on_missing(count: int) -> None:
        progress.start("embedding phrases", count)

    embedded = phrase_cache.ensure_cached(
        sessions, encoder, phrases, on_missing=on_missing, progress=progress.advance
    )
    with sessions() as session, session.begin():
        changes.bump(session, changes.TAXONOMY)
    return ReembedSummary(
        phrase_cache.model_key(encoder), len(phrases), embedded, time.perf_counter() - began
    )
