"""Reading a taxonomy or classification export safely: the whole file is decoded and checked before
anything is written, and every problem is reported with its file, line and column.

Shared by the skill importers (:mod:`service.taxonomy.importers`) and the occupation importers
(:mod:`service.occupations.importers`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.text import normalize_phrase

MAX_LABEL = 500
MAX_ID = 300
MAX_ERRORS = 20


@dataclass(frozen=True)
class FileProblem:
    path: Path
    line: int
    column: int | None
    column_name: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
            if self.column_name:
                where += f" ({self.column_name})"
        return f"{where}: {self.message}"


class TaxonomyFileError(Exception):
    """The input is not a valid export; ``problems`` name file, line and column of each problem."""

    def __init__(self, problems: list[FileProblem], total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        lines = [str(p) for p in problems]
        if self.total > len(problems):
            lines.append(f"... and {self.total - len(problems)} more problem(s)")
        super().__init__("\n".join(lines))


class Problems:
    def __init__(self) -> None:
        self.items: list[FileProblem] = []
        self.total = 0

    def add(self, problem: FileProblem) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(problem)

    def raise_if_any(self) -> None:
        if self.total:
            raise TaxonomyFileError(self.items, self.total)


def read_text(path: Path, *, expected: str) -> str:
    """The file decoded as UTF-8 (a BOM is allowed); otherwise a problem at the first bad byte."""
    if not path.is_file():
        raise TaxonomyFileError([FileProblem(path, 0, None, None, f"file not found (expected {expected})")])
    raw = path.read_bytes()
    if not raw.strip():
        raise TaxonomyFileError([FileProblem(path, 1, None, None, "the file is empty")])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TaxonomyFileError(
            [FileProblem(path, 1, 1, None, "the file is UTF-16; the export must be UTF-8")]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); the export must be UTF-8 "
            "(convert it, e.g. iconv -f GB18030 -t UTF-8)"
        )
        raise TaxonomyFileError([FileProblem(path, line, column, None, message)]) from exc


def split_labels(value: str | None, *, exclude: set[str]) -> tuple[str, ...]:
    out: list[str] = []
    seen = set(exclude)
    for part in (value or "").split("\n"):
        label = " ".join(part.split())
        norm = normalize_phrase(label)
        if not norm or norm in seen:
            continue
        seen.add(norm)
        out.append(label)
    return tuple(out)


def read_rows(
    path: Path, text: str, *, delimiter: str, required: tuple[str, ...], problems: Problems
) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line of the record, row) for each record; header and shape problems are recorded."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        problems.add(FileProblem(path, 1, None, None, f"no header row ({exc})"))
        return
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        hint = ""
        other = "\t" if delimiter == "," else ","
        if len(header) == 1 and other in header[0]:
            kind = "tab" if other == "\t" else "comma"
            hint = f" (the file looks {kind}-separated; expected {'comma' if delimiter == ',' else 'tab'})"
        problems.add(
            FileProblem(
                path,
                1,
                len(header) + 1,
                None,
                f"missing column(s) {', '.join(missing)}{hint}; the header has: {', '.join(header[:15])}",
            )
        )
        return
    end_line = 1
    while True:
        start = end_line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(
                FileProblem(
                    path,
                    start,
                    None,
                    None,
                    f"malformed CSV ({exc}); a quoted field is not closed — the file looks truncated",
                )
            )
            return
        end_line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            column = min(len(row), len(header)) + 1
            name = header[column - 1] if column - 1 < len(header) else None
            problems.add(
                FileProblem(
                    path,
                    start,
                    column,
                    name,
                    f"the row has {len(row)} field(s) but the header has {len(header)}"
                    + (" (truncated row?)" if len(row) < len(header) else ""),
                )
            )
            continue
        yield start, dict(zip(header, row, strict=True))
    if not text.endswith(("\n", "\r")):
        problems.add(
            FileProblem(
                path,
                end_line,
                None,
                None,
                "the file does not end with a line break: the export looks truncated",
            )
        )


def check_text(
    problems: Problems,
    path: Path,
    line: int,
    header: list[str],
    name: str,
    value: str,
    *,
    limit: int,
    required: bool = True,
) -> bool:
    column = header.index(name) + 1
    if required and not value.strip():
        problems.add(FileProblem(path, line, column, name, "empty"))
        return False
    if len(value) > limit:
        problems.add(FileProblem(path, line, column, name, f"longer than {limit} characters"))
        return False
    return True


def read_header(path: Path, text: str, delimiter: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [h.strip() for h in first]
