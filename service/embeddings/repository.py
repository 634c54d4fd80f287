"""SQL of the phrase-embedding cache (table ``phrase_embedding``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.orm import PhraseEmbedding


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cached_vectors(session: Session, model: str, hashes: list[str]) -> list[tuple[str, int, bytes]]:
    """(text_hash, dim, vector bytes) for the hashes cached for ``model``."""
    out: list[tuple[str, int, bytes]] = []
    for chunk in _chunks(sorted(set(hashes)), 900):
        stmt = select(PhraseEmbedding.text_hash, PhraseEmbedding.dim, PhraseEmbedding.vector).where(
            PhraseEmbedding.model == model, PhraseEmbedding.text_hash.in_(chunk)
        )
        out.extend((h, d, bytes(v)) for h, d, v in session.execute(stmt))
    return out


def cached_hashes(session: Session, model: str, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(hashes)), 900):
        stmt = select(PhraseEmbedding.text_hash).where(
            PhraseEmbedding.model == model, PhraseEmbedding.text_hash.in_(chunk)
        )
        found.update(session.scalars(stmt))
    return found


def insert_vectors(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert cache rows, skipping any (model, text_hash) another writer stored first."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    for chunk in _chunks(rows, 1000):
        stmt = maker(PhraseEmbedding).on_conflict_do_nothing(index_elements=["model", "text_hash"])
        session.execute(stmt, chunk)
