"""Server-rendered pages under ``/ui/``: sign-in, gap report, demand matches, consortium dashboard.

Every page reads through the same service functions as the JSON API, with the same role rules: a
programme's gap report is for the school that owns it, a demand's matches for the organisation that
posted it; anything else is the same 404 page as an id that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request, Response
from fastapi.staticfiles import StaticFiles

from service.api.deps import loaded_encoder
from service.db import SessionDep, read_only
from service.errors import NotFound
from service.ui import auth, i18n, work
from service.ui.pages import STATIC_DIR, AnyPage, PageRoute, SignedIn, safe_next
from service.ui.views import dashboard as dashboard_view
from service.ui.views import gaps as gaps_view
from service.ui.views import home as home_view
from service.ui.views import matches as matches_view
from service.ui.views.csv_export import csv_response

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]
NextPath = Annotated[str, Form(max_length=2000)]
OptionalText = Annotated[str | None, Query(max_length=200)]


def install(app: FastAPI) -> None:
    """Register the pages and their static files on the app (called once by the app factory)."""
    codec = auth.SessionCodec(auth.derive_secret(app.state.settings))
    app.state.ui_codec = codec
    # The rate limit counts a page request against the organisation its session cookie names.
    app.state.cookie_organization = lambda cookie_header: auth.organization_in_cookie(codec, cookie_header)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    for work_router in work.ROUTERS:  # before the catch-all 404 page of ``router``
        app.include_router(work_router)
    app.include_router(router)


# -- signing in and out, language ------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_form(ctx: AnyPage, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if ctx.org is not None:
        return ctx.redirect(safe_next(next))
    return ctx.render(
        "sign_in.html",
        page_title=ctx.t("sign_in"),
        next=safe_next(next),
        hours=auth.SESSION_MAX_AGE // 3600,
        error=None,
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    ctx: AnyPage,
    session: SessionDep,
    api_key: Annotated[str, Form(max_length=500)],
    csrf_token: Token = "",
    next: NextPath = "/ui/",
) -> Response:
    ctx.check_csrf(csrf_token)
    found = auth.org_and_key_for(session, api_key.strip())
    if found is None:
        return ctx.render(
            "sign_in.html",
            status_code=401,
            page_title=ctx.t("sign_in"),
            next=safe_next(next),
            hours=auth.SESSION_MAX_AGE // 3600,
            error=ctx.t("bad_key"),
        )
    org, key = found
    page_session = auth.start_session(session, org, key)
    response = ctx.redirect(safe_next(next))
    value = auth.codec(request).dumps(page_session)
    auth.set_cookie(request, response, auth.SESSION_COOKIE, value, auth.SESSION_MAX_AGE)
    auth.clear_cookie(request, response, auth.CSRF_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, ctx: AnyPage, session: SessionDep, csrf_token: Token = "") -> Response:
    ctx.check_csrf(csrf_token)
    ctx.new_csrf_cookie = False
    auth.end_session(session, auth.read_session(request))
    response = ctx.redirect("/ui/sign-in")
    auth.clear_cookie(request, response, auth.SESSION_COOKIE)
    return response


@router.post("/lang")
@read_only
def switch_language(
    request: Request,
    ctx: AnyPage,
    lang: Annotated[str, Form(pattern="^(zh|en)$")],
    csrf_token: Token = "",
    next: NextPath = "/ui/",
) -> Response:
    ctx.check_csrf(csrf_token)
    response = ctx.redirect(safe_next(next))
    auth.set_cookie(request, response, i18n.LANG_COOKIE, lang, 365 * 24 * 3600)
    return response


# -- pages -----------------------------------------------------------------------------------------


@router.get("/")
def home(ctx: SignedIn, session: SessionDep, request: Request) -> Response:
    assert ctx.org is not None
    data = home_view.home(session, ctx.org, loaded_encoder(request))
    return ctx.render("home.html", page_title=ctx.t("home"), **data)


def gap_page(
    program_id: str,
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    scope: OptionalText = None,
    demand_id: OptionalText = None,
    region: OptionalText = None,
    industry: OptionalText = None,
) -> gaps_view.GapPage:
    """The gap report page's content, for the page and for its CSV (the same query parameters)."""
    assert ctx.org is not None
    return gaps_view.gap_page(
        session,
        request.app.state,
        ctx.org,
        program_id,
        scope=scope,
        demand_id=demand_id,
        region=region,
        industry=industry,
        t=ctx.t,
    )


GapPage = Annotated[gaps_view.GapPage, Depends(gap_page)]


@router.get("/programs/{program_id}/gaps")
def gap_report(ctx: SignedIn, page: GapPage) -> Response:
    return ctx.render("gaps.html", page_title=ctx.t("gap_report_for", name=page.program.name), p=page)


@router.get("/programs/{program_id}/gaps.csv")
def gap_report_csv(ctx: SignedIn, page: GapPage) -> Response:
    return ctx.finish(csv_response(gaps_view.gap_csv_rows(page, ctx.t), f"gap-report-{page.program.id}.csv"))


@router.get("/demands/{demand_id}/matches")
def demand_matches(demand_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    assert ctx.org is not None
    page = matches_view.matches_page(session, ctx.org, demand_id, t=ctx.t)
    return ctx.render("matches.html", page_title=ctx.t("matches_for", title=page.demand.title), p=page)


@router.post("/demands/{demand_id}/matches")
def run_demand_matches(
    demand_id: str,
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    top_k: Annotated[int, Form(ge=1, le=100)] = 10,
    csrf_token: Token = "",
) -> Response:
    ctx.check_csrf(csrf_token)
    assert ctx.org is not None
    matches_view.run_matches(session, request.app.state, ctx.org, demand_id, top_k=top_k)
    return ctx.redirect(f"/ui/demands/{demand_id}/matches")


@router.get("/demands/{demand_id}/matches.csv")
def demand_matches_csv(demand_id: str, ctx: SignedIn, session: SessionDep) -> Response:
    assert ctx.org is not None
    page = matches_view.matches_page(session, ctx.org, demand_id, t=ctx.t)
    return ctx.finish(
        csv_response(matches_view.matches_csv_rows(page, ctx.t), f"matches-{page.demand.id}.csv")
    )


@router.get("/dashboard")
def dashboard(
    ctx: SignedIn,
    session: SessionDep,
    request: Request,
    region: OptionalText = None,
    industry: OptionalText = None,
) -> Response:
    assert ctx.org is not None
    page = dashboard_view.dashboard_page(
        session,
        request.app.state,
        request.app.state.settings,
        region=region,
        industry=industry,
        t=ctx.t,
        viewer=ctx.org.id,
    )
    return ctx.render("dashboard.html", page_title=ctx.t("dashboard_title"), p=page)


@router.get("/{rest:path}")
def not_found(rest: str, ctx: AnyPage) -> Response:
    raise NotFound(f"No page /ui/{rest}")
