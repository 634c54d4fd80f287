"""Page strings in Chinese and English, and the choice between them.

The language is the ``tm_lang`` cookie when the user switched; otherwise Chinese when the browser's
``Accept-Language`` ranks Chinese above English, else English.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "en"
LANG_COOKIE = "tm_lang"

# key -> (zh, en). Strings with {placeholders} are formatted by ``translator``.
STRINGS: dict[str, tuple[str, str]] = {
    "app_name": ("产教联合体人才供需匹配", "Consortium talent matching"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    "language": ("语言", "Language"),
    "switch_to": ("English", "中文"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "sign_in_title": ("使用机构密钥登录", "Sign in with your organisation's key"),
    "sign_in_help": (
        "输入管理员为贵机构签发的 API 密钥。密钥不会保存在浏览器中；会话在 {hours} 小时后过期。",
        "Enter the API key issued to your organisation. The key is not kept in the browser; "
        "the session expires after {hours} hours.",
    ),
    "api_key": ("API 密钥", "API key"),
    "bad_key": ("密钥无效或已被吊销。", "The key is not valid or has been revoked."),
    "signed_in_as": ("当前机构：{name}（{kind}）", "Signed in as {name} ({kind})"),
    "home": ("首页", "Home"),
    "dashboard": ("联合体看板", "Consortium dashboard"),
    "kind_enterprise": ("企业", "enterprise"),
    "kind_school": ("院校", "school"),
    "kind_government": ("政府", "government"),
    "kind_research_institute": ("科研院所", "research institute"),
    "your_programs": ("本校专业", "Your programmes"),
    "no_programs": ("尚未发布专业。", "No programmes posted yet."),
    "your_demands": ("本机构需求", "Your demands"),
    "no_demands": ("尚未发布需求。", "No demands posted yet."),
    "gap_report": ("缺口分析", "Gap report"),
    "matches": ("匹配结果", "Matches"),
    "open": ("打开", "Open"),
    "name": ("名称", "Name"),
    "code": ("代码", "Code"),
    "courses": ("课程数", "Courses"),
    "title": ("标题", "Title"),
    "status": ("状态", "Status"),
    "demand_open": ("开放", "open"),
    "demand_closed": ("已关闭", "closed"),
    "headcount": ("人数", "Headcount"),
    "region": ("地区", "Region"),
    "industry": ("行业", "Industry"),
    "any": ("（全部）", "(any)"),
    # Gap report
    "gap_report_for": ("专业缺口分析：{name}", "Gap report: {name}"),
    "scope": ("分析范围", "Scope"),
    "scope_demand": ("单个需求", "One demand"),
    "scope_region": ("地区与行业内的全部开放需求", "All open demands in a region and industry"),
    "demand": ("需求", "Demand"),
    "choose_demand": ("选择需求", "Choose a demand"),
    "show": ("查看", "Show"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "scope_counts": (
        "范围内 {demands} 个需求，共需 {headcount} 人",
        "{demands} demands in scope, headcount {headcount}",
    ),
    "overall_coverage": ("总体覆盖率：{pct}", "Overall coverage: {pct}"),
    "scope_is_demand": ("范围：需求“{title}”", "Scope: demand “{title}”"),
    "scope_is_region": (
        "范围：开放需求（地区：{region}；行业：{industry}）",
        "Scope: open demands (region: {region}; industry: {industry})",
    ),
    "chart_gaps": ("各技能需求权重与课程覆盖", "Demanded weight and curriculum coverage per skill"),
    "chart_gaps_desc": (
        "每个技能一根横条：整条长度为需求权重，实心部分为已被课程覆盖的权重，斜线部分为未覆盖的缺口。",
        "One bar per skill: the full length is the demanded weight, the solid part the weight the "
        "curriculum covers, the hatched part the uncovered gap.",
    ),
    "legend_demanded": ("需求权重（斜线＝未覆盖）", "Demanded weight (hatched = not covered)"),
    "legend_covered": ("已覆盖部分", "Covered part"),
    "skill": ("技能", "Skill"),
    "weight": ("权重", "Weight"),
    "coverage": ("覆盖率", "Coverage"),
    "evidence": ("证据课程", "Evidencing course"),
    "evidence_text": ("课程中的证据", "Evidence in the course"),
    "no_evidence": ("无", "none"),
    "nearest_course": (
        "最接近的课程：{title}（可在此补充）",
        "nearest course: {title} (the place to add it)",
    ),
    "status_covered": ("已覆盖", "covered"),
    "status_partial": ("部分覆盖", "partial"),
    "status_gap": ("缺口", "gap"),
    "no_skills_in_scope": ("该范围内没有开放需求。", "No open demands in this scope."),
    "data_table": ("数据表", "Data table"),
    # Matches
    "matches_for": ("需求匹配：{title}", "Matches for: {title}"),
    "run_matching": ("重新匹配", "Run matching"),
    "top_k": ("候选人数", "Number of candidates"),
    "no_run": ("尚未运行匹配。", "Matching has not been run yet."),
    "run_info": ("模型 {model}，运行于 {time}", "Model {model}, run at {time}"),
    "chart_scores": ("候选人匹配得分", "Candidate match scores"),
    "chart_scores_desc": (
        "每位候选人一根横条，长度为匹配得分（0–100%）。",
        "One bar per candidate; its length is the match score (0–100%).",
    ),
    "rank": ("排名", "Rank"),
    "candidate": ("候选人", "Candidate"),
    "school": ("院校", "School"),
    "score": ("得分", "Score"),
    "missing_required": ("缺少必需技能", "Missing required skills"),
    "evidence_matrix": ("技能证据矩阵", "Skill evidence matrix"),
    "evidence_matrix_desc": (
        "行：需求技能；列：排名靠前的候选人。每格给出相似度和状态（✓ 满足、◐ 部分、✗ 缺失），颜色只是辅助。",
        "Rows: demanded skills; columns: top candidates. Each cell gives the similarity and the status "
        "(✓ met, ◐ partial, ✗ missing); colour only repeats it.",
    ),
    "ev_met": ("满足", "met"),
    "ev_partial": ("部分", "partial"),
    "ev_missing": ("缺失", "missing"),
    "matched_with": ("匹配到：{text}", "matched: {text}"),
    "pseudonymous_note": (
        "候选人以假名编号显示（与 API 相同），不含姓名等个人信息。",
        "Candidates appear pseudonymously (as in the API): no names or other personal details.",
    ),
    "no_matches": ("没有满足条件的候选人。", "No candidate passed the threshold."),
    # Dashboard
    "dashboard_title": ("联合体看板", "Consortium dashboard"),
    "filter": ("筛选", "Filter"),
    "top_shortages": ("技能短缺排行", "Top skill shortages"),
    "chart_shortages_desc": (
        "每个技能一根横条：整条长度为开放需求的人数，实心部分为持有该技能的未就业毕业生人数。",
        "One bar per skill: the full length is the headcount open demands ask for, the solid part "
        "the unplaced graduates who hold the skill.",
    ),
    "legend_demand_hc": ("需求人数（斜线＝短缺）", "Demanded headcount (hatched = short)"),
    "legend_supply": ("持有技能的毕业生", "Graduates who hold it"),
    "demanded_headcount": ("需求人数", "Demanded headcount"),
    "graduates": ("毕业生", "Graduates"),
    "shortage": ("短缺", "Shortage"),
    "suppressed": ("少于 {n}（不公开）", "fewer than {n} (suppressed)"),
    "short_by": ("短缺 {n}", "short by {n}"),
    "surplus": ("富余 {n}", "surplus {n}"),
    "no_shortages": ("暂无开放需求。", "No open demands yet."),
    "orders_funnel": ("培养订单状态漏斗", "Training orders by state"),
    "chart_funnel_desc": (
        "每个阶段一根横条：当前处于该阶段或已越过该阶段的订单数。被拒绝和取消的订单只计入“已下达”，并单独列出。",
        "One bar per stage: orders now at or past it. Rejected and cancelled orders count only as placed "
        "and are listed apart.",
    ),
    "orders": ("订单数", "Orders"),
    "stage": ("阶段", "Stage"),
    "funnel_proposed": ("已下达", "placed"),
    "funnel_accepted": ("已接受", "accepted"),
    "funnel_in_training": ("培养中或已交付", "in training"),
    "funnel_delivered": ("已交付", "delivered"),
    "order_proposed": ("已提出", "proposed"),
    "order_accepted": ("已接受", "accepted"),
    "order_in_training": ("培养中", "in training"),
    "order_delivered": ("已交付", "delivered"),
    "order_rejected": ("已拒绝", "rejected"),
    "order_cancelled": ("已取消", "cancelled"),
    "ended_early": (
        "提前结束：已拒绝 {rejected}，已取消 {cancelled}",
        "Ended early: {rejected} rejected, {cancelled} cancelled",
    ),
    "members": ("成员贡献", "Member contribution"),
    "kind": ("类型", "Kind"),
    "demands_posted": ("发布需求", "Demands posted"),
    "orders_placed": ("下达订单", "Orders placed"),
    "orders_received": ("承接订单", "Orders received"),
    "orders_accepted": ("接受订单", "Orders accepted"),
    "orders_delivered": ("交付订单", "Orders delivered"),
    "graduates_placed": ("就业/输送毕业生", "Graduates placed"),
    "fulfilment_rate": ("履约率", "Fulfilment rate"),
    "not_available": ("—", "—"),
    "unavailable_yet": ("该数据暂不可用。", "This data is not available yet."),
    # Errors
    "error": ("出错了", "Something went wrong"),
    "not_found": ("页面不存在", "Page not found"),
    "not_found_text": (
        "该页面不存在，或您的机构无权查看。",
        "This page does not exist, or your organisation may not see it.",
    ),
    "forbidden": ("请求被拒绝", "Request refused"),
    "csrf_failed": (
        "表单已过期或来源不明，请返回后重试。",
        "The form has expired or did not come from this site; go back and try again.",
    ),
    "bad_request": ("请求无效", "Invalid request"),
    "back_home": ("返回首页", "Back to the home page"),
}


def negotiate(accept_language: str | None) -> str:
    """``zh`` when the browser ranks any Chinese above English (and above nothing), else ``en``."""
    if not accept_language:
        return DEFAULT_LANG
    best: dict[str, float] = {}
    for position, part in enumerate(accept_language.split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower()
        if not tag:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LANGS and q > 0:
            # Ties keep the earlier entry: subtract a tiny amount per position.
            score = q - position * 1e-6
            best[primary] = max(best.get(primary, -1.0), score)
    if not best:
        return DEFAULT_LANG
    return max(best, key=lambda k: best[k])


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGS:
        return str(cookie)
    return negotiate(accept_language)


def translator(lang: str) -> Callable[..., str]:
    index = 0 if lang == "zh" else 1

    def t(key: str, **values: object) -> str:
        pair = STRINGS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t
