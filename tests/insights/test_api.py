from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders import Org, make_demand, make_graduate, make_org, make_program
from tests.ui.support import sign_in

ORDERS = "/v1/training-orders"


def skill(name: str, importance: int = 3) -> dict[str, Any]:
    return {"name": name, "importance": importance}


def graduates(client: TestClient, school: Org, n: int, skills: list[str], prefix: str) -> list[str]:
    return [
        make_graduate(client, school, f"{prefix}-{i}", skills=[{"name": s, "level": 3} for s in skills])["id"]
        for i in range(n)
    ]


def act(client: TestClient, org: Org, order: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    r = client.post(
        f"{ORDERS}/{order['id']}/transitions",
        json={"action": action, **body},
        headers={**org.headers, "If-Match": f'"{order["version"]}"'},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def order(client: TestClient, ent: Org, school: Org, headcount: int) -> dict[str, Any]:
    r = client.post(ORDERS, json={"school_id": school.id, "headcount": headcount}, headers=ent.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def skill_rows(client: TestClient, org: Org, **params: Any) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/insights/skills", params={"limit": 100, **params}, headers=org.headers)
    assert r.status_code == 200, r.text
    return {row["skill"]: row for row in r.json()["items"]}


@pytest.fixture
def consortium(client: TestClient) -> dict[str, Org]:
    """Two enterprises in Hefei and one in Wuhu, two schools, a government."""
    orgs = {
        "a": make_org(client, "enterprise", "Hefei Auto Parts", region="Hefei"),
        "b": make_org(client, "enterprise", "Hefei Robotics", region="Hefei"),
        "w": make_org(client, "enterprise", "Wuhu Shipyard", region="Wuhu"),
        "s1": make_org(client, "school", "Hefei Tech"),
        "s2": make_org(client, "school", "Anqing Vocational"),
        "gov": make_org(client, "government", "Hefei Education Bureau"),
    }
    make_demand(client, orgs["a"], headcount=5, skills=[skill("CNC machining", 5), skill("welding", 2)])
    make_demand(client, orgs["b"], headcount=3, skills=[skill("CNC machining", 4), skill("PLC programming")])
    make_demand(client, orgs["w"], headcount=10, region="Wuhu", skills=[skill("hull design", 5)])
    # Supply: 6 + 2 graduates hold CNC machining, 2 hold welding, nobody holds PLC programming.
    graduates(client, orgs["s1"], 6, ["CNC machining"], "s1-cnc")
    graduates(client, orgs["s2"], 2, ["CNC machining", "welding"], "s2-both")
    graduates(client, orgs["s2"], 1, ["bookkeeping"], "s2-other")
    return orgs


def test_skill_insights_aggregate_demand_and_unplaced_supply(
    client: TestClient, consortium: dict[str, Org]
) -> None:
    gov = consortium["gov"]
    rows = skill_rows(client, gov, region="Hefei")
    assert set(rows) == {"CNC machining", "welding", "PLC programming"}
    cnc = rows["CNC machining"]
    assert cnc["demands"] == 2
    assert cnc["demanded_headcount"] == 8
    assert cnc["weight"] == 5 * 5 + 3 * 4
    assert cnc["graduates"] == 8
    assert cnc["shortage"] == 0
    plc = rows["PLC programming"]
    assert (plc["graduates"], plc["graduates_suppressed"], plc["shortage"]) == (0, False, 3)
    # Two graduates hold welding: fewer than the minimum group, so the count is not shown exactly.
    welding = rows["welding"]
    assert welding["graduates"] is None
    assert welding["graduates_suppressed"] is True
    assert welding["shortage"] is None
    assert welding["demanded_headcount"] == 5

    # New graduates and demands show at once (results are remembered only until something changes).
    graduates(client, consortium["s1"], 5, ["PLC programming"], "s1-plc")
    make_demand(client, consortium["b"], headcount=4, skills=[skill("forklift driving", 2)])
    rows = skill_rows(client, gov, region="Hefei")
    assert (rows["PLC programming"]["graduates"], rows["PLC programming"]["shortage"]) == (5, -2)
    assert rows["forklift driving"]["shortage"] == 4

    # Placing two of the CNC graduates (a delivered training order) takes them out of the supply.
    ent, school = consortium["a"], consortium["s1"]
    ids = [
        g["id"]
        for g in client.get("/v1/graduates?limit=100", headers=school.headers).json()["items"]
        if g["external_ref"].startswith("s1-cnc")
    ]
    o = order(client, ent, school, 2)
    o = act(client, school, o, "accept")
    o = act(client, school, o, "start")
    act(client, school, o, "deliver", graduate_ids=ids[:2])
    rows = skill_rows(client, gov, region="Hefei")
    assert rows["CNC machining"]["graduates"] == 6
    assert rows["CNC machining"]["shortage"] == 2

    # Without a region the Wuhu demand counts too; the whole response names no graduate.
    r = client.get("/v1/insights/skills", params={"limit": 100}, headers=gov.headers)
    assert "hull design" in {row["skill"] for row in r.json()["items"]}
    assert not any(gid in r.text for gid in ids)
    assert "s1-cnc" not in r.text


def test_a_school_cannot_unlock_a_small_group_with_graduates_of_its_own(
    client: TestClient, consortium: dict[str, Org]
) -> None:
    gov, s1, s2, ent = consortium["gov"], consortium["s1"], consortium["s2"], consortium["a"]
    make_demand(client, ent, headcount=2, skills=[skill("glassblowing")])
    graduates(client, s2, 1, ["glassblowing"], "s2-glass")  # one graduate: who it is must stay hidden
    for viewer in (s1, s2, gov, ent):
        assert skill_rows(client, viewer)["glassblowing"]["graduates"] is None

    graduates(client, s1, 4, ["glassblowing"], "s1-glass")  # 5 in all, 4 of them s1's own

    own = skill_rows(client, s1)["glassblowing"]
    assert (own["graduates"], own["graduates_suppressed"], own["shortage"]) == (None, True, None)
    # s2 sees 4 from others (s1's), also too few; the government and an enterprise see the total
    assert skill_rows(client, s2)["glassblowing"]["graduates"] is None
    assert skill_rows(client, gov)["glassblowing"]["graduates"] == 5
    assert skill_rows(client, ent)["glassblowing"]["graduates"] == 5
    # the dashboard's shortage chart follows the same rule for the signed-in school
    sign_in(client, s1)
    html = client.get("/ui/dashboard").text
    assert re.search(r'class="bar[^"]* unknown"[^>]*data-key="glassblowing"', html), html
    client.cookies.clear()

    # once five graduates of other schools hold it, s1 sees the total, its own included
    graduates(client, s2, 4, ["glassblowing"], "s2-glass-more")
    assert skill_rows(client, s1)["glassblowing"]["graduates"] == 9
    assert skill_rows(client, s2)["glassblowing"]["graduates"] is None  # s1's 4 are still too few


def test_skill_insights_sort_page_and_minimum_group(
    client: TestClient, consortium: dict[str, Org], app: Any
) -> None:
    gov = consortium["gov"]
    r = client.get("/v1/insights/skills", params={"limit": 2}, headers=gov.headers)
    assert r.status_code == 200
    page1 = r.json()
    assert page1["min_group"] == 5
    assert len(page1["items"]) == 2
    assert page1["next_cursor"]
    r = client.get(
        "/v1/insights/skills", params={"limit": 2, "cursor": page1["next_cursor"]}, headers=gov.headers
    )
    page2 = r.json()
    assert page2["next_cursor"] is None
    everything = page1["items"] + page2["items"]
    assert [row["skill"] for row in everything] == [
        "hull design",  # 10 demanded, none held
        "welding",  # 5 demanded, a suppressed count: sorted as if at most 5 - 1 short
        "PLC programming",  # 3 short
        "CNC machining",  # 8 demanded, 8 held: 0 short
    ]
    by_weight = client.get("/v1/insights/skills", params={"sort": "weight"}, headers=gov.headers).json()
    assert [row["skill"] for row in by_weight["items"]][:2] == ["hull design", "CNC machining"]
    assert client.get("/v1/insights/skills", params={"sort": "x"}, headers=gov.headers).status_code == 422
    assert client.get("/v1/insights/skills", params={"cursor": "!!"}, headers=gov.headers).status_code == 422
    assert client.get("/v1/insights/skills", params={"limit": 0}, headers=gov.headers).status_code == 422
    r = client.get("/v1/insights/skills", params={"industry": "a\x00b"}, headers=gov.headers)
    assert r.status_code == 422

    # A lower minimum shows the welding count.
    app.state.settings.insights_min_group = 2
    rows = skill_rows(client, gov, region="Hefei")
    assert rows["welding"]["graduates"] == 2
    assert rows["welding"]["shortage"] == 3


def test_government_sees_no_individual_graduate(client: TestClient, consortium: dict[str, Org]) -> None:
    gov, school, ent = consortium["gov"], consortium["s1"], consortium["a"]
    grads = client.get("/v1/graduates?limit=100", headers=school.headers).json()["items"]
    program = make_program(client, school)
    demand_id = client.get("/v1/demands", headers=ent.headers).json()["items"][0]["id"]
    assert client.get("/v1/graduates", headers=gov.headers).status_code == 403
    assert client.get(f"/v1/graduates/{grads[0]['id']}", headers=gov.headers).status_code == 403
    assert client.get(f"/v1/graduates/{grads[0]['id']}/export", headers=gov.headers).status_code == 403
    assert client.get(f"/v1/demands/{demand_id}/matches", headers=gov.headers).status_code in (403, 404)
    assert (
        client.get(f"/v1/programs/{program['id']}/gaps?region=Hefei", headers=gov.headers).status_code == 403
    )
    for path in ("/v1/insights/skills", "/v1/insights/members"):
        r = client.get(path, params={"limit": 100}, headers=gov.headers)
        assert r.status_code == 200
        for g in grads:
            assert g["id"] not in r.text
            assert g["external_ref"] not in r.text
        assert "bookkeeping" not in r.text  # a graduate's skill nobody demands


def test_member_contribution(client: TestClient, consortium: dict[str, Org]) -> None:
    a, b, s1, s2, gov = (consortium[k] for k in ("a", "b", "s1", "s2", "gov"))
    s1_grads = [g["id"] for g in client.get("/v1/graduates?limit=100", headers=s1.headers).json()["items"]]
    delivered = act(
        client,
        s1,
        act(client, s1, act(client, s1, order(client, a, s1, 4), "accept"), "start"),
        "deliver",
        graduate_ids=s1_grads[:3],
    )
    assert delivered["status"] == "delivered"
    act(client, a, act(client, s1, order(client, a, s1, 2), "accept"), "cancel", reason="budget")
    act(client, s2, order(client, a, s2, 5), "reject", reason="no capacity")
    order(client, b, s2, 6)  # still proposed
    own = client.get("/v1/demands", params={"organization_id": b.id}, headers=b.headers).json()["items"]
    r = client.patch(f"/v1/demands/{own[0]['id']}", json={"status": "closed"}, headers=b.headers)
    assert r.status_code == 200

    r = client.get("/v1/insights/members", params={"limit": 100}, headers=gov.headers)
    assert r.status_code == 200, r.text
    rows = {row["name"]: row for row in r.json()["items"]}
    assert set(rows) == {
        "Hefei Auto Parts",
        "Hefei Robotics",
        "Wuhu Shipyard",
        "Hefei Tech",
        "Anqing Vocational",
        "Hefei Education Bureau",
    }
    ra = rows["Hefei Auto Parts"]
    assert (ra["demands_posted"], ra["open_demands"], ra["open_headcount"]) == (1, 1, 5)
    assert ra["orders_placed"] == 3
    assert ra["orders_received"] == 0
    assert ra["orders_accepted"] == 2  # the delivered one and the one cancelled after acceptance
    assert (ra["orders_delivered"], ra["orders_cancelled"], ra["orders_rejected"]) == (1, 1, 1)
    assert ra["ordered_headcount"] == 4 + 2 + 5
    assert ra["delivered_headcount"] == 3
    assert ra["graduates_placed"] == 3
    assert ra["fulfilment_rate"] == pytest.approx(3 / 11, abs=1e-4)

    rb = rows["Hefei Robotics"]
    assert (rb["demands_posted"], rb["open_demands"], rb["open_headcount"]) == (1, 0, 0)
    assert (rb["orders_placed"], rb["ordered_headcount"], rb["fulfilment_rate"]) == (1, 6, 0.0)

    t1 = rows["Hefei Tech"]
    assert (t1["orders_received"], t1["orders_accepted"], t1["orders_delivered"]) == (2, 2, 1)
    assert t1["graduates_placed"] == 3
    assert t1["fulfilment_rate"] == pytest.approx(3 / 6, abs=1e-4)
    t2 = rows["Anqing Vocational"]
    assert (t2["orders_received"], t2["orders_rejected"], t2["graduates_placed"]) == (2, 1, 0)
    assert rows["Wuhu Shipyard"]["fulfilment_rate"] is None
    assert rows["Hefei Education Bureau"]["demands_posted"] == 0

    # Sorted by fulfilment rate (nothing ordered last), then paged.
    r = client.get("/v1/insights/members", params={"sort": "fulfilment_rate", "limit": 2}, headers=a.headers)
    body = r.json()
    assert [row["name"] for row in body["items"]] == ["Hefei Tech", "Hefei Auto Parts"]
    assert body["next_cursor"]
    rest = client.get(
        "/v1/insights/members",
        params={"sort": "fulfilment_rate", "limit": 100, "cursor": body["next_cursor"]},
        headers=a.headers,
    ).json()
    assert len(rest["items"]) == 4
    assert rest["items"][-1]["fulfilment_rate"] is None


def test_insights_need_a_key(client: TestClient) -> None:
    for path in ("/v1/insights/skills", "/v1/insights/members"):
        assert client.get(path).status_code == 401


@pytest.mark.real_encoder
def test_skill_insights_group_paraphrases_and_match_supply_on_the_real_encoder(
    real_client: TestClient,
) -> None:
    client = real_client
    a = make_org(client, "enterprise", "A")
    b = make_org(client, "enterprise", "B")
    school = make_org(client, "school")
    gov = make_org(client, "government")
    make_demand(client, a, headcount=4, skills=[skill("PLC programming", 4), skill("数控编程", 5)])
    make_demand(client, b, headcount=2, skills=[skill("programming PLCs", 5)])
    graduates(client, school, 5, ["programming Siemens PLCs", "数控编程与加工"], "plc")
    graduates(client, school, 3, ["bookkeeping"], "acc")
    rows = skill_rows(client, gov)
    assert len(rows) == 2
    plc = next(row for row in rows.values() if "PLC" in row["skill"])
    assert {plc["skill"], *plc["aliases"]} == {"PLC programming", "programming PLCs"}
    assert (plc["demands"], plc["demanded_headcount"], plc["weight"]) == (2, 6, 4 * 4 + 2 * 5)
    assert plc["graduates"] == 5
    assert plc["shortage"] == 1
    assert rows["数控编程"]["graduates"] == 5
