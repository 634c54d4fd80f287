"""Taxonomy import (ESCO, O*NET) as a new version. It owns its transactions because it is long: embeddings
are written in short transactions of their own (so an interrupted run resumes), and the taxonomy's
rows, the version record and the state counter change in one final transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service import changes
from service.embeddings import cache as phrase_cache
from service.embeddings.encoder import Encoder
from service.kit.imports import ImportCounts, diff_by_hash
from service.kit.progress import NullProgress, Progress
from service.orm import TaxonomyVersion, utcnow
from service.taxonomy import repository as repo
from service.taxonomy.importers import ParsedTaxonomy, SkillRecord
from service.text import normalize_phrase


@dataclass(kw_only=True)
class ImportSummary(ImportCounts):
    source: str
    version: str
    skills: int
    labels: int


def _skill_row(record: SkillRecord, source: str, version: str) -> dict[str, Any]:
    return {
        "skill_id": record.skill_id,
        "source": source,
        "preferred_label": record.preferred_label,
        "alt_labels": list(record.alt_labels),
        "description": record.description,
        "skill_type": record.skill_type,
        "broader": record.broader,
        "taxonomy_version": version,
        "content_hash": record.content_hash(),
        "updated_at": utcnow(),
    }


def _label_rows(record: SkillRecord) -> list[dict[str, Any]]:
    rows = []
    seen: set[str] = set()
    for label, kind in record.labels():
        norm = normalize_phrase(label)
        if not norm or norm in seen:
            continue
        seen.add(norm)
        rows.append({"skill_id": record.skill_id, "label": label, "norm": norm, "kind": kind})
    return rows


def import_taxonomy(
    sessions: sessionmaker[Session],
    encoder: Encoder,
    parsed: ParsedTaxonomy,
    *,
    progress: Progress | None = None,
) -> ImportSummary:
    """Store a parsed export: embed labels not yet cached, then insert new skills, update changed ones
    (content hash), delete the source's skills the export no longer has, record the version."""
    progress = progress or NullProgress()
    began = time.perf_counter()
    summary = ImportSummary(
        source=parsed.source, version=parsed.version, skills=len(parsed.records), labels=parsed.label_count
    )
    labels = [label for r in parsed.records for label, _ in r.labels()]

    def on_missing(count: int) -> None:
        progress.start("embedding labels", count)

    summary.embedded = phrase_cache.ensure_cached(
        sessions, encoder, labels, on_missing=on_missing, progress=progress.advance
    )
    summary.timings["embed"] = time.perf_counter() - began

    t_write = time.perf_counter()
    with sessions() as session, session.begin():
        existing = repo.hashes_for_source(session, parsed.source)
        progress.start("comparing skills", len(parsed.records))
        diff = diff_by_hash(
            parsed.records,
            existing,
            key=lambda r: r.skill_id,
            row=lambda r: _skill_row(r, parsed.source, parsed.version),
            children=_label_rows,
        )
        progress.advance(len(parsed.records))
        summary.count(diff)
        progress.start("writing skills", diff.writes)
        repo.delete_skills(session, diff.removed)
        repo.delete_labels(session, diff.touched)
        repo.insert_skills(session, diff.new_rows)
        repo.update_skills(session, diff.changed_rows)
        repo.insert_labels(session, diff.child_rows)
        progress.advance(diff.writes)
        latest = repo.latest_version(session, parsed.source)
        if summary.changed or latest is None or latest.version != parsed.version:
            repo.add_version(
                session,
                TaxonomyVersion(
                    source=parsed.source,
                    version=parsed.version,
                    skills=len(parsed.records),
                    labels=repo.count_labels(session, parsed.source),
                ),
            )
            summary.version_recorded = True
            changes.bump(session, changes.TAXONOMY)
    summary.timings["write"] = time.perf_counter() - t_write
    summary.seconds = time.perf_counter() - began
    return summary
