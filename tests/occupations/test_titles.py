"""Job-title cleaning: the occupation is kept; company, place, pay, benefits, codes are set aside."""

from __future__ import annotations

import pytest

from service.occupations.titles import clean_title


@pytest.mark.parametrize(
    ("title", "main"),
    [
        ("浩宇广告招聘奶茶店店员", "奶茶店店员"),
        ("软件工程师-控制(光明、包住）", "软件工程师"),
        ("Sales Representative (SHAH ALAM)", "Sales Representative"),
        ("QC INSPECTOR (CONTRACT BASIC)", "quality control INSPECTOR"),
        ("电影院检票员300/天包吃包住", "电影院检票员"),
        ("销售总监(J10116)", "销售总监"),
        ("Test manager - 047", "Test manager"),
        ("续保客服经理+双休+社保", "续保客服经理"),
        ("网络销售无责底薪+高提成", "网络销售"),
        ("沈阳市香浓餐饮服务招聘店员/营业员", "店员"),
        ("RM2,500 Sales Executive", "Sales Executive"),
        ("Front-end Developer", "Front-end Developer"),
        ("Java开发工程师", "Java开发工程师"),
    ],
)
def test_clean_title_keeps_the_occupation(title: str, main: str) -> None:
    assert clean_title(title).main == main


def test_places_benefits_and_contract_terms_are_not_offered_as_alternatives() -> None:
    assert clean_title("QC INSPECTOR (CONTRACT BASIC)").alternatives == ()
    assert "包住" not in clean_title("软件工程师-控制(光明、包住）").alternatives
    assert clean_title("美容师包住带薪培训").variants() == ("美容师",)


def test_bracketed_and_slashed_parts_are_alternatives() -> None:
    cleaned = clean_title("Kitchen Crew (Asst Chef/Kitchen helper)")
    assert cleaned.main == "Kitchen Crew"
    assert cleaned.alternatives == ("assistant Chef", "Kitchen helper")
    assert clean_title("蒙泰招聘普工/操作工").variants() == ("普工", "操作工")


def test_a_title_of_nothing_but_pay_and_benefits_is_empty() -> None:
    assert clean_title("包吃包住 5000元/月 双休").variants() == ()


def test_place_names_and_leftovers_of_pay_are_not_offered_as_alternatives() -> None:
    assert clean_title("茶叶基地管理员（福建、黄山）").variants() == ("茶叶基地管理员",)
    assert clean_title("空间规划设计师（湖北宜昌、荆门）").variants() == ("空间规划设计师",)
    assert clean_title("纯早班（9-6点）线上客服").variants() == ("纯早班", "线上客服")


def test_reference_codes_leave_nothing_behind() -> None:
    assert clean_title("食品实验室报告审核员 (MJ000375)").variants() == ("食品实验室报告审核员",)
    assert clean_title("Data Analyst (REF12345)").variants() == ("Data Analyst",)


def test_a_single_dot_between_chinese_words_separates_them() -> None:
    assert clean_title("建设现场.土建工程师.监理").variants() == ("建设现场", "土建工程师", "监理")
