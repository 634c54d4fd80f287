"""Regions: any spelling of an administrative division is one region in filters, insights and gap scopes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.db import make_engine
from service.migrate import upgrade
from service.orm import Demand
from service.regions import resolve
from service.ui.views.filters import region_options
from tests.builders import make_demand, make_org, make_program


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("合肥", "340100"),
        ("合肥市", "340100"),
        ("Hefei", "340100"),
        ("  HEFEI ", "340100"),
        ("Hefei City", "340100"),
        ("340100", "340100"),
        ("安徽省合肥市", "340100"),
        ("Hefei, Anhui", "340100"),
        ("蜀山区", "340104"),
        ("安徽", "340000"),
        ("Anhui Province", "340000"),
        ("Xi'an", "610100"),
        ("北京", "110000"),
        ("Beijing", "110000"),
        # A short name two divisions share is the larger one; a suffix says which is meant.
        ("吉林", "220000"),
        ("吉林市", "220200"),
        ("Jilin City", "220200"),
        ("芜湖", "340200"),
        ("芜湖县", "340221"),
        ("北京市朝阳区", "110105"),
    ],
)
def test_every_spelling_resolves_to_the_division_code(text: str, code: str) -> None:
    found = resolve(text)
    assert found is not None and found.code == code, (text, found)


@pytest.mark.parametrize("text", ["朝阳", "Taizhou", "Kuala Lumpur", "合肥高新区", "", "   "])
def test_an_ambiguous_or_unknown_region_stays_text(text: str) -> None:
    assert resolve(text) is None


def _listed(client: TestClient, org: Any, region: str) -> set[str]:
    r = client.get("/v1/demands", params={"region": region, "limit": 100}, headers=org.headers)
    assert r.status_code == 200, r.text
    return {d["id"] for d in r.json()["items"]}


def test_a_demand_in_one_spelling_is_found_with_every_other(client: TestClient) -> None:
    ent = make_org(client, "enterprise", "合肥精密零件", region="合肥")
    hefei = make_demand(client, ent, region="合肥")
    district = make_demand(client, ent, region="蜀山区")
    wuhu = make_demand(client, ent, region="芜湖市")
    abroad = make_demand(client, ent, region="Kuala Lumpur")
    assert hefei["region"] == "合肥"  # the text as written is kept
    assert (hefei["region_code"], hefei["region_name"]) == ("340100", "合肥市")
    assert (abroad["region_code"], abroad["region_name"]) == (None, None)
    for spelling in ("Hefei", "合肥市", "合肥", "hefei city", "340100", "安徽省合肥市"):
        assert _listed(client, ent, spelling) == {hefei["id"], district["id"]}, spelling
    assert _listed(client, ent, "蜀山区") == {district["id"]}
    assert _listed(client, ent, "Anhui") == {hefei["id"], district["id"], wuhu["id"]}
    assert _listed(client, ent, "kuala  lumpur") == {abroad["id"]}
    assert _listed(client, ent, "Wuhan") == set()
    # A changed region is compared by its new code.
    r = client.patch(f"/v1/demands/{wuhu['id']}", json={"region": "Hefei"}, headers=ent.headers)
    assert r.status_code == 200 and r.json()["region_code"] == "340100"
    assert wuhu["id"] in _listed(client, ent, "合肥")
    me = client.get("/v1/organizations/me", headers=ent.headers).json()
    assert (me["region"], me["region_code"], me["region_name"]) == ("合肥", "340100", "合肥市")


def _skill(name: str, importance: int = 3) -> dict[str, Any]:
    return {"name": name, "importance": importance}


def test_a_school_in_hefei_sees_the_demands_posted_in_hefei_shi(client: TestClient) -> None:
    school = make_org(client, "school", "Hefei Tech", region="Hefei")
    ent = make_org(client, "enterprise")
    posted = make_demand(client, ent, headcount=5, region="合肥市", skills=[_skill("CNC machining", 5)])
    make_demand(client, ent, headcount=9, region="Wuhu", skills=[_skill("welding", 4)])
    program = make_program(client, school)
    r = client.get(f"/v1/programs/{program['id']}/gaps", headers=school.headers)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["scope"]["kind"] == "school"
    assert report["scope"]["demands"] == 1
    assert [s["skill"] for s in report["skills"]] == ["CNC machining"]
    assert report["skills"][0]["demand_ids"] == [posted["id"]]
    # The same scope given as a filter, in another spelling.
    r = client.get(f"/v1/programs/{program['id']}/gaps", params={"region": "合肥"}, headers=school.headers)
    assert r.json()["scope"]["demands"] == 1


def test_insights_count_every_spelling_as_one_region(client: TestClient) -> None:
    gov = make_org(client, "government", "合肥市教育局", region="合肥市")
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    make_demand(client, a, headcount=5, region="Hefei", skills=[_skill("CNC machining", 5)])
    make_demand(client, b, headcount=3, region="合肥", skills=[_skill("CNC machining", 4)])
    make_demand(client, b, headcount=7, region="芜湖", skills=[_skill("CNC machining", 4)])

    def rows(region: str) -> dict[str, Any]:
        r = client.get("/v1/insights/skills", params={"region": region}, headers=gov.headers)
        assert r.status_code == 200, r.text
        return {row["skill"]: row for row in r.json()["items"]}

    hefei = rows("合肥市")
    assert hefei["CNC machining"]["demanded_headcount"] == 8
    assert rows("Hefei") == hefei == rows("合肥")


def test_the_migration_backfills_the_codes_of_existing_regions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001")
    engine = make_engine(url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO organization (id, name, kind, region, created_at) VALUES "
                "('o1', 'A', 'enterprise', '合肥市', :now), ('o2', 'B', 'school', 'Atlantis', :now),"
                " ('o3', 'C', 'school', NULL, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO demand (id, organization_id, title, region, headcount, status, skills, version,"
                " created_at, updated_at) VALUES ('d1', 'o1', 't', 'Hefei', 1, 'open', '[]', 1, :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        orgs = conn.execute(sa.text("SELECT id, region_code, region_key FROM organization ORDER BY id")).all()
        demand = conn.execute(sa.text("SELECT region_code, region_key FROM demand")).one()
    engine.dispose()
    assert [tuple(r) for r in orgs] == [
        ("o1", "340100", "340100"),
        ("o2", None, "atlantis"),
        ("o3", None, None),
    ]
    assert tuple(demand) == ("340100", "340100")


def test_the_pages_offer_one_region_option_per_division() -> None:
    demands = [Demand(region=r) for r in ("合肥", "Hefei", "合肥市", "芜湖", "Kuala Lumpur", None)]
    assert region_options(demands, None) == ["Kuala Lumpur", "合肥市", "芜湖市"]
    assert region_options(demands, "hefei") == ["Kuala Lumpur", "hefei", "芜湖市"]
