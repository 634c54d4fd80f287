"""Web pages through the ASGI app: sign-in and sessions, CSRF, role rules, language, CSV."""

from __future__ import annotations

import re
import time
from html import escape, unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.ui import auth
from tests.builders import admin_headers, make_demand, make_org, make_program
from tests.ui.support import csrf_token, page_token, parse_csv, seed, sign_in

NOT_FOUND_EN = "This page does not exist, or your organisation may not see it."


def _is_html(r: object, status: int) -> str:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("text/html")  # type: ignore[attr-defined]
    return str(r.text)  # type: ignore[attr-defined]


# -- signing in ------------------------------------------------------------------------------------


def test_pages_need_sign_in_and_come_back_after_it(client: TestClient) -> None:
    school = make_org(client, "school", "Hefei Tech")
    program = make_program(client, school)
    path = f"/ui/programs/{program['id']}/gaps"

    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/ui/sign-in?next=%2Fui%2Fprograms%2F{program['id']}%2Fgaps"

    r = sign_in(client, school, next_path=path)
    assert r.headers["location"] == path
    home = _is_html(client.get("/ui/"), 200)
    assert "Hefei Tech" in home
    assert "Mechatronics" in home


def test_session_cookie_is_signed_httponly_strict_and_expiring(client: TestClient) -> None:
    school = make_org(client, "school")
    r = sign_in(client, school)
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tm_session="))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "max-age", "path"} <= flags
    assert "samesite=strict" in cookie.lower()
    assert f"max-age={auth.SESSION_MAX_AGE}" in cookie.lower()
    assert "secure" not in flags  # plain HTTP here
    assert school.key not in cookie  # the key itself never reaches the browser


def test_session_cookie_is_secure_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        school = make_org(client, "school")
        r = sign_in(client, school)
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tm_session="))
        assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_wrong_key_is_refused_without_a_session(client: TestClient) -> None:
    token = csrf_token(client.get("/ui/sign-in").text)
    r = client.post(
        "/ui/sign-in", data={"api_key": "tm_not-a-key", "csrf_token": token}, follow_redirects=False
    )
    body = _is_html(r, 401)
    assert "The key is not valid or has been revoked." in body
    assert "tm_session" not in r.cookies
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_tampered_or_expired_session_is_signed_out(
    client: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    good = client.cookies["tm_session"]
    assert client.get("/ui/", follow_redirects=False).status_code == 200

    client.cookies.clear()
    client.cookies.set("tm_session", good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"))
    assert client.get("/ui/", follow_redirects=False).status_code == 303

    # A correctly signed cookie issued longer ago than the session lifetime.
    page_session = app.state.ui_codec.loads(good)
    long_ago = time.time() - auth.SESSION_MAX_AGE - 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: long_ago)
    stale = app.state.ui_codec.dumps(page_session)
    monkeypatch.undo()
    client.cookies.clear()
    client.cookies.set("tm_session", good)
    assert client.get("/ui/", follow_redirects=False).status_code == 200  # the way cookies are set works
    client.cookies.clear()
    client.cookies.set("tm_session", stale)
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_revoking_the_key_ends_the_session(client: TestClient) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    r = client.post(f"/v1/organizations/{school.id}/api-keys?revoke_existing=true", headers=admin_headers())
    assert r.status_code == 201, r.text
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_out_needs_its_token_and_ends_the_session(client: TestClient) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    r = client.post("/ui/sign-out", data={"csrf_token": "forged"}, follow_redirects=False)
    _is_html(r, 403)
    assert client.get("/ui/", follow_redirects=False).status_code == 200

    r = client.post("/ui/sign-out", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/sign-in"
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_sign_in_follows_only_local_pages(client: TestClient) -> None:
    school = make_org(client, "school")
    for target in ("https://evil.example/", "//evil.example/ui/", "/v1/demands", "/ui//evil.example"):
        client.cookies.clear()
        assert sign_in(client, school, next_path=target).headers["location"] == "/ui/"


# -- CSRF --------------------------------------------------------------------------------------------


def test_sign_in_without_a_valid_csrf_token_is_refused(client: TestClient) -> None:
    school = make_org(client, "school")
    client.get("/ui/sign-in")
    for data in ({"api_key": school.key}, {"api_key": school.key, "csrf_token": "0" * 64}):
        r = client.post("/ui/sign-in", data=data, follow_redirects=False)
        assert "did not come from this site" in _is_html(r, 403)
        assert "tm_session" not in r.cookies

    # A token taken from another browser's page does not fit this browser's cookie.
    with TestClient(client.app) as other:
        foreign = csrf_token(other.get("/ui/sign-in").text)
    r = client.post(
        "/ui/sign-in", data={"api_key": school.key, "csrf_token": foreign}, follow_redirects=False
    )
    _is_html(r, 403)


def test_token_from_before_sign_in_is_not_valid_after_it(client: TestClient) -> None:
    school = make_org(client, "school")
    before = csrf_token(client.get("/ui/sign-in").text)
    sign_in(client, school)
    r = client.post("/ui/sign-out", data={"csrf_token": before}, follow_redirects=False)
    _is_html(r, 403)


def test_language_switch_needs_its_token(client: TestClient) -> None:
    r = client.post("/ui/lang", data={"lang": "zh", "next": "/ui/sign-in"}, follow_redirects=False)
    _is_html(r, 403)
    assert "tm_lang" not in r.cookies


# -- language ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "heading"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "使用机构密钥登录"),
        ("en-GB,en;q=0.9,zh;q=0.5", "en", "Sign in with your organisation"),
        ("de-DE,zh-TW;q=0.7", "zh-CN", "使用机构密钥登录"),
        ("fr-FR", "en", "Sign in with your organisation"),
        ("", "en", "Sign in with your organisation"),
    ],
)
def test_language_follows_the_browser(client: TestClient, accept: str, lang: str, heading: str) -> None:
    body = _is_html(client.get("/ui/sign-in", headers={"Accept-Language": accept}), 200)
    assert f'<html lang="{lang}">' in body
    assert heading in body


def test_switching_language_sticks_over_the_browser_preference(client: TestClient) -> None:
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    page = client.get("/ui/sign-in", headers=zh).text
    assert "使用机构密钥登录" in page
    r = client.post(
        "/ui/lang",
        data={"lang": "en", "next": "/ui/sign-in", "csrf_token": csrf_token(page)},
        headers=zh,
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in"
    assert "Sign in with your organisation" in client.get("/ui/sign-in", headers=zh).text


# -- role rules --------------------------------------------------------------------------------------


def test_another_schools_programme_is_a_404_page(client: TestClient) -> None:
    c = seed(client, orders=False)
    sign_in(client, c.school)
    for path in (
        f"/ui/programs/{c.other_program['id']}/gaps",
        f"/ui/programs/{c.other_program['id']}/gaps.csv",
        "/ui/programs/00000000-0000-0000-0000-000000000000/gaps",
        "/ui/programs/not-an-id/gaps",
    ):
        body = _is_html(client.get(path), 404)
        assert NOT_FOUND_EN in body
        assert c.other_program["name"] not in body


def test_programme_pages_are_for_the_owning_school_only(client: TestClient) -> None:
    c = seed(client, orders=False)
    for org in (c.enterprise, c.government):
        client.cookies.clear()
        sign_in(client, org)
        body = _is_html(client.get(f"/ui/programs/{c.program['id']}/gaps"), 404)
        assert NOT_FOUND_EN in body


def test_another_organisations_demand_matches_are_a_404_page(client: TestClient) -> None:
    c = seed(client, orders=False)
    for org in (c.other_enterprise, c.school, c.government):
        client.cookies.clear()
        sign_in(client, org)
        for path in (f"/ui/demands/{c.demand['id']}/matches", f"/ui/demands/{c.demand['id']}/matches.csv"):
            body = _is_html(client.get(path), 404)
            assert NOT_FOUND_EN in body
            assert c.demand["title"] not in body
        r = client.post(
            f"/ui/demands/{c.demand['id']}/matches",
            data={"csrf_token": page_token(client), "top_k": "5"},
            follow_redirects=False,
        )
        _is_html(r, 404)
    r = client.get(f"/v1/demands/{c.demand['id']}/matches", headers=c.enterprise.headers)
    assert r.status_code == 404  # nobody else's attempt produced a stored run


def test_unknown_page_is_a_404_page(client: TestClient) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    assert NOT_FOUND_EN in _is_html(client.get("/ui/no/such/page"), 404)


def test_home_lists_only_the_organisations_own_objects(client: TestClient) -> None:
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    home = _is_html(client.get("/ui/"), 200)
    assert c.demand["title"] in home and c.second_demand["title"] in home
    assert c.other_demand["title"] not in home
    assert f"/ui/demands/{c.demand['id']}/matches" in home

    client.cookies.clear()
    sign_in(client, c.other_school)
    home = _is_html(client.get("/ui/"), 200)
    assert f"/ui/programs/{c.other_program['id']}/gaps" in home
    assert f"/ui/programs/{c.program['id']}/gaps" not in home


def test_pages_send_protective_headers(client: TestClient) -> None:
    r = client.get("/ui/sign-in")
    assert "script-src 'none'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


def test_static_files_are_served_by_the_app(client: TestClient) -> None:
    r = client.get("/ui/static/ui.css")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert "http://" not in r.text and "https://" not in r.text  # nothing loaded from elsewhere


# -- CSRF on a state-changing page action -----------------------------------------------------------


def test_running_matches_from_the_page_needs_the_token(client: TestClient) -> None:
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    path = f"/ui/demands/{c.demand['id']}/matches"
    r = client.post(path, data={"top_k": "5"}, follow_redirects=False)
    _is_html(r, 403)
    r = client.post(path, data={"top_k": "5", "csrf_token": "f" * 64}, follow_redirects=False)
    _is_html(r, 403)
    assert (
        client.get(f"/v1/demands/{c.demand['id']}/matches", headers=c.enterprise.headers).status_code == 404
    )

    r = client.post(path, data={"top_k": "5", "csrf_token": page_token(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == path
    stored = client.get(f"/v1/demands/{c.demand['id']}/matches", headers=c.enterprise.headers)
    assert stored.status_code == 200, stored.text
    assert 1 <= len(stored.json()["matches"]) <= 5


# -- what the pages show -----------------------------------------------------------------------------


def _bar_keys(html: str, chart: str) -> list[str]:
    svg = html[html.index(f'<svg id="{chart}"') :]
    svg = svg[: svg.index("</svg>")]
    return [unescape(k) for k in re.findall(r'<rect class="bar[^"]*"[^>]*data-key="([^"]*)"', svg)]


def test_gap_report_page_and_csv_show_the_api_report(client: TestClient) -> None:
    c = seed(client, orders=False)
    pid = c.program["id"]
    api = client.get(f"/v1/programs/{pid}/gaps", params={"region": "Hefei"}, headers=c.school.headers)
    assert api.status_code == 200, api.text
    skills = api.json()["skills"]
    assert skills and any(s["status"] == "gap" for s in skills)

    sign_in(client, c.school)
    html = _is_html(
        client.get(f"/ui/programs/{pid}/gaps", params={"scope": "region", "region": "Hefei"}), 200
    )
    assert _bar_keys(html, "gap-chart") == [s["skill"] for s in skills]
    assert html.count("✗ gap") >= sum(s["status"] == "gap" for s in skills)  # said in words, not only colour
    for s in skills:
        if s["evidence"]:
            assert escape(s["evidence"]["course_title"]) in html
    coverage = round(api.json()["coverage"] * 100)
    assert f"Overall coverage: {coverage}%" in html

    r = client.get(f"/ui/programs/{pid}/gaps.csv", params={"scope": "region", "region": "Hefei"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="gap-report-{pid}.csv"'
    table = parse_csv(r.content)
    assert table[0][:6] == ["skill", "aliases", "weight", "headcount", "coverage", "status"]
    assert [(row[0], row[5]) for row in table[1:]] == [(s["skill"], s["status"]) for s in skills]
    assert [float(row[4]) for row in table[1:]] == [round(s["coverage"], 4) for s in skills]


def test_gap_report_for_one_demand_and_for_every_open_demand(client: TestClient) -> None:
    c = seed(client, orders=False)
    pid = c.program["id"]
    sign_in(client, c.school)
    html = _is_html(
        client.get(f"/ui/programs/{pid}/gaps", params={"scope": "demand", "demand_id": c.demand["id"]}), 200
    )
    assert sorted(_bar_keys(html, "gap-chart")) == sorted(s["name"] for s in c.demand["skills"])
    assert f"Scope: demand “{c.demand['title']}”" in html

    # No scope chosen: the open demands of the school's own region (Hefei), not of every region.
    html = _is_html(client.get(f"/ui/programs/{pid}/gaps"), 200)
    assert "Scope: open demands (region: Hefei; industry: (any))" in html
    assert "2 demands in scope, headcount 10" in html
    assert _bar_keys(html, "gap-chart")
    html = _is_html(
        client.get(f"/ui/programs/{pid}/gaps", params={"scope": "region", "region": "Hefei"}), 200
    )
    assert "2 demands in scope, headcount 10" in html

    # A closed demand of another enterprise is not readable: the 404 page, as in the API.
    r = client.patch(
        f"/v1/demands/{c.other_demand['id']}", json={"status": "closed"}, headers=c.other_enterprise.headers
    )
    assert r.status_code == 200, r.text
    r = client.get(f"/ui/programs/{pid}/gaps", params={"scope": "demand", "demand_id": c.other_demand["id"]})
    assert NOT_FOUND_EN in _is_html(r, 404)


def test_csv_cells_that_look_like_formulas_are_neutralised(client: TestClient) -> None:
    school = make_org(client, "school")
    enterprise = make_org(client, "enterprise")
    program = make_program(client, school)
    demand = make_demand(
        client, enterprise, skills=[{"name": '=HYPERLINK("http://evil.example")', "importance": 5}]
    )
    sign_in(client, school)
    r = client.get(
        f"/ui/programs/{program['id']}/gaps.csv", params={"scope": "demand", "demand_id": demand["id"]}
    )
    table = parse_csv(r.content)
    assert table[1][0] == '\'=HYPERLINK("http://evil.example")'


def test_matches_page_and_csv_are_pseudonymous(client: TestClient) -> None:
    c = seed(client, orders=False)
    did = c.demand["id"]
    sign_in(client, c.enterprise)
    html = _is_html(client.get(f"/ui/demands/{did}/matches"), 200)
    assert "Matching has not been run yet." in html
    assert parse_csv(client.get(f"/ui/demands/{did}/matches.csv").content)[1:] == []

    r = client.post(
        f"/ui/demands/{did}/matches",
        data={"top_k": "4", "csrf_token": page_token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    matches = client.get(f"/v1/demands/{did}/matches", headers=c.enterprise.headers).json()["matches"]
    html = _is_html(client.get(f"/ui/demands/{did}/matches"), 200)
    assert _bar_keys(html, "score-chart") == [m["graduate_id"] for m in matches]
    assert html.count('<td class="ev-') == len(c.demand["skills"]) * len(matches)
    assert "Hefei Tech" in html  # the school is named
    assert "HT-2026" not in html  # the school's own reference is not

    table = parse_csv(client.get(f"/ui/demands/{did}/matches.csv").content)
    assert table[0][:6] == ["rank", "graduate_id", "school_id", "school", "score", "missing_required"]
    assert [row[1] for row in table[1:]] == [m["graduate_id"] for m in matches]
    assert [float(row[4]) for row in table[1:]] == [round(m["score"], 4) for m in matches]
    assert not any("HT-2026" in cell for row in table for cell in row)


def test_dashboard_shows_aggregates_only(client: TestClient) -> None:
    c = seed(client)
    insights = client.get("/v1/insights/skills", params={"limit": 10}, headers=c.government.headers)
    assert insights.status_code == 200, insights.text
    sign_in(client, c.government)
    html = _is_html(client.get("/ui/dashboard"), 200)
    assert _bar_keys(html, "shortage-chart") == [s["skill"] for s in insights.json()["items"]]
    assert re.findall(r'data-count="(\d+)"', html) == ["6", "3", "2", "1"]
    assert "Ended early: 1 rejected, 1 cancelled" in html
    for org in c.orgs:
        assert f'<th scope="row">{org.name}</th>' in html
    assert not any(g in html for g in c.graduate_ids)
    assert "HT-2026" not in html

    html = _is_html(client.get("/ui/dashboard", params={"region": "Wuhu"}), 200)
    wuhu = client.get("/v1/insights/skills", params={"region": "Wuhu"}, headers=c.government.headers).json()
    assert _bar_keys(html, "shortage-chart") == [s["skill"] for s in wuhu["items"][:10]]
