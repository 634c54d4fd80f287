"""The pages in a real browser: headless Chromium (Debian's package) against a live uvicorn server.

Each test signs in through the form, opens a page, checks that the chart really rendered (an SVG with
the expected number of bars, each of non-zero size on screen), switches language, downloads the CSV
and checks that another organisation's page is refused. Screenshots go to test-artifacts/ui/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import Org
from tests.ui.conftest import LiveServer, browser_missing, browser_required, screenshot
from tests.ui.support import Consortium, parse_csv, seed

# Without a browser the whole module is one skipped line naming what to install, unless CI requires it.
_MISSING = browser_missing()
if _MISSING and not browser_required():
    pytest.skip(_MISSING, allow_module_level=True)


def _sign_in(page: Any, server: LiveServer, org: Org) -> None:
    page.goto(f"{server.url}/ui/")
    assert "/ui/sign-in" in page.url  # not signed in yet: sent to the form
    page.get_by_label("API key").fill(org.key)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/ui/")
    assert org.name in page.inner_text("header")


def _bars(page: Any, chart: str) -> list[dict[str, Any]]:
    """Each bar of a chart as laid out on screen (width and height in CSS pixels) with its data."""
    rects = page.locator(f"svg#{chart} rect.bar")
    out = []
    for i in range(rects.count()):
        rect = rects.nth(i)
        box = rect.bounding_box()
        assert box is not None, f"bar {i} of {chart} is not rendered"
        out.append(
            {
                "width": box["width"],
                "height": box["height"],
                "key": rect.get_attribute("data-key"),
                "total": rect.get_attribute("data-total"),
                "count": rect.get_attribute("data-count"),
            }
        )
    return out


def _assert_chart_rendered(page: Any, chart: str, expected_bars: int) -> list[dict[str, Any]]:
    svg = page.locator(f"svg#{chart}")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 20
    bars = _bars(page, chart)
    assert len(bars) == expected_bars
    assert all(b["width"] > 0 and b["height"] > 0 for b in bars)
    return bars


def _assert_accessible_basics(page: Any) -> None:
    """One h1; every visible form field has a label; every table has column headers."""
    assert page.locator("h1").count() == 1
    controls = page.locator("main input:not([type=hidden]), main select")
    assert controls.count() > 0
    for i in range(controls.count()):
        control_id = controls.nth(i).get_attribute("id")
        assert control_id, "a form field without an id cannot have a label"
        assert page.locator(f"label[for='{control_id}']").count() >= 1, f"#{control_id} has no label"
    tables = page.locator("main table")
    for i in range(tables.count()):
        assert tables.nth(i).locator("thead th[scope=col]").count() >= 2


def _download_csv(page: Any) -> list[list[str]]:
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    return parse_csv(Path(download.path()).read_bytes())


def _refused(page: Any, server: LiveServer, path: str, secret_text: str) -> None:
    response = page.goto(f"{server.url}{path}")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() in ("Page not found", "页面不存在")
    assert secret_text not in page.content()


def test_school_reads_its_gap_report(
    live_server: LiveServer, api: httpx.Client, browser_context: Any
) -> None:
    c: Consortium = seed(api)
    pid = c.program["id"]
    page = browser_context.new_page()
    _sign_in(page, live_server, c.school)

    page.click(f"a[href='/ui/programs/{pid}/gaps']")
    page.wait_for_url(f"**/ui/programs/{pid}/gaps")
    assert page.locator("h1").inner_text() == "Gap report: Mechatronics"

    # Scope: the open demands of a region, chosen in the form.
    page.check("#scope-region")
    page.select_option("#region", "Hefei")
    page.click("#apply-scope")
    page.wait_for_url("**region=Hefei**")
    expected = api.get(f"/v1/programs/{pid}/gaps", params={"region": "Hefei"}, headers=c.school.headers)
    assert expected.status_code == 200, expected.text
    report = expected.json()
    skills = report["skills"]
    bars = _assert_chart_rendered(page, "gap-chart", len(skills))
    assert [b["key"] for b in bars] == [s["skill"] for s in skills]  # worst weighted gaps first
    assert {s["status"] for s in skills} >= {"gap"}

    # Gaps are named in words next to their bar, not only by colour; evidence sits beside each skill.
    notes = page.locator("svg#gap-chart text.note").all_text_contents()
    rows = page.locator("#gap-table tbody tr")
    for i, s in enumerate(skills):
        assert {"covered": "✓ covered", "partial": "◐ partial", "gap": "✗ gap"}[s["status"]] in notes[i]
        cells = rows.nth(i).locator("td").all_inner_texts()
        if s["evidence"]:
            assert cells[3] == s["evidence"]["course_title"]
            assert cells[4] == s["evidence"]["text"]
        else:
            assert cells[3] == "none"
    _assert_accessible_basics(page)
    screenshot(page, "gap-report", for_docs=True)

    table = _download_csv(page)
    assert table[0][:6] == ["Skill", "Aliases", "Weight", "Headcount", "Coverage", "Status"]
    assert [r[0] for r in table[1:]] == [s["skill"] for s in skills]
    assert [r[5] for r in table[1:]] == [s["status"] for s in skills]

    # Scope: one demand.
    page.check("#scope-demand")
    page.select_option("#demand_id", c.demand["id"])
    page.click("#apply-scope")
    page.wait_for_url(f"**demand_id={c.demand['id']}**")
    one = api.get(f"/v1/programs/{pid}/gaps", params={"demand_id": c.demand["id"]}, headers=c.school.headers)
    assert one.status_code == 200, one.text
    _assert_chart_rendered(page, "gap-chart", len(c.demand["skills"]))
    assert len(one.json()["skills"]) == len(c.demand["skills"])
    assert c.demand["title"] in page.locator("#summary-h").inner_text()

    # Switch to Chinese: same report, Chinese words.
    page.click("#switch-lang")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "专业缺口分析：Mechatronics"
    _assert_chart_rendered(page, "gap-chart", len(c.demand["skills"]))
    assert any(
        "缺口" in n or "覆盖" in n for n in page.locator("svg#gap-chart text.note").all_text_contents()
    )
    screenshot(page, "gap-report-zh")

    # Someone else's programme is refused with the same page as an unknown one.
    _refused(page, live_server, f"/ui/programs/{c.other_program['id']}/gaps", c.other_program["name"])
    screenshot(page, "gap-report-refused")


def test_enterprise_ranks_graduates_for_its_demand(
    live_server: LiveServer, api: httpx.Client, browser_context: Any
) -> None:
    c = seed(api, orders=False)
    did = c.demand["id"]
    page = browser_context.new_page()
    _sign_in(page, live_server, c.enterprise)

    page.click(f"a[href='/ui/demands/{did}/matches']")
    page.wait_for_url(f"**/ui/demands/{did}/matches")
    assert page.locator("#no-run").is_visible()

    page.fill("#top_k", "5")
    page.click("#run-matching")
    page.wait_for_selector("svg#score-chart")
    stored = api.get(f"/v1/demands/{did}/matches", headers=c.enterprise.headers)
    assert stored.status_code == 200, stored.text
    matches = stored.json()["matches"]
    assert 1 <= len(matches) <= 5
    bars = _assert_chart_rendered(page, "score-chart", len(matches))
    assert [b["key"] for b in bars] == [m["graduate_id"] for m in matches]
    widths = [b["width"] for b in bars]
    assert widths == sorted(widths, reverse=True)  # ranked: best score, longest bar

    # Evidence matrix: demanded skills x candidates, each cell with its number and status in words.
    matrix = page.locator("#evidence-matrix")
    assert matrix.locator("tbody tr").count() == len(c.demand["skills"])
    assert matrix.locator("thead th").count() == 1 + len(matches)
    first = matrix.locator("tbody tr").first.locator("td")
    assert first.count() == len(matches)
    for i in range(first.count()):
        text = first.nth(i).inner_text()
        assert any(word in text for word in ("met", "partial", "missing"))
        assert any(ch.isdigit() for ch in text)

    # Pseudonymous: the school's own reference for a graduate never appears.
    assert "HT-2026" not in page.content()
    _assert_accessible_basics(page)
    screenshot(page, "matches")
    _shoot_everywhere(page, "matches")
    # On a phone the chart's narrow layout shows the same bars at a readable size, the wide one is hidden.
    page.set_viewport_size({"width": 390, "height": 900})
    narrow = _assert_chart_rendered(page, "score-chart-narrow", len(matches))
    assert [b["key"] for b in narrow] == [m["graduate_id"] for m in matches]
    assert not page.locator("svg#score-chart").is_visible()
    page.set_viewport_size({"width": 1100, "height": 800})

    table = _download_csv(page)
    assert table[0][:5] == ["Rank", "Graduate id", "School id", "School", "Score"]
    assert [r[1] for r in table[1:]] == [m["graduate_id"] for m in matches]
    assert not any("HT-2026" in cell for row in table for cell in row)

    page.click("#switch-lang")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == f"需求匹配：{c.demand['title']}"
    _assert_chart_rendered(page, "score-chart", len(matches))
    _shoot_everywhere(page, "matches-zh")

    _refused(page, live_server, f"/ui/demands/{c.other_demand['id']}/matches", c.other_demand["title"])


def test_government_sees_the_consortium_dashboard(
    live_server: LiveServer, api: httpx.Client, browser_context: Any
) -> None:
    c = seed(api)
    page = browser_context.new_page()
    _sign_in(page, live_server, c.government)
    page.click("main a[href='/ui/dashboard']")
    page.wait_for_url("**/ui/dashboard")

    insights = api.get("/v1/insights/skills", params={"limit": 10}, headers=c.government.headers)
    assert insights.status_code == 200, insights.text
    top = insights.json()["items"]
    bars = _assert_chart_rendered(page, "shortage-chart", len(top))
    assert [b["key"] for b in bars] == [s["skill"] for s in top]

    # One order was left in each state: 6 placed, 3 accepted or later, 2 in training or later, 1 delivered.
    funnel = _assert_chart_rendered(page, "funnel-chart", 4)
    assert [int(b["count"]) for b in funnel] == [6, 3, 2, 1]
    widths = [b["width"] for b in funnel]
    assert widths == sorted(widths, reverse=True)
    assert page.locator("#ended-early").inner_text() == "Ended early: 1 rejected, 1 cancelled"

    members = page.locator("#members-table tbody tr")
    assert members.count() == len(c.orgs)
    row = page.locator("#members-table tbody tr", has_text="Hefei Auto Parts").locator("td").all_inner_texts()
    assert row[3] == "6"  # orders placed
    # Aggregates only: no graduate id or reference anywhere on the page.
    content = page.content()
    assert not any(g in content for g in c.graduate_ids) and "HT-2026" not in content
    _assert_accessible_basics(page)
    screenshot(page, "dashboard", for_docs=True)

    page.click("#switch-lang")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "联合体看板"
    _assert_chart_rendered(page, "funnel-chart", 4)
    screenshot(page, "dashboard-zh")

    _refused(page, live_server, f"/ui/programs/{c.program['id']}/gaps", c.program["name"])
    _refused(page, live_server, f"/ui/demands/{c.demand['id']}/matches", c.demand["title"])


def test_chinese_by_default_when_the_browser_prefers_it(
    live_server: LiveServer, api: httpx.Client, chromium: Any
) -> None:
    c = seed(api, orders=False)
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1100, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/ui/sign-in")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator("h1").inner_text() == "使用机构密钥登录"
        _assert_accessible_basics(page)
        page.get_by_label("API 密钥").fill(c.school.key)
        page.click("#sign-in")
        page.wait_for_url(f"{live_server.url}/ui/")
        assert page.locator("#programs-h").inner_text() == "本校专业"
        screenshot(page, "home-zh")

        page.click("#switch-lang")
        page.wait_for_load_state()
        assert page.locator("#programs-h").inner_text() == "Your programmes"
        page.goto(f"{live_server.url}/ui/dashboard")
        assert page.locator("h1").inner_text() == "Consortium dashboard"  # the choice sticks

        page.click("#sign-out")
        page.wait_for_url("**/ui/sign-in")
        response = page.goto(f"{live_server.url}/ui/dashboard")
        assert response is not None and "/ui/sign-in" in page.url
    finally:
        context.close()


# -- the forms, end to end, and how every page lays out ---------------------------------------------

WIDTHS = {"desktop": 1280, "phone": 390}

# Text that must not stand one character per line: table headers, form labels, definition terms,
# buttons, the header's links.
_CRAMPED = """() => {
  const out = [];
  for (const el of document.querySelectorAll('th, label, dt, button, .button, header.top a, h1, h2')) {
    const text = el.innerText.trim();
    if (text.length < 3 || el.offsetParent === null) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const box = el.getBoundingClientRect();
    const lines = box.height / (parseFloat(style.lineHeight) || size * 1.5);
    if (box.width < 2.2 * size && lines > 2.5) out.push(text.slice(0, 40));
    const outside = box.right > document.documentElement.clientWidth + 1;
    if (outside && !el.closest('.scroll, figure')) out.push('cut: ' + text.slice(0, 40));
  }
  for (const svg of document.querySelectorAll('svg.chart')) {
    if (svg.getBoundingClientRect().width === 0) continue;  // the other layout of the chart
    const frame = svg.getBoundingClientRect();
    if (frame.right > document.documentElement.clientWidth + 1) out.push('chart off the page: ' + svg.id);
    const px = 13 * frame.width / svg.viewBox.baseVal.width;
    if (px < 10) out.push('chart text ' + px.toFixed(1) + ' px: ' + svg.id);
    for (const label of svg.querySelectorAll('text')) {
      const box = label.getBoundingClientRect();
      if (box.right > frame.right + 1 || box.left < frame.left - 1) {
        out.push('cut in ' + svg.id + ': ' + label.textContent.slice(0, 40));
      }
    }
  }
  return out;
}"""


def _assert_laid_out(page: Any) -> None:
    """No header, label or button wraps one character per line, and none runs off the page; every chart
    fits the page, its text at least 10 px and inside the chart."""
    cramped = page.evaluate(_CRAMPED)
    assert not cramped, f"cramped or cut text on {page.url}: {cramped}"


def _shoot_everywhere(page: Any, name: str) -> None:
    """The page at desktop and phone widths: laid out properly at each, screenshots saved."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        _assert_laid_out(page)
        screenshot(page, f"{name}-{label}", for_docs=True)
    page.set_viewport_size({"width": 1100, "height": 800})


def _switch_to(page: Any, lang: str) -> None:
    if page.locator("html").get_attribute("lang") != ("zh-CN" if lang == "zh" else "en"):
        page.click("#switch-lang")
        page.wait_for_load_state()


def _sign_in_as(page: Any, server: LiveServer, org: Org) -> None:
    page.context.clear_cookies()
    page.goto(f"{server.url}/ui/sign-in")
    page.fill("#api_key", org.key)
    page.click("#sign-in")
    page.wait_for_url(f"{server.url}/ui/")


def test_the_forms_end_to_end_in_both_languages(
    live_server: LiveServer, api: httpx.Client, browser_context: Any
) -> None:
    c = seed(api, orders=False)
    page = browser_context.new_page()
    for lang in ("en", "zh"):
        suffix = "" if lang == "en" else "-zh"
        # The enterprise posts a demand and runs matching.
        _sign_in_as(page, live_server, c.enterprise)
        _switch_to(page, lang)
        _shoot_everywhere(page, f"home-enterprise{suffix}")
        page.goto(f"{live_server.url}/ui/demands/new")
        _assert_accessible_basics(page)
        page.fill("#title", f"Line maintenance {lang}")
        page.fill("#region", "Hefei")
        page.fill("#headcount", "2")
        page.fill("#skills", "CNC machining | 5 | 3 | required\nquality inspection | 3")
        page.fill("#skills-add", "G-code programming")
        _shoot_everywhere(page, f"demand-form{suffix}")
        page.click("#save")
        page.wait_for_url("**/ui/demands/*")
        demand_url = page.url
        page.click("#run-matching")
        page.wait_for_url("**/matches")
        page.goto(demand_url)
        assert page.locator("#last-run").is_visible()
        _shoot_everywhere(page, f"demand{suffix}")

        # It places a training order from the programme that covers the demand.
        page.click(f"#covering-table a[href*='program_id={c.program['id']}']")
        page.wait_for_url("**/ui/training-orders/new?**")
        assert page.input_value("#curriculum_additions").strip()
        _shoot_everywhere(page, f"order-form{suffix}")
        page.click("#place-order")
        page.wait_for_url("**/ui/training-orders/*")
        order_url = page.url

        # The school accepts, starts and delivers it.
        _sign_in_as(page, live_server, c.school)
        _switch_to(page, lang)
        _shoot_everywhere(page, f"home-school{suffix}")
        page.goto(f"{live_server.url}/ui/training-orders")
        assert page.locator("#orders-table tbody tr").count() >= 1
        _shoot_everywhere(page, f"orders{suffix}")
        page.goto(order_url)
        for action in ("accept", "start"):
            page.click(f"#action-{action}")
            page.wait_for_url(order_url)
        page.check(f"#g-{c.graduate_ids[0 if lang == 'en' else 1]}")
        _assert_accessible_basics(page)
        _shoot_everywhere(page, f"order{suffix}")
        page.click("#action-deliver")
        page.wait_for_url(order_url)
        assert page.locator("#deliveries li").count() == 1

        # It adds a programme with a course, and imports graduates with a bad row fixed.
        page.goto(f"{live_server.url}/ui/programs/new")
        page.fill("#name", f"Robotics {lang}")
        _shoot_everywhere(page, f"program-form{suffix}")
        page.click("#save")
        page.wait_for_url("**/ui/programs/*")
        page.click("#add-course")
        page.fill("#title", "Robot programming")
        page.fill("#hours", "48")
        page.fill("#learning_outcomes", "program an industrial robot\nteach positions")
        page.fill("#skills", "industrial robot operation")
        _shoot_everywhere(page, f"course-form{suffix}")
        page.click("#save")
        page.wait_for_url("**/ui/programs/*")
        assert "Robot programming" in page.inner_text("#courses-table")
        _shoot_everywhere(page, f"program{suffix}")

        page.goto(f"{live_server.url}/ui/graduates/import")
        page.set_input_files(
            "#file",
            files=[
                {
                    "name": "export.csv",
                    "mimeType": "text/csv",
                    "buffer": (
                        "external_ref,program_id,graduation_year,skills\n"
                        f"UI-{lang}-1,MECH-01,2026,CNC machining:4\n"
                        f"UI-{lang}-2,MECH-01,twenty,welding:3\n"
                    ).encode(),
                }
            ],
        )
        page.click("#check-file")
        page.wait_for_load_state()
        assert page.locator("#problems-table tbody tr").count() == 1
        _shoot_everywhere(page, f"import-check{suffix}")
        page.click("#store-valid")
        page.wait_for_load_state()
        assert page.inner_text("#count-created") == "1"

        # Keys: issue one (shown once) and revoke it.
        page.goto(f"{live_server.url}/ui/keys")
        page.click("#issue-key")
        page.wait_for_load_state()
        new_key = page.inner_text("#new-key")
        _shoot_everywhere(page, f"keys{suffix}")
        prefix = new_key[:10]
        page.goto(f"{live_server.url}/ui/keys")
        assert new_key not in page.content()
        page.click(f"#revoke-{prefix}")
        page.wait_for_url("**/ui/keys")

        # The government's home and dashboard.
        _sign_in_as(page, live_server, c.government)
        _switch_to(page, lang)
        _shoot_everywhere(page, f"home-government{suffix}")
        page.goto(f"{live_server.url}/ui/dashboard")
        _shoot_everywhere(page, f"dashboard-all{suffix}")
        _sign_in_as(page, live_server, c.school)
        _switch_to(page, lang)
        page.goto(f"{live_server.url}/ui/programs/{c.program['id']}/gaps")
        _shoot_everywhere(page, f"gap-report-all{suffix}")
        page.goto(f"{live_server.url}/ui/demands")
        _shoot_everywhere(page, f"demands-school{suffix}")
