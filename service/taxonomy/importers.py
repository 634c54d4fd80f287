"""Readers of taxonomy exports: the official ESCO CSV and the O*NET text files.

Both turn a folder into a list of :class:`SkillRecord` or raise :class:`TaxonomyFileError`, which names
the file, the line and the column of every problem found. They read and check the *whole* input before
anything is written, so a file in the wrong format or encoding, with missing columns, or cut short
leaves the database unchanged.

- ESCO: ``skills_en.csv`` (comma separated, UTF-8, CRLF line ends). Columns used: ``conceptUri`` (the
  stable id), ``preferredLabel``, ``altLabels`` and ``hiddenLabels`` (newline-separated inside one quoted
  field), ``description``, ``skillType``. The export always ends with a line break; a file that does
  not, or whose last row has fewer fields than the header, is reported as truncated.
- O*NET: ``Technology Skills.txt`` (tab separated). Each distinct (``Commodity Code``, ``Example``) is a
  skill with id ``onet:<commodity code>:<example>`` whose broader group is the ``Commodity Title``; each
  commodity is a skill too (``onet:<commodity code>``). An example listed under several commodities is
  one skill (under the commodity it is listed with most often). An example that ends with its own
  initialism ("Advanced business application programming ABAP") gains the initialism and the bare
  name as alternative labels; one that starts with a vendor's name ("Microsoft Excel") gains the
  product name ("Excel") as a hidden label (matched, never displayed).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from service.taxonomy.files import (
    MAX_ERRORS,
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
from service.text import normalize_phrase

ESCO_FILE = "skills_en.csv"
ESCO_REQUIRED = ("conceptUri", "preferredLabel", "altLabels", "description", "skillType")
ONET_FILE = "Technology Skills.txt"
ONET_REQUIRED = ("O*NET-SOC Code", "Example", "Commodity Code", "Commodity Title")
_VERSION_IN_NAME = re.compile(r"v\d+(?:\.\d+)+", re.IGNORECASE)
_ONET_README_VERSION = re.compile(r"O\*NET\s+(\d+(?:\.\d+)*)\s+Database", re.IGNORECASE)
_INITIALISM = re.compile(r"^(?P<name>.+?)\s+(?P<abbr>[A-Z][A-Z0-9+#&/.-]{1,9})$")


@dataclass(frozen=True)
class SkillRecord:
    skill_id: str
    preferred_label: str
    alt_labels: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()
    description: str | None = None
    skill_type: str | None = None
    broader: str | None = None
    line: int = 0

    def content_hash(self) -> str:
        payload = json.dumps(
            [
                self.preferred_label,
                list(self.alt_labels),
                list(self.hidden_labels),
                self.description,
                self.skill_type,
                self.broader,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def labels(self) -> Iterator[tuple[str, str]]:
        """(label, kind) for every label: the preferred one first."""
        yield self.preferred_label, "preferred"
        for label in self.alt_labels:
            yield label, "alt"
        for label in self.hidden_labels:
            yield label, "hidden"


@dataclass
class ParsedTaxonomy:
    source: str
    version: str
    records: list[SkillRecord]
    files: list[Path] = field(default_factory=list)

    @property
    def label_count(self) -> int:
        return sum(1 + len(r.alt_labels) + len(r.hidden_labels) for r in self.records)


def esco_version(folder: Path, text: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    for part in (folder.name, folder.parent.name):
        found = _VERSION_IN_NAME.search(part)
        if found:
            return found.group(0).lower()
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def parse_esco(folder: Path, *, version: str | None = None) -> ParsedTaxonomy:
    """Read ``skills_en.csv`` of an ESCO CSV export folder (or the file itself)."""
    path = folder if folder.is_file() else folder / ESCO_FILE
    text = read_text(path, expected=f"the ESCO CSV export's {ESCO_FILE}")
    problems = Problems()
    header = read_header(path, text, ",")
    records: list[SkillRecord] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(path, text, delimiter=",", required=ESCO_REQUIRED, problems=problems):
        uri = row["conceptUri"].strip()
        label = " ".join(row["preferredLabel"].split())
        ok = check_text(problems, path, line, header, "conceptUri", uri, limit=MAX_ID)
        ok = check_text(problems, path, line, header, "preferredLabel", label, limit=MAX_LABEL) and ok
        if not ok:
            continue
        if uri in seen:
            problems.add(
                FileProblem(
                    path, line, header.index("conceptUri") + 1, "conceptUri", f"duplicate of line {seen[uri]}"
                )
            )
            continue
        seen[uri] = line
        pref = {normalize_phrase(label)}
        alts = split_labels(row["altLabels"], exclude=pref)
        hidden = split_labels(row.get("hiddenLabels"), exclude=pref | {normalize_phrase(a) for a in alts})
        too_long = [x for x in (*alts, *hidden) if len(x) > MAX_LABEL]
        if too_long:
            column = header.index("altLabels") + 1
            problems.add(
                FileProblem(path, line, column, "altLabels", f"a label is longer than {MAX_LABEL} characters")
            )
            continue
        records.append(
            SkillRecord(
                skill_id=uri,
                preferred_label=label,
                alt_labels=alts,
                hidden_labels=hidden,
                description=row["description"].strip() or None,
                skill_type=row["skillType"].strip() or None,
                broader=None,
                line=line,
            )
        )
    problems.raise_if_any()
    if not records:
        raise TaxonomyFileError([FileProblem(path, 2, None, None, "the file has a header but no skills")])
    folder_for_version = folder if folder.is_dir() else folder.parent
    return ParsedTaxonomy("esco", esco_version(folder_for_version, text, version), records, [path])


def _initialism_labels(example: str) -> tuple[str, ...]:
    """("ABAP", "Advanced business application programming") for an example that ends with its own
    initialism; () otherwise (a trailing capitalised product name is not split off)."""
    found = _INITIALISM.match(example)
    if not found:
        return ()
    name, abbr = found.group("name"), found.group("abbr")
    letters = [c for c in abbr.lower() if c.isalpha()]
    words = [w for w in re.split(r"[\s/-]+", name) if w and w[0].isalnum()]
    if len(letters) < 2 or len(words) < len(letters):
        return ()
    initials = "".join(w[0].lower() for w in words[-len(letters) :])
    if initials != "".join(letters):
        return ()
    return (abbr, name)


def _vendors(examples: list[str], class_titles: list[str]) -> tuple[set[str], set[str]]:
    """(vendor prefixes, generic words). A vendor prefix ("Microsoft", "Dassault Systemes") is the first
    one or two capitalised words of at least four examples, none of them a generic word; generic
    words are the words of the technology class titles and every word written in lower case in an
    example."""
    generic = {w.lower() for t in class_titles for w in re.findall(r"\w+", t)}
    generic |= {w for e in examples for w in re.findall(r"\w+", e) if w.islower()}
    counts: dict[str, int] = {}
    for example in examples:
        words = example.split()
        for n in (1, 2):
            if len(words) > n:
                prefix = " ".join(words[:n])
                counts[prefix] = counts.get(prefix, 0) + 1
    vendors = {
        prefix
        for prefix, count in counts.items()
        if count >= 4 and all(w[0].isupper() and w.lower() not in generic for w in prefix.split())
    }
    return vendors, generic


def _without_vendor(example: str, vendors: tuple[set[str], set[str]]) -> tuple[str, ...]:
    """The product name without its vendor ("Microsoft Excel" -> "Excel") when it is one distinctive
    word: capitalised (or with a digit), not a generic word."""
    prefixes, generic = vendors
    words = example.split()
    for n in (2, 1):
        if len(words) == n + 1 and " ".join(words[:n]) in prefixes:
            rest = words[n]
            if len(rest) >= 3 and (rest[0].isupper() or rest[0].isdigit()) and rest.lower() not in generic:
                return (rest,)
    return ()


def _onet_version(folder: Path, text: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    readme = folder / "Read Me.txt"
    if readme.is_file():
        found = _ONET_README_VERSION.search(readme.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
    found = re.search(r"(\d+\.\d+)", folder.name)
    if found:
        return found.group(1)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass
class _Example:
    line: int
    rows: int = 0
    hot: bool = False
    occupations: set[str] = field(default_factory=set)


def parse_onet(folder: Path, *, version: str | None = None) -> ParsedTaxonomy:
    """Read ``Technology Skills.txt`` of an O*NET database folder (text format)."""
    path = folder if folder.is_file() else folder / ONET_FILE
    text = read_text(path, expected=f"O*NET's {ONET_FILE}")
    problems = Problems()
    header = read_header(path, text, "\t")
    commodities: dict[str, tuple[str, int]] = {}
    examples: dict[tuple[str, str], _Example] = {}
    for line, row in read_rows(path, text, delimiter="\t", required=ONET_REQUIRED, problems=problems):
        example = " ".join(row["Example"].split())
        code = row["Commodity Code"].strip()
        title = " ".join(row["Commodity Title"].split())
        ok = check_text(problems, path, line, header, "Example", example, limit=MAX_LABEL)
        ok = check_text(problems, path, line, header, "Commodity Code", code, limit=32) and ok
        ok = check_text(problems, path, line, header, "Commodity Title", title, limit=MAX_LABEL) and ok
        if not ok:
            continue
        commodities.setdefault(code, (title, line))
        entry = examples.setdefault((code, example), _Example(line))
        entry.rows += 1
        entry.hot = entry.hot or row.get("Hot Technology", "").strip().upper() == "Y"
        entry.occupations.add(row["O*NET-SOC Code"].strip())
    problems.raise_if_any()
    if not examples:
        raise TaxonomyFileError([FileProblem(path, 2, None, None, "the file has a header but no rows")])
    records: list[SkillRecord] = []
    for code, (title, line) in sorted(commodities.items()):
        records.append(
            SkillRecord(
                skill_id=f"onet:{code}",
                preferred_label=title,
                description=f"O*NET technology class (UNSPSC commodity {code}).",
                skill_type="technology class",
                line=line,
            )
        )
    # One skill per example: an example listed under several commodities keeps the one it is listed
    # under most often (then the lowest code) as its id and broader group.
    by_example: dict[str, list[tuple[str, _Example]]] = {}
    for (code, example), entry in examples.items():
        by_example.setdefault(example, []).append((code, entry))
    vendors = _vendors(list(by_example), [t for t, _ in commodities.values()])
    for example, entries in sorted(by_example.items()):
        entries.sort(key=lambda ce: (-ce[1].rows, ce[0]))
        code, entry = entries[0]
        title = commodities[code][0]
        pref = {normalize_phrase(example)}
        alts = tuple(a for a in _initialism_labels(example) if normalize_phrase(a) not in pref)
        hidden = tuple(
            h
            for h in _without_vendor(example, vendors)
            if normalize_phrase(h) not in pref | {normalize_phrase(a) for a in alts}
        )
        occupations: set[str] = set().union(*(e.occupations for _, e in entries))
        hot = any(e.hot for _, e in entries)
        others = sorted({commodities[c][0] for c, _ in entries[1:]})
        also = f" Also listed as: {'; '.join(others)}." if others else ""
        records.append(
            SkillRecord(
                skill_id=f"onet:{code}:{example}",
                preferred_label=example,
                alt_labels=alts,
                hidden_labels=hidden,
                description=f"{title}. Used in {len(occupations)} O*NET occupation(s)."
                + (" Hot technology." if hot else "")
                + also,
                skill_type="technology",
                broader=title,
                line=entry.line,
            )
        )
    too_long = [r for r in records if len(r.skill_id) > MAX_ID]
    if too_long:
        column = header.index("Example") + 1
        raise TaxonomyFileError(
            [
                FileProblem(path, r.line, column, "Example", f"the skill id would exceed {MAX_ID} characters")
                for r in too_long[:MAX_ERRORS]
            ],
            len(too_long),
        )
    return ParsedTaxonomy(
        "onet", _onet_version(folder if folder.is_dir() else folder.parent, text, version), records, [path]
    )
