"""The import of an occupational classification (CSCO, ESCO occupations) as a new version.

The import owns its transactions like the skill import (:func:`service.taxonomy.importing.import_taxonomy`):
the names' vectors are cached first (short transactions of their own, so an interrupted run resumes),
then the occupations, their skill relations, the version record and the ``occupation`` state counter
change in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service import changes
from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder
from service.kit.imports import ImportCounts, diff_by_hash
from service.kit.progress import NullProgress, Progress
from service.occupations import repository as repo
from service.occupations.importers import OccupationRecord, ParsedOccupations
from service.orm import TaxonomyVersion, utcnow
from service.taxonomy import repository as taxonomy_repo


@dataclass(kw_only=True)
class ImportSummary(ImportCounts):
    taxonomy: str
    version: str
    occupations: int
    labels: int
    relations: int


def _row(record: OccupationRecord, version: str) -> dict[str, Any]:
    return {
        "occupation_id": record.occupation_id,
        "taxonomy": record.taxonomy,
        "code": record.code,
        "label": record.label,
        "alt_labels": list(record.alt_labels),
        "definition": record.definition,
        "tasks": list(record.tasks),
        "level": record.level,
        "broader": record.broader,
        "taxonomy_version": version,
        "content_hash": record.content_hash(),
        "updated_at": utcnow(),
    }


def _relations(record: OccupationRecord) -> list[dict[str, Any]]:
    return [
        {"occupation_id": record.occupation_id, "skill_id": s, "relation": r, "skill_type": t}
        for s, r, t in record.skills
    ]


def import_occupations(
    sessions: sessionmaker[Session],
    encoders: Encoder | Sequence[Encoder],
    parsed: ParsedOccupations,
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Store a parsed classification: cache the names' vectors (``encoders``: those titles are matched
    with), insert new occupations, update changed ones (content hash), delete those the file no
    longer has, record the version. Re-running with the same file changes nothing."""
    progress = progress or NullProgress()
    began = time.perf_counter()
    summary = ImportSummary(
        taxonomy=parsed.taxonomy,
        version=parsed.version,
        occupations=len(parsed.records),
        labels=parsed.label_count,
        relations=parsed.relation_count,
    )

    def on_missing(count: int) -> None:
        progress.start("embedding names", count)

    names = [n for r in parsed.records for n in r.names()]
    for encoder in [encoders] if not isinstance(encoders, Sequence) else encoders:
        summary.embedded += phrase_cache.ensure_cached(
            sessions, encoder, names, on_missing=on_missing, progress=progress.advance
        )
    summary.timings["embed"] = time.perf_counter() - began
    t_write = time.perf_counter()
    with sessions() as session, session.begin():
        existing = repo.hashes_for_taxonomy(session, parsed.taxonomy)
        diff = diff_by_hash(
            parsed.records,
            existing,
            key=lambda r: r.occupation_id,
            row=lambda r: _row(r, parsed.version),
            children=_relations,
        )
        summary.count(diff)
        progress.start("writing occupations", diff.writes)
        repo.delete_occupations(session, diff.removed)
        repo.delete_relations(session, diff.touched)
        repo.insert_occupations(session, diff.new_rows)
        repo.update_occupations(session, diff.changed_rows)
        repo.insert_relations(session, diff.child_rows)
        progress.advance(diff.writes)
        latest = taxonomy_repo.latest_version(session, parsed.source)
        if summary.changed or latest is None or latest.version != parsed.version:
            taxonomy_repo.add_version(
                session,
                TaxonomyVersion(
                    source=parsed.source,
                    version=parsed.version,
                    skills=len(parsed.records),
                    labels=parsed.label_count,
                ),
            )
            summary.version_recorded = True
            changes.bump(session, changes.OCCUPATION)
    summary.timings["write"] = time.perf_counter() - t_write
    summary.seconds = time.perf_counter() - began
    return summary
