"""Occupation fixtures: a small classification in the CSCO CSV format, written by the tests, and the
ESCO sample of ``../shared/data/esco_sample`` (tests using it skip when the folder is absent)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.occupations import importing as occupation_importing
from service.occupations.importers import parse_csco, parse_esco_occupations
from tests.builders import Org, make_org
from tests.taxonomy.conftest import import_esco

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("TALENTMATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
ESCO_SAMPLE = SHARED_DATA / "esco_sample"
HEADER = ["level", "code", "code_num", "name", "definition", "tasks", "csco_code_num", "alias"]
# (level, code, name, definition, tasks, alias)
ROWS = [
    ("1", "6-00-00-00", "生产制造及有关人员", "", "", "生产制造及有关人员"),
    ("2", "6-18-00-00", "机械制造基础加工人员", "", "", "机械制造基础加工人员"),
    ("3", "6-18-01-00", "机械冷加工人员", "", "", "机械冷加工人员"),
    (
        "4",
        "6-18-01-01",
        "车工",
        "操作车床，进行工件旋转表面切削加工的人员。",
        "1.安装夹具，调整车床，找正、定位与装夹工件 2.选择、刃磨、安装刀具 "
        "3.操作车床数控系统 4.维护保养机床和工装。",
        "车工,数控车床操作工,CNC车工",
    ),
    (
        "4",
        "6-18-01-02",
        "铣工",
        "操作铣床，进行工件铣削加工的人员。",
        "1.操作铣床，进行平面、沟槽铣削加工 2.使用量具，检验工件",
        "铣工,数控铣工",
    ),
    ("3", "4-03-02-00", "餐饮服务人员", "", "", "餐饮服务人员"),
    (
        "4",
        "4-03-02-05",
        "餐厅服务员",
        "在餐厅为顾客提供点餐、上菜等服务的人员。",
        "1.迎送宾客 2.为顾客点餐、上菜",
        "餐厅服务员,服务员,奶茶店店员,店员",
    ),
    (
        "4",
        "2-02-10-09",
        "人工智能工程技术人员S",
        "从事人工智能相关算法研发的工程技术人员。",
        "1.分析、研究人工智能算法 2.设计、开发人工智能系统",
        "人工智能工程技术人员,算法工程师",
    ),
    # The 2022 file repeats a code; the importer keeps one occupation.
    ("4", "6-18-01-02", "铣工", "操作铣床，进行工件铣削加工的人员。", "1.操作铣床", "铣工,铣床工"),
]


def write_csco(path: Path, rows: Sequence[tuple[str, ...]] = ROWS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(HEADER)
        for level, code, name, definition, tasks, alias in rows:
            num = code.replace("-", "")
            writer.writerow([level, code, num, name, definition, tasks, num, alias])
    return path


@pytest.fixture
def csco_file(tmp_path: Path) -> Path:
    return write_csco(tmp_path / "csco22.csv")


def needs_esco_sample() -> None:
    if not (ESCO_SAMPLE / "occupations_en.csv").is_file():
        pytest.skip(f"{ESCO_SAMPLE} is absent")


def import_csco(app: FastAPI, path: Path) -> occupation_importing.ImportSummary:
    return occupation_importing.import_occupations(
        app.state.write_sessions, app.state.encoder, parse_csco(path)
    )


def import_esco_sample(app: FastAPI) -> None:
    needs_esco_sample()
    import_esco(app, ESCO_SAMPLE)
    occupation_importing.import_occupations(
        app.state.write_sessions, app.state.encoder, parse_esco_occupations(ESCO_SAMPLE, version="v1.1.1")
    )


@pytest.fixture
def csco(client: TestClient, app: FastAPI, csco_file: Path) -> TestClient:
    import_csco(app, csco_file)
    return client


@pytest.fixture
def member(client: TestClient) -> Org:
    return make_org(client, "enterprise", "Hefei Precision Parts")
