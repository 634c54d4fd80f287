"""``talentmatch taxonomy import csco FILE`` and the ESCO occupations: versioned and re-runnable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db import make_engine
from service.occupations.importers import parse_csco, split_tasks
from service.orm import Occupation, OccupationSkill, PhraseEmbedding, TaxonomyVersion
from service.taxonomy.files import TaxonomyFileError
from tests.cli.conftest import Invoke
from tests.cli.test_taxonomy_import import cell
from tests.occupations.conftest import ESCO_SAMPLE, ROWS, needs_esco_sample, write_csco

Count = Callable[[type], int]


def _occupation(database_url: str, occupation_id: str) -> Occupation | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Occupation).where(Occupation.occupation_id == occupation_id)).first()
            return row  # type: ignore[return-value]
    finally:
        engine.dispose()


def test_csco_import_then_reimport_changes_nothing(
    invoke: Invoke, count: Count, tmp_path: Path, database_url: str
) -> None:
    csco_file = write_csco(tmp_path / "csco22.csv")
    result = invoke("taxonomy", "import", "csco", str(csco_file))
    assert result.exit_code == 0, result.output
    assert "CSCO occupations 2022: 8 occupations" in result.output
    assert count(Occupation) == 8
    assert cell(result.output, "created") == "8"
    embedded = count(PhraseEmbedding)
    assert embedded > 8

    lathe = _occupation(database_url, "6-18-01-01")
    assert lathe is not None
    assert lathe.label == "车工"
    assert lathe.level == 4
    assert lathe.broader == "6-18-01-00"
    assert lathe.tasks[:2] == ["安装夹具，调整车床，找正、定位与装夹工件", "选择、刃磨、安装刀具"]
    assert lathe.alt_labels == ["数控车床操作工", "CNC车工"]
    ai = _occupation(database_url, "2-02-10-09")
    assert ai is not None and ai.label == "人工智能工程技术人员"  # the digital-occupation mark is dropped
    milling = _occupation(database_url, "6-18-01-02")
    assert milling is not None and "铣床工" in milling.alt_labels  # the repeated row's alias is kept

    again = invoke("taxonomy", "import", "csco", str(csco_file))
    assert again.exit_code == 0, again.output
    assert cell(again.output, "created") == "0"
    assert cell(again.output, "unchanged") == "8"
    assert cell(again.output, "names embedded now").startswith("0 ")
    assert "already at this version" in again.output
    assert count(PhraseEmbedding) == embedded
    assert count(TaxonomyVersion) == 1


def test_csco_reimport_updates_changed_and_removes_missing(
    invoke: Invoke, count: Count, tmp_path: Path, database_url: str
) -> None:
    assert invoke("taxonomy", "import", "csco", str(write_csco(tmp_path / "csco22.csv"))).exit_code == 0
    rows = [r for r in ROWS if r[1] != "2-02-10-09"]
    rows = [(*r[:5], r[5] + ",普车工") if r[1] == "6-18-01-01" else r for r in rows]
    changed = write_csco(tmp_path / "csco23.csv", rows)
    result = invoke("taxonomy", "import", "csco", str(changed))
    assert result.exit_code == 0, result.output
    assert cell(result.output, "updated (content changed)") == "1"
    assert cell(result.output, "removed (no longer in the file)") == "1"
    assert count(Occupation) == 7
    lathe = _occupation(database_url, "6-18-01-01")
    assert lathe is not None and "普车工" in lathe.alt_labels
    assert lathe.taxonomy_version == "2023"
    assert count(TaxonomyVersion) == 2


def test_a_bad_csco_file_imports_nothing(invoke: Invoke, count: Count, tmp_path: Path) -> None:
    bad = write_csco(
        tmp_path / "csco22.csv", [*ROWS, ("5", "6-18-01-09", "x", "", "", ""), ("4", "618", "y", "", "", "")]
    )
    result = invoke("taxonomy", "import", "csco", str(bad))
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "line 11, column 1 (level): '5' is not a level 1-4" in result.output
    assert "line 12, column 2 (code)" in result.output
    assert count(Occupation) == 0
    assert count(TaxonomyVersion) == 0


def test_parse_csco_reports_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("level,code,name\r\n4,6-18-01-01,车工\r\n", encoding="utf-8")
    with pytest.raises(TaxonomyFileError, match="missing column"):
        parse_csco(path)


def test_tasks_are_split_on_their_numbers() -> None:
    assert split_tasks("1.安装夹具 2.选择刀具 10.维护机床。") == ("安装夹具", "选择刀具", "维护机床")
    assert split_tasks("操作车床") == ("操作车床",)
    assert split_tasks("") == ()


def test_esco_import_reads_occupations_and_relations_when_present(invoke: Invoke, count: Count) -> None:
    needs_esco_sample()
    result = invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1")
    assert result.exit_code == 0, result.output
    assert "ESCO occupations v1.1.1: 12 occupations" in result.output
    assert count(Occupation) == 12
    assert count(OccupationSkill) == 550
    again = invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE), "--version", "v1.1.1")
    assert again.exit_code == 0, again.output
    assert again.output.count("already at this version") == 2
    assert count(Occupation) == 12
    assert count(OccupationSkill) == 550
