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
    "scope_counts_one": ("范围内 1 个需求，共需 {headcount} 人", "1 demand in scope, headcount {headcount}"),
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
    "same_skill_note": ("技能分类中与“{label}”为同一技能", "the same skill as “{label}” in the taxonomy"),
    "matched_same_skill": (
        "匹配到：{text}（技能分类中与“{label}”为同一技能）",
        "matched: {text} (the same skill as “{label}” in the taxonomy)",
    ),
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
    # Forms and the pages that do the work
    "form_has_problems": (
        "表单有问题，请修改后再保存。",
        "The form has problems; correct them and save again.",
    ),
    "changed_meanwhile": (
        "该记录在您打开页面后已被修改。请重新加载页面查看最新内容后再操作；您的修改未保存。",
        "This was changed meanwhile, after you opened the page. Reload the page to see the current "
        "version and try again; nothing was saved.",
    ),
    "reload": ("重新加载", "Reload"),
    "save": ("保存", "Save"),
    "cancel": ("取消", "Cancel"),
    "edit": ("编辑", "Edit"),
    "yes": ("是", "yes"),
    "description": ("描述", "Description"),
    "description_hint": (
        "不填写技能时，将根据描述自动推断技能。",
        "Without skills, the skills are inferred from the description.",
    ),
    "deadline": ("截止日期", "Deadline"),
    "skills": ("技能", "Skills"),
    "skills_hint": (
        "每行一个技能：名称 | 重要度(1–5) | 等级(1–5) | required（后三项可省略）",
        "One skill a line: name | importance (1–5) | level (1–5) | required (all but the name optional)",
    ),
    "add_skill": ("再添加一个技能（可从技能库中选择）", "Add one more skill (from the taxonomy)"),
    "suggest_skills": ("根据标题和描述推荐技能", "Suggest skills from the title and description"),
    "skills_suggested": ("已推荐 {n} 个技能，请检查后保存。", "{n} skills suggested; check them and save."),
    "skills_suggested_one": ("已推荐 1 个技能，请检查后保存。", "1 skill suggested; check it and save."),
    "new_demand": ("发布需求", "Post a demand"),
    "edit_demand": ("编辑需求", "Edit the demand"),
    "demands": ("需求", "Demands"),
    "open_demands": ("开放的需求", "Open demands"),
    "posted_by": ("发布机构", "Posted by"),
    "importance": ("重要度", "Importance"),
    "level": ("等级", "Level"),
    "required": ("必需", "Required"),
    "inferred": ("自动推断", "inferred"),
    "last_run_found": ("上次匹配找到 {n} 位候选人。", "The last run found {n} candidates."),
    "last_run_found_one": ("上次匹配找到 1 位候选人。", "The last run found 1 candidate."),
    "see_matches": ("查看匹配结果", "See the matches"),
    "covering_programs": ("覆盖该需求的专业", "Programmes that cover this demand"),
    "program": ("专业", "Programme"),
    "gaps_count": ("缺口技能数", "Skills missing"),
    "actions": ("操作", "Actions"),
    "place_order": ("下达培养订单", "Place a training order"),
    "no_programs_anywhere": ("联合体中还没有专业。", "No programmes in the consortium yet."),
    "new_program": ("发布专业", "Post a programme"),
    "edit_program": ("编辑专业", "Edit the programme"),
    "new_course": ("添加课程", "Add a course"),
    "new_course_for": ("为“{name}”添加课程", "Add a course to “{name}”"),
    "course_list": ("课程", "Courses"),
    "no_courses": ("尚无课程。", "No courses yet."),
    "hours": ("学时", "Hours"),
    "learning_outcomes": ("学习成果", "Learning outcomes"),
    "one_per_line": ("每行一项。", "One a line."),
    "new_order": ("下达培养订单", "Place a training order"),
    "orders_title": ("培养订单", "Training orders"),
    "order_title": ("培养订单", "Training order"),
    "order": ("订单", "Order"),
    "placed_by": ("下单机构", "Placed by"),
    "your_next_step": ("您可执行的操作", "What you can do"),
    "no_orders": ("暂无培养订单。", "No training orders yet."),
    "from_programme": ("（按所选专业）", "(the programme's school)"),
    "none_chosen": ("（无）", "(none)"),
    "start_date": ("开始日期", "Start date"),
    "end_date": ("结束日期", "End date"),
    "curriculum_additions": ("需补充的课程内容", "Curriculum additions"),
    "additions_hint": (
        "每行一项；已根据缺口分析预填（缺口和部分覆盖的技能）。",
        "One a line; prefilled from the gap report (the skills missing or partly covered).",
    ),
    "notes": ("备注", "Notes"),
    "no_actions": ("您当前不能对该订单执行操作。", "There is nothing for you to do on this order now."),
    "action_create": ("下达", "placed"),
    "action_accept": ("接受", "Accept"),
    "action_reject": ("拒绝", "Reject"),
    "action_start": ("开始培养", "Start training"),
    "action_deliver": ("交付毕业生", "Deliver graduates"),
    "action_cancel": ("取消订单", "Cancel the order"),
    "unknown_action": ("未知操作。", "Unknown action."),
    "choose_graduates": ("选择交付的毕业生（最多 {n} 人）", "Choose the graduates delivered (at most {n})"),
    "no_graduates": ("没有可交付的毕业生。", "No graduates to deliver."),
    "reason": ("原因", "Reason"),
    "delivered_graduates": ("已交付的毕业生", "Delivered graduates"),
    "history": ("历史记录", "History"),
    "time": ("时间", "Time"),
    "who": ("机构", "Who"),
    "action": ("操作", "Action"),
    "import_graduates": ("导入毕业生", "Import graduates"),
    "upload_file": ("上传文件", "Upload a file"),
    "file": ("文件", "File"),
    "import_format_hint": (
        "CSV（UTF-8，首行为列名）或 JSON Lines（每行一个对象），与命令行导入的格式相同。例如：",
        "CSV (UTF-8, a header row) or JSON lines (one object a line), the command line's format. "
        "For example:",
    ),
    "check_file": ("检查文件", "Check the file"),
    "no_file": ("请选择要上传的文件。", "Choose a file to upload."),
    "file_not_read": ("无法读取该文件，未保存任何内容：", "The file could not be read; nothing was stored:"),
    "import_checked": ("已检查“{name}”", "Checked “{name}”"),
    "import_counts": (
        "共 {records} 行：有效 {valid} 行，有问题 {bad} 行。",
        "{records} rows: {valid} valid, {bad} with problems.",
    ),
    "nothing_stored_yet": (
        "尚未保存任何内容。修改文件后可重新上传，或只保存有效的行。",
        "Nothing has been stored yet. Fix the file and upload it again, or store the valid rows only.",
    ),
    "store_valid_rows": ("保存 {n} 行有效数据", "Store the {n} valid rows"),
    "store_valid_rows_one": ("保存 1 行有效数据", "Store the valid row"),
    "import_done": ("“{name}”已导入。", "“{name}” imported."),
    "created": ("新增", "Created"),
    "updated": ("更新", "Updated"),
    "unchanged": ("未变", "Unchanged"),
    "skipped": ("跳过（有问题）", "Skipped (with problems)"),
    "line": ("行", "Line"),
    "column": ("列", "Column"),
    "problem": ("问题", "Problem"),
    "keys_title": ("API 密钥", "API keys"),
    "issue_key": ("签发新密钥", "Issue a new key"),
    "key_issued": ("新密钥：", "The new key:"),
    "key_shown_once": (
        "此密钥只显示这一次，请立即妥善保存。系统只保存其摘要。",
        "It is shown this once only: store it safely now. Only its hash is kept.",
    ),
    "key_prefix": ("前缀", "Prefix"),
    "created_at": ("创建时间", "Created"),
    "last_used": ("最近使用", "Last used"),
    "never": ("从未", "never"),
    "active": ("有效", "active"),
    "revoked_on": ("已于 {time} 吊销", "revoked {time}"),
    "revoke": ("吊销", "Revoke"),
    "keys_note": (
        "吊销密钥后，使用该密钥的程序和网页会话立即失效。",
        "Revoking a key ends the programs and page sessions that use it at once.",
    ),
    "next_actions": ("下一步", "Next steps"),
    "demands_without_matches": ("尚未匹配的开放需求", "Open demands without matches"),
    "orders_awaiting": ("等待您处理的订单", "Orders awaiting your action"),
    "largest_gaps": ("缺口最大的专业", "Programmes with the largest gaps"),
    "nothing_waiting": ("暂无待办事项。", "Nothing is waiting."),
    "region_figures": ("本地区概况", "The region's figures"),
    "n_open_demands": ("开放需求", "Open demands"),
    "n_programs": ("专业", "Programmes"),
    "n_graduates": ("毕业生", "Graduates"),
    "n_orders": ("培养订单", "Training orders"),
    "see_dashboard": ("查看联合体看板", "See the consortium dashboard"),
    "graduates_nav": ("毕业生导入", "Import graduates"),
    "programs_nav": ("专业", "Programmes"),
    # CSV columns
    "csv_aliases": ("别名", "Aliases"),
    "csv_course_id": ("证据课程编号", "Evidencing course id"),
    "csv_nearest_course": ("最接近的课程", "Nearest course"),
    "csv_graduate_id": ("毕业生编号", "Graduate id"),
    "csv_school_id": ("院校编号", "School id"),
    "csv_similarity": ("{skill}（相似度）", "{skill} (similarity)"),
    "csv_skill_status": ("{skill}（状态）", "{skill} (status)"),
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


# The value that decides singular or plural, by text (default ``n``).
PLURAL_COUNT = {"scope_counts": "demands"}


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
        # A count of one takes the singular text, when there is one ("1 demand", not "1 demands").
        count = values.get(PLURAL_COUNT.get(key, "n"))
        if count == 1 and f"{key}_one" in STRINGS:
            key = f"{key}_one"
        pair = STRINGS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t
