"""Industries: any name of a GB/T 4754 section is one industry in filters, gap scopes and pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.db import make_engine
from service.industries import display_name, resolve
from service.migrate import upgrade
from service.orm import Demand
from service.ui.views.filters import industry_options
from tests.builders import make_demand, make_org, make_program
from tests.ui.support import sign_in


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("制造业", "C"),
        ("制造", "C"),
        ("Manufacturing", "C"),
        ("  MANUFACTURING ", "C"),
        ("C", "C"),
        ("农、林、牧、渔业", "A"),
        ("农林牧渔业", "A"),
        ("IT", "I"),
        ("软件和信息技术服务业", "I"),
        ("Software & IT services", "I"),
        ("批发和零售业", "F"),
        ("批发零售业", "F"),
        ("Wholesale & retail", "F"),
        ("物流", "G"),
        ("electricity", "D"),
        ("Education", "P"),
        ("卫生和社会工作", "Q"),
        ("healthcare", "Q"),
    ],
)
def test_every_name_resolves_to_the_section(text: str, code: str) -> None:
    found = resolve(text)
    assert found is not None and found.code == code, (text, found)


@pytest.mark.parametrize("text", ["energy", "新能源汽车", "汽车制造", "", "   ", "manufacturing of cars"])
def test_an_ambiguous_or_unlisted_industry_stays_text(text: str) -> None:
    assert resolve(text) is None


def test_pages_name_a_section_in_their_language_and_other_text_as_written() -> None:
    assert display_name("manufacturing", "zh-CN") == "制造业"
    assert display_name("制造", "en") == "Manufacturing"
    assert display_name("新能源汽车", "en") == "新能源汽车"
    assert display_name(None, "en") is None


def _listed(client: TestClient, org: Any, industry: str) -> set[str]:
    r = client.get("/v1/demands", params={"industry": industry, "limit": 100}, headers=org.headers)
    assert r.status_code == 200, r.text
    return {d["id"] for d in r.json()["items"]}


def test_a_demand_under_one_name_is_found_with_every_other(client: TestClient) -> None:
    ent = make_org(client, "enterprise", "合肥精密零件", industry="制造业")
    zh = make_demand(client, ent, industry="制造业")
    en = make_demand(client, ent, industry="Manufacturing")
    it = make_demand(client, ent, industry="软件和信息技术服务业")
    other = make_demand(client, ent, industry="新能源汽车")
    assert zh["industry"] == "制造业"  # the text as written is kept
    assert (zh["industry_code"], en["industry_code"], other["industry_code"]) == ("C", "C", None)
    for name in ("manufacturing", "制造业", "制造", "C", " Manufacturing "):
        assert _listed(client, ent, name) == {zh["id"], en["id"]}, name
    assert _listed(client, ent, "IT") == {it["id"]}
    assert _listed(client, ent, "新能源汽车") == {other["id"]}
    assert _listed(client, ent, "Construction") == set()
    # A changed industry is compared by its new section.
    r = client.patch(f"/v1/demands/{it['id']}", json={"industry": "制造"}, headers=ent.headers)
    assert r.status_code == 200 and r.json()["industry_code"] == "C"
    assert it["id"] in _listed(client, ent, "manufacturing")
    me = client.get("/v1/organizations/me", headers=ent.headers).json()
    assert (me["industry"], me["industry_code"]) == ("制造业", "C")


def test_a_manufacturing_school_sees_the_demands_filed_under_zhizaoye(client: TestClient) -> None:
    school = make_org(client, "school", "Hefei Tech", region="Hefei", industry="Manufacturing")
    ent = make_org(client, "enterprise")
    posted = make_demand(
        client, ent, region="合肥", industry="制造业", skills=[{"name": "CNC machining", "importance": 5}]
    )
    make_demand(
        client, ent, region="合肥", industry="金融业", skills=[{"name": "bookkeeping", "importance": 4}]
    )
    program = make_program(client, school)
    r = client.get(f"/v1/programs/{program['id']}/gaps", headers=school.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["scope"]["kind"] == "school" and report["scope"]["demands"] == 1
    assert [s["skill"] for s in report["skills"]] == ["CNC machining"]
    assert report["skills"][0]["demand_ids"] == [posted["id"]]
    r = client.get(f"/v1/programs/{program['id']}/gaps", params={"industry": "制造"}, headers=school.headers)
    assert r.json()["scope"]["demands"] == 1


def test_the_migration_backfills_the_sections_of_existing_industries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    engine = make_engine(url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organization (id, name, kind, industry, created_at) VALUES "
                "('o1', 'A', 'enterprise', '制造业', :now), ('o2', 'B', 'school', 'Space Tourism', :now),"
                " ('o3', 'C', 'school', NULL, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO demand (id, organization_id, title, industry, headcount, status, skills,"
                " version, created_at, updated_at)"
                " VALUES ('d1', 'o1', 't', 'Manufacturing', 1, 'open', '[]', 1, :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        orgs = conn.execute(
            sa.text("SELECT id, industry_code, industry_key FROM organization ORDER BY id")
        ).all()
        demand = conn.execute(sa.text("SELECT industry_code, industry_key FROM demand")).one()
    engine.dispose()
    assert [tuple(r) for r in orgs] == [("o1", "C", "C"), ("o2", None, "space tourism"), ("o3", None, None)]
    assert tuple(demand) == ("C", "C")


def test_the_pages_offer_one_industry_option_per_section() -> None:
    demands = [Demand(industry=i) for i in ("制造业", "Manufacturing", "制造", "金融业", "新能源汽车", None)]
    assert industry_options(demands, None) == ["制造业", "新能源汽车", "金融业"]
    assert industry_options(demands, "manufacturing") == ["manufacturing", "新能源汽车", "金融业"]


def test_a_chinese_page_names_an_english_industry_in_chinese(client: TestClient) -> None:
    ent = make_org(client, "enterprise", "合肥精密零件")
    demand = make_demand(client, ent, industry="Manufacturing")
    sign_in(client, ent)
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    page = client.get(f"/ui/demands/{demand['id']}/matches", headers=zh)
    assert page.status_code == 200, page.text
    assert "制造业" in page.text and "Manufacturing" not in page.text
    en = client.get(f"/ui/demands/{demand['id']}/matches", headers={"Accept-Language": "en"}).text
    assert "Manufacturing" in en and "制造业" not in en


def test_the_demand_form_offers_the_sections_in_the_page_language(client: TestClient) -> None:
    ent = make_org(client, "enterprise", "合肥精密零件")
    sign_in(client, ent)
    zh = client.get("/ui/demands/new", headers={"Accept-Language": "zh-CN"}).text
    assert 'list="industry-sections"' in zh and '<option value="制造业">' in zh
    en = client.get("/ui/demands/new", headers={"Accept-Language": "en"}).text
    assert '<option value="Manufacturing">' in en and "制造业" not in en
