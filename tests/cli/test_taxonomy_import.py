"""``talentmatch taxonomy import esco|onet``: versioned, re-runnable, and all-or-nothing on bad input."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from service.demo.builder import DATA as DEMO_ONET
from service.orm import PhraseEmbedding, TaxonomyLabel, TaxonomySkill, TaxonomyVersion
from tests.cli.conftest import Invoke
from tests.taxonomy.conftest import ESCO_SAMPLE

Count = Callable[[type], int]
SAMPLE = (ESCO_SAMPLE / "skills_en.csv").read_bytes()


def cell(output: str, name: str) -> str:
    """The value next to ``name`` in a summary table of the CLI's output."""
    match = re.search(rf"│ {re.escape(name)}\s*│ ([^│]*?)\s*│", output)
    assert match, (name, output)
    return match.group(1)


def _export(tmp_path: Path, content: bytes, name: str = "esco") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "skills_en.csv").write_bytes(content)
    return folder


def _nothing_stored(count: Count) -> None:
    assert count(TaxonomySkill) == 0
    assert count(TaxonomyLabel) == 0
    assert count(TaxonomyVersion) == 0
    assert count(PhraseEmbedding) == 0


def test_esco_import_then_reimport_creates_and_embeds_nothing(invoke: Invoke, count: Count) -> None:
    result = invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1")
    assert result.exit_code == 0, result.output
    assert "514 skills, 3,861 labels" in result.output
    assert count(TaxonomySkill) == 514
    assert count(TaxonomyLabel) == 3861
    embedded = count(PhraseEmbedding)
    assert embedded > 3800  # each distinct label once

    again = invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1")
    assert again.exit_code == 0, again.output
    assert cell(again.output, "created") == "0"
    assert cell(again.output, "unchanged") == "514"
    assert cell(again.output, "labels embedded now").startswith("0 ")
    assert "already at this version" in again.output
    assert count(PhraseEmbedding) == embedded
    assert count(TaxonomySkill) == 514
    assert count(TaxonomyVersion) == 1

    listing = invoke("taxonomy", "versions")
    assert listing.exit_code == 0
    assert "in force: esco@v1.1.1" in listing.output


def test_reimport_updates_changed_rows_and_removes_missing_ones(
    invoke: Invoke, count: Count, tmp_path: Path
) -> None:
    assert invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1").exit_code == 0
    before = count(PhraseEmbedding)
    text = SAMPLE.decode("utf-8")
    # Give "read maps" a new alternative label, and drop the last skill of the export.
    changed = text.replace('"map interpreting\n', '"map interpreting\nunderstand topographic charts\n', 1)
    assert changed != text
    last_start = changed.rstrip("\r\n").rfind("\r\nKnowledgeSkillCompetence,")
    changed = changed[: last_start + 2]
    folder = _export(tmp_path, changed.encode("utf-8"))
    result = invoke("taxonomy", "import", "esco", str(folder), "--version", "v1.1.2")
    assert result.exit_code == 0, result.output
    assert cell(result.output, "updated (content changed)") == "1"
    assert cell(result.output, "removed (no longer in the export)") == "1"
    assert cell(result.output, "created") == "0"
    assert cell(result.output, "labels embedded now").startswith("1 ")
    assert count(TaxonomySkill) == 513
    assert count(PhraseEmbedding) == before + 1  # only the new label was embedded
    assert count(TaxonomyVersion) == 2


def _fails(invoke: Invoke, folder: Path, *expected: str) -> str:
    result = invoke("taxonomy", "import", "esco", str(folder))
    assert result.exit_code != 0
    for part in expected:
        assert part in result.output, result.output
    assert "nothing was imported" in result.output
    return str(result.output)


def test_wrong_encoding_names_file_line_and_column(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    text = SAMPLE.decode("utf-8")
    # A row re-encoded as GB18030 (a common Chinese export encoding) is not UTF-8.
    bad = text.replace("apply for refunds", "退款申请 apply for refunds", 1).encode("gb18030")
    line = bad[: bad.index(b"apply for refunds")].count(b"\n") + 1
    folder = _export(tmp_path, bad)
    _fails(invoke, folder, f"skills_en.csv: line {line}, column", "not valid UTF-8")
    _nothing_stored(count)


def test_missing_columns_are_named(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    text = SAMPLE.decode("utf-8").replace(",altLabels,", ",otherLabels,", 1)
    _fails(invoke, _export(tmp_path, text.encode()), "skills_en.csv: line 1", "missing column(s) altLabels")
    _nothing_stored(count)


def test_wrong_format_says_what_it_looks_like(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    folder = tmp_path / "onet_as_esco"
    folder.mkdir()
    shutil.copyfile(DEMO_ONET / "Technology Skills.txt", folder / "skills_en.csv")
    _fails(invoke, folder, "line 1", "missing column(s) conceptUri", "tab-separated")
    _nothing_stored(count)


@pytest.mark.parametrize("cut", ["inside_quoted_field", "between_fields"])
def test_truncated_export_changes_nothing(invoke: Invoke, count: Count, tmp_path: Path, cut: str) -> None:
    assert invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1").exit_code == 0
    state = [count(m) for m in (TaxonomySkill, TaxonomyLabel, TaxonomyVersion, PhraseEmbedding)]
    start = SAMPLE.rfind(b"\r\nKnowledgeSkillCompetence,")
    if cut == "inside_quoted_field":
        end = SAMPLE.index(b'"', SAMPLE.index(b',"', start) + 2) - 3  # inside the altLabels field
        expected = "a quoted field is not closed"
    else:
        end = SAMPLE.index(b",", SAMPLE.index(b"skill/", start)) + 1  # after conceptUri
        expected = "field(s) but the header has 13"
    line = SAMPLE[:start].count(b"\n") + 2
    folder = _export(tmp_path, SAMPLE[:end])
    output = _fails(invoke, folder, f"line {line}", expected)
    assert "truncated" in output
    assert [count(m) for m in (TaxonomySkill, TaxonomyLabel, TaxonomyVersion, PhraseEmbedding)] == state


def test_empty_required_field_names_line_and_column(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    text = SAMPLE.decode("utf-8")
    start = text.index("\r\n") + 2
    row_end = text.index(",skill/competence,", start) + len(",skill/competence,")
    # Second line: the reuseLevel then an empty preferredLabel.
    reuse_end = text.index(",", row_end) + 1
    label_end = text.index(",", reuse_end)
    bad = text[:reuse_end] + text[label_end:]
    _fails(invoke, _export(tmp_path, bad.encode()), "line 2, column 5 (preferredLabel): empty")
    _nothing_stored(count)


def test_missing_file_and_missing_folder(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    _fails(invoke, tmp_path, "skills_en.csv", "file not found")
    result = invoke("taxonomy", "import", "onet", str(tmp_path))
    assert result.exit_code != 0
    assert "Technology Skills.txt" in result.output and "file not found" in result.output
    _nothing_stored(count)


def test_onet_import_is_versioned_and_rerunnable(invoke: Invoke, count: Count) -> None:
    result = invoke("taxonomy", "import", "onet", str(DEMO_ONET))
    assert result.exit_code == 0, result.output
    assert "ONET 29.2: 614 skills" in result.output
    skills = count(TaxonomySkill)
    assert skills > 500
    again = invoke("taxonomy", "import", "onet", str(DEMO_ONET))
    assert again.exit_code == 0
    assert cell(again.output, "labels embedded now").startswith("0 ")
    assert count(TaxonomySkill) == skills
    assert "onet@29.2" in invoke("taxonomy", "versions").output
