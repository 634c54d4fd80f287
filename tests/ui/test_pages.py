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


def _svg(html: str, chart: str) -> str:
    svg = html[html.index(f'<svg id="{chart}"') :]
    return svg[: svg.index("</svg>")]


def _bar_keys(html: str, chart: str) -> list[str]:
    """The bars' keys of a chart, in order; its phone layout must show the same bars."""
    keys = [
        unescape(k) for k in re.findall(r'<rect class="bar[^"]*"[^>]*data-key="([^"]*)"', _svg(html, chart))
    ]
    narrow = _svg(html, f"{chart}-narrow")
    assert [unescape(k) for k in re.findall(r'<rect class="bar[^"]*"[^>]*data-key="([^"]*)"', narrow)] == keys
    return keys


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
    assert table[0][:6] == ["Skill", "Aliases", "Weight", "Headcount", "Coverage", "Status"]
    assert [(row[0], row[5]) for row in table[1:]] == [(s["skill"], s["status"]) for s in skills]
    assert [row[4] for row in table[1:]] == [f"{s['coverage'] * 100:.1f}%" for s in skills]

    # In Chinese: the headers and the status values too.
    client.headers["Accept-Language"] = LANGS["zh"]
    r = client.get(f"/ui/programs/{pid}/gaps.csv", params={"scope": "region", "region": "Hefei"})
    table = parse_csv(r.content)
    assert table[0][:6] == ["技能", "别名", "权重", "人数", "覆盖率", "状态"]
    zh_status = {"covered": "已覆盖", "partial": "部分覆盖", "gap": "缺口"}
    assert [row[5] for row in table[1:]] == [zh_status[s["status"]] for s in skills]


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
    assert table[0][:6] == ["Rank", "Graduate id", "School id", "School", "Score", "Missing required skills"]
    assert [row[1] for row in table[1:]] == [m["graduate_id"] for m in matches]
    assert [row[4] for row in table[1:]] == [f"{m['score'] * 100:.1f}%" for m in matches]
    assert set(table[1][-len(c.demand["skills"]) :]) <= {"met", "partial", "missing"}
    assert not any("HT-2026" in cell for row in table for cell in row)


def test_dashboard_shows_aggregates_only(client: TestClient) -> None:
    c = seed(client)
    insights = client.get("/v1/insights/skills", params={"limit": 10}, headers=c.government.headers)
    assert insights.status_code == 200, insights.text
    sign_in(client, c.government)
    html = _is_html(client.get("/ui/dashboard"), 200)
    assert _bar_keys(html, "shortage-chart") == [s["skill"] for s in insights.json()["items"]]
    for layout in ("funnel-chart", "funnel-chart-narrow"):
        assert re.findall(r'data-count="(\d+)"', _svg(html, layout)) == ["6", "3", "2", "1"]
    assert "Ended early: 1 rejected, 1 cancelled" in html
    for org in c.orgs:
        assert f'<th scope="row">{org.name}</th>' in html
    assert not any(g in html for g in c.graduate_ids)
    assert "HT-2026" not in html

    html = _is_html(client.get("/ui/dashboard", params={"region": "Wuhu"}), 200)
    wuhu = client.get("/v1/insights/skills", params={"region": "Wuhu"}, headers=c.government.headers).json()
    assert _bar_keys(html, "shortage-chart") == [s["skill"] for s in wuhu["items"][:10]]


# -- doing the work from the pages --------------------------------------------------------------------

LANGS = {"en": "en-GB,en;q=0.9", "zh": "zh-CN,zh;q=0.9"}
SAVED_TEXT = {"en": "Post a demand", "zh": "发布需求"}


def _post(client: TestClient, path: str, data: dict[str, object], *, token_from: str | None = None) -> object:
    token = page_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _redirected_to(r: object, prefix: str) -> str:
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    location = str(r.headers["location"])  # type: ignore[attr-defined]
    assert location.startswith(prefix), location
    return location


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_enterprise_posts_edits_and_matches_a_demand(client: TestClient, lang: str) -> None:
    client.headers["Accept-Language"] = LANGS[lang]
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    form = _is_html(client.get("/ui/demands/new"), 200)
    assert SAVED_TEXT[lang] in form
    for name in ("title", "description", "region", "industry", "headcount", "deadline", "skills"):
        assert f'name="{name}"' in form

    r = _post(
        client,
        "/ui/demands/new",
        {
            "title": "Maintenance technician",
            "description": "Keeps CNC lines running.",
            "region": "Hefei",
            "industry": "manufacturing",
            "headcount": "3",
            "deadline": "2027-06-30",
            "skills": "CNC machining | 5 | 3 | required\nquality inspection | 2",
        },
    )
    location = _redirected_to(r, "/ui/demands/")
    demand_id = location.rsplit("/", 1)[1]
    api = client.get(f"/v1/demands/{demand_id}", headers=c.enterprise.headers).json()
    assert api["title"] == "Maintenance technician" and api["headcount"] == 3
    assert api["deadline"] == "2027-06-30"
    assert [(s["name"], s["importance"], s["level"], s["required"]) for s in api["skills"]] == [
        ("CNC machining", 5, 3, True),
        ("quality inspection", 2, None, False),
    ]
    page = _is_html(client.get(location), 200)
    assert "Maintenance technician" in page
    assert "Mechatronics" in page  # a programme that covers it, with a way to order training
    assert f"/ui/training-orders/new?demand_id={demand_id}&amp;program_id={c.program['id']}" in page

    # Edit: the form is prefilled; a bad line is named, nothing is saved.
    edit = _is_html(client.get(f"{location}/edit"), 200)
    assert "CNC machining | 5 | 3 | required" in edit
    r = _post(
        client,
        f"{location}/edit",
        {"title": "Maintenance technician", "headcount": "0", "skills": "welding | nine", "version": "1"},
        token_from=f"{location}/edit",
    )
    body = _is_html(r, 422)
    assert "line 1: importance &#39;nine&#39;" in body or "line 1: importance 'nine'" in unescape(body)
    assert 'id="headcount-error"' in body
    r = _post(
        client,
        f"{location}/edit",
        {
            "title": "Maintenance lead",
            "headcount": "4",
            "skills": "welding | 4",
            "version": "1",
            "status": "open",
        },
        token_from=f"{location}/edit",
    )
    _redirected_to(r, location)
    api = client.get(f"/v1/demands/{demand_id}", headers=c.enterprise.headers).json()
    assert api["title"] == "Maintenance lead" and [s["name"] for s in api["skills"]] == ["welding"]

    # A page opened before that change cannot overwrite it.
    r = _post(
        client,
        f"{location}/edit",
        {"title": "Stale", "headcount": "4", "skills": "welding", "version": "1"},
        token_from=f"{location}/edit",
    )
    body = _is_html(r, 409)
    assert ("changed meanwhile" if lang == "en" else "已被修改") in body
    assert (
        client.get(f"/v1/demands/{demand_id}", headers=c.enterprise.headers).json()["title"]
        == "Maintenance lead"
    )

    # Run matching from the demand's page.
    r = _post(client, f"/ui/demands/{c.demand['id']}/matches", {"top_k": "3"}, token_from=location)
    assert r.status_code == 303
    page = _is_html(client.get(f"/ui/demands/{c.demand['id']}"), 200)
    assert f"/ui/demands/{c.demand['id']}/matches" in page and 'id="last-run"' in page


def test_demand_form_needs_its_token_and_the_right_kind(client: TestClient) -> None:
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    r = client.post(
        "/ui/demands/new", data={"title": "x", "headcount": "1", "skills": "a"}, follow_redirects=False
    )
    _is_html(r, 403)
    assert len(client.get("/v1/demands", headers=c.enterprise.headers).json()["items"]) == 3
    sign_in(client, c.school)
    assert NOT_FOUND_EN in _is_html(client.get("/ui/demands/new"), 404)
    assert NOT_FOUND_EN in _is_html(client.get(f"/ui/demands/{c.demand['id']}/edit"), 404)
    # Schools see open demands and reach their gap reports from them.
    page = _is_html(client.get("/ui/demands"), 200)
    assert c.other_demand["title"] in page
    page = _is_html(client.get(f"/ui/demands/{c.demand['id']}"), 200)
    assert f"/ui/programs/{c.program['id']}/gaps?scope=demand&amp;demand_id={c.demand['id']}" in page
    sign_in(client, c.government)
    assert NOT_FOUND_EN in _is_html(client.get("/ui/demands"), 404)


def test_suggest_skills_fills_the_textarea_and_stores_nothing(client: TestClient) -> None:
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    r = _post(
        client,
        "/ui/demands/new",
        {
            "title": "CNC operator",
            "description": "Operates CNC machines.",
            "headcount": "2",
            "skills": "welding",
            "suggest": "1",
        },
    )
    body = _is_html(r, 200)
    assert 'id="notice"' in body and "welding" in body and "Operates CNC machines." in body
    assert len(client.get("/v1/demands", headers=c.enterprise.headers).json()["items"]) == 3


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_school_posts_a_programme_with_courses(client: TestClient, lang: str) -> None:
    client.headers["Accept-Language"] = LANGS[lang]
    school = make_org(client, "school", "Hefei Tech")
    sign_in(client, school)
    r = _post(
        client, "/ui/programs/new", {"name": "Industrial robotics", "code": "ROB-1", "description": "Robots."}
    )
    location = _redirected_to(r, "/ui/programs/")
    program_id = location.rsplit("/", 1)[1]
    r = _post(
        client,
        f"{location}/courses/new",
        {
            "title": "Robot programming",
            "code": "R1",
            "hours": "64",
            "learning_outcomes": "program an industrial robot\n\nteach positions",
            "skills": "industrial robot operation\nPLC programming",
        },
    )
    _redirected_to(r, location)
    r = _post(client, f"{location}/courses/new", {"title": "", "hours": "lots"})
    body = _is_html(r, 422)
    assert 'id="title-error"' in body and 'id="hours-error"' in body
    api = client.get(f"/v1/programs/{program_id}", headers=school.headers).json()
    assert api["code"] == "ROB-1" and len(api["courses"]) == 1
    course = api["courses"][0]
    assert course["hours"] == 64
    assert course["learning_outcomes"] == ["program an industrial robot", "teach positions"]
    assert course["skills"] == ["industrial robot operation", "PLC programming"]

    r = _post(
        client, f"{location}/edit", {"name": "Robotics", "code": "ROB-1", "version": str(api["version"])}
    )
    _redirected_to(r, location)
    page = _is_html(client.get(location), 200)
    assert "Robotics" in page and "Robot programming" in page
    assert client.get(f"/v1/programs/{program_id}", headers=school.headers).json()["name"] == "Robotics"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_order_is_placed_accepted_started_and_delivered_from_the_pages(
    client: TestClient, lang: str
) -> None:
    client.headers["Accept-Language"] = LANGS[lang]
    c = seed(client, orders=False)
    sign_in(client, c.enterprise)
    path = f"/ui/training-orders/new?demand_id={c.demand['id']}&program_id={c.program['id']}"
    form = _is_html(client.get(path), 200)
    gaps = client.get(
        f"/v1/programs/{c.program['id']}/gaps", params={"demand_id": c.demand["id"]}, headers=c.school.headers
    ).json()
    expected = [s["skill"] for s in gaps["skills"] if s["status"] in ("gap", "partial")]
    assert expected
    textarea = form[form.index('id="curriculum_additions"') :]
    textarea = textarea[textarea.index(">") + 1 : textarea.index("</textarea>")]
    assert unescape(textarea).splitlines() == expected
    assert f'<option value="{c.school.id}" selected>' in form

    r = _post(
        client,
        "/ui/training-orders/new",
        {
            "school_id": c.school.id,
            "program_id": c.program["id"],
            "demand_id": c.demand["id"],
            "headcount": "2",
            "start_date": "2027-03-01",
            "end_date": "2027-01-01",
            "curriculum_additions": textarea,
        },
        token_from=path,
    )
    assert 'id="end_date-error"' in _is_html(r, 422)
    r = _post(
        client,
        "/ui/training-orders/new",
        {
            "school_id": c.school.id,
            "program_id": c.program["id"],
            "demand_id": c.demand["id"],
            "headcount": "2",
            "start_date": "2027-03-01",
            "end_date": "2027-07-01",
            "curriculum_additions": unescape(textarea),
        },
        token_from=path,
    )
    location = _redirected_to(r, "/ui/training-orders/")
    order_id = location.rsplit("/", 1)[1]
    order = client.get(f"/v1/training-orders/{order_id}", headers=c.enterprise.headers).json()
    assert order["curriculum_additions"] == expected and order["status"] == "proposed"
    page = _is_html(client.get(location), 200)
    assert 'id="action-cancel"' in page and 'id="action-accept"' not in page

    # The school: one button per allowed action, the version carried in each form.
    sign_in(client, c.school)
    home = _is_html(client.get("/ui/"), 200)
    assert f"/ui/training-orders/{order_id}" in home  # awaiting its action
    page = _is_html(client.get(location), 200)
    assert {"accept", "reject", "cancel"} == set(re.findall(r'id="action-(\w+)"', page))
    token = csrf_token(page)

    def act(action: str, version: int, **extra: object) -> object:
        data = {"action": action, "version": str(version), "csrf_token": token, **extra}
        return client.post(f"{location}/transitions", data=data, follow_redirects=False)

    _redirected_to(act("accept", 1), location)
    stale = act("reject", 1)  # the page still shows version 1
    body = _is_html(stale, 409)
    assert ("changed meanwhile" if lang == "en" else "已被修改") in body
    assert (
        client.get(f"/v1/training-orders/{order_id}", headers=c.school.headers).json()["status"] == "accepted"
    )
    _redirected_to(act("start", 2), location)
    page = _is_html(client.get(location), 200)
    assert 'name="graduate_ids"' in page
    r = act("deliver", 3, graduate_ids=c.graduate_ids[:3])
    assert "3 graduates; the order is for 2" in _is_html(r, 422)
    _redirected_to(act("deliver", 3, graduate_ids=c.graduate_ids[:2]), location)
    order = client.get(f"/v1/training-orders/{order_id}", headers=c.enterprise.headers).json()
    assert order["status"] == "delivered"
    assert sorted(d["graduate_id"] for d in order["deliveries"]) == sorted(c.graduate_ids[:2])
    page = _is_html(client.get(location), 200)
    sign_in(client, c.enterprise)
    page = _is_html(client.get(location), 200)
    assert "HT-2026" not in page  # the enterprise sees graduates pseudonymously
    assert len(re.findall(r"<tr><td>\d{4}-\d\d-\d\d", page)) == 4  # created, accepted, started, delivered
    listing = _is_html(client.get("/ui/training-orders"), 200)
    assert order_id[:8] in listing


GRADUATES_CSV = (
    "external_ref,program_id,graduation_year,skills,certificates\n"
    "S-1,MECH-01,2026,CNC machining:4; AutoCAD,CNC operator\n"
    "S-2,MECH-01,twenty,welding:2,\n"
    "S-3,NOPE,2026,welding:9,\n"
    "S-4,,2025,PLC programming:3,\n"
)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_school_imports_graduates_after_seeing_the_bad_rows(client: TestClient, lang: str) -> None:
    client.headers["Accept-Language"] = LANGS[lang]
    school = make_org(client, "school", "Hefei Tech")
    make_program(client, school)
    sign_in(client, school)
    token = page_token(client, "/ui/graduates/import")
    r = client.post(
        "/ui/graduates/import",
        data={"csrf_token": token},
        files={"file": ("export.csv", GRADUATES_CSV.encode("utf-8-sig"), "text/csv")},
    )
    body = _is_html(r, 422)
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', body)
    assert [(line, column) for line, column, _ in rows] == [("3", "graduation_year"), ("4", "skills")]
    assert "&#39;twenty&#39; is not a year" in body
    assert client.get("/v1/graduates", headers=school.headers).json()["items"] == []  # nothing stored yet

    content = re.search(r'name="content" value="([^"]+)"', body)
    assert content
    r = client.post(
        "/ui/graduates/import",
        data={"csrf_token": token, "content": content.group(1), "filename": "export.csv", "confirm": "1"},
    )
    body = _is_html(r, 200)
    assert re.search(r'id="count-created">2<', body) and re.search(r'id="count-skipped">2<', body)
    stored = client.get("/v1/graduates", headers=school.headers).json()["items"]
    assert sorted(g["external_ref"] for g in stored) == ["S-1", "S-4"]

    # The fixed file: one more created, the others unchanged.
    fixed = GRADUATES_CSV.replace("twenty", "2026").replace(
        "S-3,NOPE,2026,welding:9", "S-3,MECH-01,2026,welding:3"
    )
    r = client.post(
        "/ui/graduates/import",
        data={"csrf_token": token},
        files={"file": ("export.csv", fixed.encode(), "text/csv")},
    )
    body = _is_html(r, 200)
    content = re.search(r'name="content" value="([^"]+)"', body)
    assert content
    r = client.post(
        "/ui/graduates/import",
        data={"csrf_token": token, "content": content.group(1), "filename": "export.csv", "confirm": "1"},
    )
    body = _is_html(r, 200)
    assert re.search(r'id="count-created">2<', body) and re.search(r'id="count-unchanged">2<', body)


def test_import_reports_a_file_it_cannot_read(client: TestClient) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    token = page_token(client, "/ui/graduates/import")
    r = client.post(
        "/ui/graduates/import",
        data={"csrf_token": token},
        files={"file": ("export.csv", b"ref,name\nx,y\n", "text/csv")},
    )
    assert "line 1: missing column external_ref" in _is_html(r, 422)


def test_keys_are_issued_once_listed_and_revoked(client: TestClient) -> None:
    enterprise = make_org(client, "enterprise")
    sign_in(client, enterprise)
    page = _is_html(client.get("/ui/keys"), 200)
    assert enterprise.key[:10] in page
    r = _post(client, "/ui/keys", {})
    body = _is_html(r, 201)
    new_key = re.search(r'<code id="new-key">([^<]+)</code>', body)
    assert new_key
    assert (
        client.get(
            "/v1/organizations/me", headers={"Authorization": f"Bearer {new_key.group(1)}"}
        ).status_code
        == 200
    )
    listing = _is_html(client.get("/ui/keys"), 200)
    assert new_key.group(1) not in listing  # shown once only
    assert listing.count('class="danger"') == 2

    # Revoke the new key: it stops working; the session (signed in with the first) goes on.
    key_id = client.get(f"/v1/organizations/{enterprise.id}/api-keys", headers=admin_headers()).json()[1][
        "id"
    ]
    r = client.post(
        f"/ui/keys/{key_id}/revoke", data={"csrf_token": csrf_token(listing)}, follow_redirects=False
    )
    _redirected_to(r, "/ui/keys")
    assert (
        client.get(
            "/v1/organizations/me", headers={"Authorization": f"Bearer {new_key.group(1)}"}
        ).status_code
        == 401
    )
    assert client.get("/ui/keys", follow_redirects=False).status_code == 200


def test_keys_page_shows_when_each_key_was_last_used(client: TestClient) -> None:
    school = make_org(client, "school")
    r = client.post(
        f"/v1/organizations/{school.id}/api-keys",
        params={"revoke_existing": "false"},
        headers=admin_headers(),
    )
    second = r.json()
    sign_in(client, school)  # with the first key
    page = _is_html(client.get("/ui/keys"), 200)
    rows = re.findall(
        r"<tr><th scope=\"row\"><code>([^<]+)…</code></th><td[^>]*>[^<]+</td>\s*<td[^>]*>([^<]+)</td>", page
    )
    assert dict(rows)[second["prefix"]] == "never"
    assert (
        client.get(
            "/v1/organizations/me", headers={"Authorization": f"Bearer {second['api_key']}"}
        ).status_code
        == 200
    )
    page = _is_html(client.get("/ui/keys"), 200)
    rows = re.findall(
        r"<tr><th scope=\"row\"><code>([^<]+)…</code></th><td[^>]*>[^<]+</td>\s*<td[^>]*>([^<]+)</td>", page
    )
    assert len(rows) == 2 and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", used) for _, used in rows)


def test_a_cookie_saved_before_sign_out_no_longer_signs_in(client: TestClient) -> None:
    school = make_org(client, "school")
    sign_in(client, school)
    saved = client.cookies["tm_session"]
    r = client.post("/ui/sign-out", data={"csrf_token": page_token(client)}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    client.cookies.set("tm_session", saved, path="/ui")
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_page_requests_count_against_the_organisations_rate_limit(app: FastAPI) -> None:
    app.state.settings.rate_limit_per_minute = 5
    with TestClient(app) as client:
        school = make_org(client, "school")
        sign_in(client, school)
        cookie = client.cookies["tm_session"]
        limiter = next(m for m in app.user_middleware if m.cls.__name__ == "RateLimit")
        assert limiter
        scope = {
            "type": "http",
            "headers": [(b"cookie", f"tm_session={cookie}".encode())],
            "client": ("1.2.3.4", 1),
        }
        from service.ops.ratelimit import RateLimit

        rl = RateLimit(lambda *a: None, fastapi_app=app, limit_per_minute=5)  # type: ignore[arg-type]
        assert rl._bucket(scope) == f"org:{school.id}"
        assert rl._bucket({**scope, "headers": []}) == "addr:1.2.3.4"


def test_plural_of_one_demand(client: TestClient) -> None:
    school = make_org(client, "school")
    enterprise = make_org(client, "enterprise")
    program = make_program(client, school)
    make_demand(client, enterprise)
    sign_in(client, school)
    assert "1 demand in scope, headcount 5" in _is_html(client.get(f"/ui/programs/{program['id']}/gaps"), 200)
    client.headers["Accept-Language"] = LANGS["zh"]
    client.cookies.delete("tm_lang")
    assert "范围内 1 个需求" in _is_html(client.get(f"/ui/programs/{program['id']}/gaps"), 200)


def test_pages_name_a_region_in_their_language_however_the_demand_wrote_it(client: TestClient) -> None:
    c = seed(client, orders=False)
    zh_written = make_demand(client, c.enterprise, title="Welder", region="合肥市")
    foreign = make_demand(client, c.enterprise, title="Fitter", region="Paris")
    sign_in(client, c.enterprise)
    for lang, hefei in (("en", "Hefei"), ("zh", "合肥")):
        client.headers["Accept-Language"] = LANGS[lang]
        for demand in (c.demand, zh_written):  # written "Hefei" and "合肥市": one region, one name
            html = _is_html(client.get(f"/ui/demands/{demand['id']}"), 200)
            assert f"<dd>{hefei}</dd>" in html
        assert "<dd>Paris</dd>" in _is_html(client.get(f"/ui/demands/{foreign['id']}"), 200)
        listing = _is_html(client.get("/ui/demands"), 200)
        assert "合肥市" not in listing and listing.count(f">{hefei}</td>") >= 3
    sign_in(client, c.school)
    client.headers["Accept-Language"] = LANGS["zh"]
    html = _is_html(client.get(f"/ui/programs/{c.program['id']}/gaps"), 200)
    assert "范围：开放需求（地区：合肥；" in html  # the school's own region, written "Hefei"
