"""``talentmatch import graduates``: validate every row first, upsert by external_ref, re-runnable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db import make_engine
from service.orm import Graduate, PhraseEmbedding
from tests.builders import make_org, make_program
from tests.cli.conftest import Invoke
from tests.cli.test_taxonomy_import import cell
from tests.taxonomy.conftest import ESCO_SAMPLE

Count = Callable[[type], int]
HEADER = "external_ref,program_id,graduation_year,skills,certificates\n"


def _graduates(database_url: str) -> dict[str, Graduate]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Graduate)).all()
            return {r.external_ref: r for r in rows}
    finally:
        engine.dispose()


@pytest.fixture
def school(client: TestClient) -> dict[str, str]:
    org = make_org(client, "school", "Hefei Tech")
    program = make_program(client, org)
    return {"id": org.id, "name": org.name, "program_id": program["id"], "code": program["code"]}


def test_csv_import_stores_rows_with_canonical_ids_and_reimport_changes_nothing(
    invoke: Invoke, count: Count, database_url: str, school: dict[str, str], tmp_path: Path
) -> None:
    assert invoke("taxonomy", "import", "esco", str(ESCO_SAMPLE)).exit_code == 0
    path = tmp_path / "graduates.csv"
    path.write_text(
        HEADER
        + f'S-0001,{school["code"]},2026,"interpreting assembly drawings:4; CNC: programming:3; AutoCAD",'
        + "CNC operator level 4; Electrician\n"
        + f'S-0002,{school["program_id"]},2025,"use CAD software:5",\n'
        + "S-0003,,,,\n",
        encoding="utf-8",
    )
    result = invoke("import", "graduates", str(path), "--school", school["name"])
    assert result.exit_code == 0, result.output
    assert cell(result.output, "created") == "3"
    stored = _graduates(database_url)
    assert sorted(stored) == ["S-0001", "S-0002", "S-0003"]
    first = stored["S-0001"]
    assert first.program_id == school["program_id"]  # given by code
    assert [(s["name"], s["level"]) for s in first.skills] == [
        ("interpreting assembly drawings", 4),
        ("CNC: programming", 3),  # only a trailing :<digits> is a level
        ("AutoCAD", None),
    ]
    assert (
        first.skills[0]["skill_id"] == "http://data.europa.eu/esco/skill/2feeef46-05cf-445c-9ca1-c96a30e10106"
    )
    assert first.certificates == ["CNC operator level 4", "Electrician"]
    assert stored["S-0003"].skills == [] and stored["S-0003"].graduation_year is None
    cached = count(PhraseEmbedding)

    again = invoke("import", "graduates", str(path), "--school", school["id"])
    assert again.exit_code == 0, again.output
    assert cell(again.output, "created") == "0"
    assert cell(again.output, "updated") == "0"
    assert cell(again.output, "unchanged") == "3"
    assert cell(again.output, "phrases embedded now").startswith("0 ")
    assert count(PhraseEmbedding) == cached
    assert {k: g.version for k, g in _graduates(database_url).items()} == {
        "S-0001": 1,
        "S-0002": 1,
        "S-0003": 1,
    }

    path.write_text(HEADER + 'S-0002,,2025,"use CAD software:4; bend wire",\n', encoding="utf-8")
    changed = invoke("import", "graduates", str(path), "--school", school["id"])
    assert cell(changed.output, "updated") == "1"
    assert cell(changed.output, "phrases embedded now").startswith("0 ")  # "bend wire" is a taxonomy label
    assert _graduates(database_url)["S-0002"].version == 2


BAD_ROWS = (
    HEADER
    + 'G-1,,2026,"welding:4",\n'
    + 'G-2,,20x6,"welding",\n'
    + 'G-3,,2026,"welding:9",\n'
    + "G-1,,2026,,\n"
    + 'G-5,NOPE-99,2026,"welding",\n'
    + ",,2026,,\n"
    + 'G-7,,2026,"soldering:2",\n'
)


def test_bad_rows_are_reported_by_line_and_nothing_is_stored(
    invoke: Invoke, database_url: str, school: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    result = invoke("import", "graduates", str(path), "--school", school["name"])
    assert result.exit_code == 1
    out = result.output
    assert "5 bad row(s)" in out
    for line, column, text in (
        (3, "graduation_year", "'20x6' is not a year"),
        (4, "skills", "level of 'welding'"),
        (5, "external_ref", "duplicate of line 2"),
        (6, "program_id", "'NOPE-99' is not a programme of this school"),
        (7, "external_ref", "at least 1 character"),
    ):
        assert f"│ {line} " in out and column in out and text in out, (line, out)
    assert "nothing was imported" in out
    assert _graduates(database_url) == {}


def test_skip_invalid_imports_the_valid_rows(
    invoke: Invoke, database_url: str, school: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    result = invoke("import", "graduates", str(path), "--school", school["name"], "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert cell(result.output, "skipped (invalid)") == "5"
    assert cell(result.output, "created") == "2"
    assert sorted(_graduates(database_url)) == ["G-1", "G-7"]


def test_json_lines_import(invoke: Invoke, database_url: str, school: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "graduates.jsonl"
    rows = [
        {"external_ref": "J-1", "graduation_year": 2026, "skills": [{"name": "CNC machining", "level": 4}]},
        {"external_ref": "J-2", "skills": ["welding:3", "soldering"], "certificates": ["Welder"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    result = invoke("import", "graduates", str(path), "--school", school["id"])
    assert result.exit_code == 0, result.output
    stored = _graduates(database_url)
    assert [(s["name"], s["level"]) for s in stored["J-2"].skills] == [("welding", 3), ("soldering", None)]

    path.write_text(
        '{"external_ref": "J-3"}\n{"external_ref": "J-4", "name": "Li Wei"}\n{oops\n', encoding="utf-8"
    )
    bad = invoke("import", "graduates", str(path), "--school", school["id"])
    assert bad.exit_code == 1
    assert "not valid JSON" in bad.output and "name" in bad.output  # personal data is refused, not ignored
    assert "J-3" not in _graduates(database_url)


def test_file_level_problems(invoke: Invoke, school: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("student_no,name,skills\n1,Li Wei,welding\n", encoding="utf-8")
    result = invoke("import", "graduates", str(path), "--school", school["id"])
    assert result.exit_code == 1
    assert "line 1" in result.output and "missing column external_ref" in result.output
    path.write_text(HEADER.replace("certificates", "phone"), encoding="utf-8")
    result = invoke("import", "graduates", str(path), "--school", school["id"])
    assert "unknown column(s) phone" in result.output and "column 5" in result.output
    path.write_bytes((HEADER + "S-1,,2026,焊接,\n").encode("gb18030"))
    result = invoke("import", "graduates", str(path), "--school", school["id"])
    assert (
        result.exit_code == 1
        and "line 2, column 11" in result.output
        and "--encoding gb18030" in result.output
    )
    ok = invoke("import", "graduates", str(path), "--school", school["id"], "--encoding", "gb18030")
    assert ok.exit_code == 0, ok.output


def test_the_school_must_exist_and_be_a_school(invoke: Invoke, client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text(HEADER + "S-1,,,,\n", encoding="utf-8")
    assert "no organisation" in invoke("import", "graduates", str(path), "--school", "Nowhere").output
    enterprise = make_org(client, "enterprise", "Hefei Auto")
    result = invoke("import", "graduates", str(path), "--school", enterprise.id)
    assert result.exit_code == 1 and "is an enterprise" in result.output
