"""Chinese job ads: /v1/skills/extract and demands from a description find the skill phrases, canonical
where the taxonomy has them and as written where it has none; boilerplate yields nothing.

The ads below were written for these tests in the style of ordinary Chinese job ads."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.taxonomy import extraction, zh_extraction
from tests.builders import Org, make_org
from tests.taxonomy.conftest import import_esco

CLERK_AD = """行政文员
岗位职责：
1、负责公司日常文件的整理、归档和收发；
2、负责会议记录及办公用品采购；
任职要求：
1、大专及以上学历，性别不限；
2、熟悉使用Word、Excel、PPT等办公软件；
3、具有良好的沟通能力和团队合作精神；
福利待遇：
五险一金，包吃住，带薪年假，节日福利。
工作时间：周一至周五 8:30-17:30
薪资：4000-6000元/月
有意者请将简历发送至 hr@example.com
"""

CNC_AD = """数控车床操作工
岗位职责：
1. 负责数控机床的编程与操作；
2. 能看懂机械图纸，熟练使用游标卡尺、千分尺等量具；
3. 负责设备的日常维护保养。
任职要求：
1. 中专以上学历，机械、数控相关专业；
2. 有PLC编程经验者优先；
3. 熟悉FANUC、西门子数控系统；
4. 吃苦耐劳，服从安排，能适应倒班。
我们提供：五险一金、包吃住、年终奖金，月薪6000-9000元。
"""

ELECTRICAL_AD = """招聘：电气工程师（月薪8K-12K）
公司简介：我们是一家专业从事工业自动化设备研发和生产的高新技术企业，成立于2010年，产品远销海外。
岗位职责：
1、负责自动化生产线电气系统的设计、安装与调试；
2、负责工业机器人的编程、示教及日常维护；
3、绘制电气原理图（使用AutoCAD或EPLAN）。
任职要求：
1、3年以上设备调试经验，熟悉伺服电机、变频器的选型和调试；
2、了解ABB、KUKA机器人者优先；
3、身体健康，责任心强。
联系方式：请投递简历至 hr@example.com，电话 0551-12345678
"""

MIXED_AD = """Job title: 外贸业务员 / Sales Representative
Responsibilities:
- Develop overseas customers and read assembly drawings for quotations;
- 熟练使用Excel进行数据分析，负责客户订单跟进
Requirements:
- 会计、出纳经验优先
Benefits: 五险一金, paid annual leave, competitive salary.
"""

BOILERPLATE_ONLY = """公司简介：本公司成立于2005年，总部位于合肥，是集研发、生产、销售于一体的高新技术企业。
福利待遇：五险一金，包吃住，带薪年假，年终奖，节日福利，定期体检。
工作时间：早八晚五，周末双休。
薪资：面议。
有意者请投递简历，联系电话：0551-88886666。
"""


def _phrases(text: str) -> list[str]:
    out: list[str] = []
    for sentence in extraction.split_sentences(text):
        if not sentence.boilerplate:
            out.extend(zh_extraction.phrases(sentence.text))
    return out


def test_requirement_frames_are_removed_and_enumerations_split() -> None:
    assert zh_extraction.phrases("熟悉使用Word、Excel、PPT等办公软件；") == ["Word", "Excel", "PPT"]
    assert zh_extraction.phrases("负责数控机床的编程与操作") == ["数控机床编程", "数控机床操作"]
    assert zh_extraction.phrases("有PLC编程经验者优先") == ["PLC编程"]
    assert zh_extraction.phrases("3年以上数控车床操作经验，对有限元分析有一定了解。") == [
        "数控车床操作",
        "有限元分析",
    ]
    # A word that begins like a frame keeps its first character.
    assert zh_extraction.phrases("会计、出纳经验优先") == ["会计", "出纳"]
    assert zh_extraction.phrases("能够独立安装、调试和维护PLC系统") == [
        "安装PLC系统",
        "调试PLC系统",
        "维护PLC系统",
    ]
    assert zh_extraction.phrases("熟练掌握三菱、西门子PLC编程") == [
        "三菱",
        "西门子PLC编程",
    ]  # brands: no action
    # Where the job is names no skill.
    assert zh_extraction.phrases("数控车床操作工（合肥、芜湖），熟悉西门子PLC") == ["西门子PLC"]


@pytest.mark.parametrize(
    ("ad", "expected"),
    [
        (CLERK_AD, {"文件整理", "文件归档", "会议记录", "办公用品采购", "Word", "Excel", "PPT", "沟通"}),
        (
            CNC_AD,
            {"数控机床编程", "数控机床操作", "游标卡尺", "千分尺", "设备维护保养", "PLC编程", "FANUC"},
        ),
        (
            ELECTRICAL_AD,
            {
                "自动化生产线电气系统设计",
                "工业机器人编程",
                "工业机器人示教",
                "绘制电气原理图",
                "AutoCAD",
                "EPLAN",
                "伺服电机",
                "变频器调试",
                "KUKA机器人",
            },
        ),
    ],
)
def test_a_chinese_ad_names_its_skills_and_nothing_else(ad: str, expected: set[str]) -> None:
    found = _phrases(ad)
    assert expected <= set(found), (expected - set(found), found)
    text = " ".join(found)
    # Titles, education, character, benefits, pay, hours and how to apply name no skill.
    for noise in ("工程师", "操作工", "文员", "学历", "专业", "五险一金", "包吃住", "年假", "吃苦", "责任心"):
        assert noise not in text, (noise, found)
    for noise in ("简历", "月薪", "元", "8:30", "倒班", "性别", "办公软件", "量具", "成立"):
        assert noise not in text, (noise, found)


def test_boilerplate_alone_yields_nothing() -> None:
    assert _phrases(BOILERPLATE_ONLY) == []


def _extract(client: TestClient, org: Org, text: str) -> list[dict]:
    r = client.post("/v1/skills/extract", json={"text": text}, headers=org.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["skills"])


def test_extract_without_a_taxonomy_gives_the_phrases_as_written(client: TestClient) -> None:
    org = make_org(client, "enterprise", "合肥精密零件")
    skills = _extract(client, org, CNC_AD)
    by_label = {s["label"]: s for s in skills}
    assert {"数控机床编程", "数控机床操作", "PLC编程", "游标卡尺"} <= set(by_label)
    assert by_label["PLC编程"] == {
        "skill_id": None,
        "label": "PLC编程",
        "score": 0.6,
        "evidence": "有PLC编程经验者优先；",
        "matched_label": "PLC编程",
        "source": None,
    }
    assert _extract(client, org, BOILERPLATE_ONLY) == []


def test_chinese_phrases_are_canonical_where_the_taxonomy_has_them(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "local"
    folder.mkdir()
    header = ["conceptType", "conceptUri", "skillType", "preferredLabel", "altLabels", "description"]
    rows = [
        [
            "KnowledgeSkillCompetence",
            "urn:x:cnc",
            "skill/competence",
            "数控加工",
            "数控机床操作\nCNC machining",
            "",
        ],
        ["KnowledgeSkillCompetence", "urn:x:plc", "skill/competence", "PLC编程", "PLC programming", ""],
        ["KnowledgeSkillCompetence", "urn:x:excel", "knowledge", "Microsoft Excel", "Excel", ""],
        ["KnowledgeSkillCompetence", "urn:x:welfare", "skill/competence", "五险一金", "", ""],
    ]
    with (folder / "skills_en.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    import_esco(app, folder, version="local-1")
    org = make_org(client, "enterprise", "合肥精密零件")
    skills = _extract(client, org, CNC_AD + "\n熟悉使用Word、Excel、PPT等办公软件。")
    by_label = {s["label"]: s for s in skills}
    assert by_label["PLC编程"]["skill_id"] == "urn:x:plc"
    assert by_label["PLC编程"]["score"] == 1.0
    assert by_label["数控加工"]["skill_id"] == "urn:x:cnc"  # "数控机床操作" is its alternative label
    assert by_label["Microsoft Excel"]["skill_id"] == "urn:x:excel"
    assert by_label["Word"]["skill_id"] is None  # not in this taxonomy: as written
    assert "数控机床操作" not in by_label  # given once, canonically
    assert "五险一金" not in by_label  # a label, but in a benefits sentence
    # Canonical skills rank before phrases kept as written.
    scores = [s["score"] for s in skills]
    assert scores == sorted(scores, reverse=True)


def test_a_mixed_ad_gives_english_and_chinese_skills(esco: TestClient, member: Org) -> None:
    skills = _extract(esco, member, MIXED_AD)
    labels = {s["label"] for s in skills}
    assert "read assembly drawings" in labels  # the English sentence, against the ESCO sample
    assert {"数据分析", "客户订单跟进", "会计", "出纳"} <= labels
    assert "Microsoft Office Excel" in labels or "Excel" in labels
    assert not any("五险一金" in s["evidence"] or "salary" in s["evidence"] for s in skills)
    assert not any("Sales Representative" in s["label"] for s in skills)


def test_a_demand_can_be_posted_from_a_chinese_description_alone(esco: TestClient, member: Org) -> None:
    r = esco.post(
        "/v1/demands",
        json={"title": "数控车床操作工", "headcount": 5, "description": CNC_AD},
        headers=member.headers,
    )
    assert r.status_code == 201, r.text
    skills = r.json()["skills"]
    names = {s["name"] for s in skills}
    assert {"数控机床编程", "数控机床操作", "PLC编程", "游标卡尺"} <= names
    assert all(s["inferred"] for s in skills)
    assert not any("五险一金" in n or "学历" in n for n in names)
    # A description that is all boilerplate is still refused.
    r = esco.post(
        "/v1/demands",
        json={"title": "x", "headcount": 1, "description": BOILERPLATE_ONLY},
        headers=member.headers,
    )
    assert r.status_code == 422
