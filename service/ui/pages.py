"""The page machinery: request context (language, signed-in organisation, CSRF), rendering, and a
route class that turns errors into HTML pages instead of problem+json."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import State

from service import industries, regions
from service.db import SessionDep
from service.embeddings.encoder import Encoder
from service.errors import DomainError, ServiceUnavailable
from service.orm import Organization
from service.ui import auth, charts, i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(pct=charts.pct, symbols=charts.STATUS_SYMBOL)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


class SignInRequired(Exception):
    """The page needs a signed-in organisation."""


class CsrfFailed(Exception):
    """A state-changing form came without a valid CSRF token."""


@dataclass
class PageContext:
    request: Request
    lang: str
    org: Organization | None
    nonce: str
    new_csrf_cookie: bool = False
    t: Callable[..., str] = field(init=False)

    def __post_init__(self) -> None:
        self.t = i18n.translator(self.lang)

    @property
    def csrf_token(self) -> str:
        return auth.codec(self.request).csrf_token(self.nonce)

    def check_csrf(self, token: str | None) -> None:
        if not auth.codec(self.request).csrf_ok(self.nonce, token):
            raise CsrfFailed()

    def finish(self, response: Response) -> Response:
        """Add the headers every page carries and, if new, the pre-sign-in CSRF cookie."""
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if self.new_csrf_cookie:
            auth.set_cookie(self.request, response, auth.CSRF_COOKIE, self.nonce, auth.SESSION_MAX_AGE)
        return response

    def render(self, template: str, *, status_code: int = 200, **values: Any) -> Response:
        path = self.request.url.path
        if self.request.url.query:
            path += "?" + self.request.url.query
        html = _env.get_template(template).render(
            t=self.t,
            lang=self.lang,
            org=self.org,
            csrf_token=self.csrf_token,
            current_path=path,
            place=functools.partial(regions.display_name, lang=self.lang),
            sector=functools.partial(industries.display_name, lang=self.lang),
            sections=industries.names(self.lang),
            **values,
        )
        return self.finish(HTMLResponse(html, status_code=status_code))

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))


def _context(
    request: Request, org: Organization | None, page_session: auth.PageSession | None
) -> PageContext:
    lang = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
    if org is not None and page_session is not None:
        request.state.organization_id = org.id  # for the access log and the rate limit, as with a key
        ctx = PageContext(request=request, lang=lang, org=org, nonce=page_session.nonce)
    else:
        cookie = request.cookies.get(auth.CSRF_COOKIE)
        if cookie and 16 <= len(cookie) <= 100:
            ctx = PageContext(request=request, lang=lang, org=None, nonce=cookie)
        else:
            ctx = PageContext(
                request=request, lang=lang, org=None, nonce=auth.new_nonce(), new_csrf_cookie=True
            )
    request.state.ui_context = ctx
    return ctx


def page_context(request: Request, session: SessionDep) -> PageContext:
    """Language, CSRF nonce and (when signed in with a still valid key) the organisation."""
    page_session = auth.read_session(request)
    return _context(request, auth.signed_in_org(session, page_session), page_session)


def signed_in_context(ctx: Annotated[PageContext, Depends(page_context)]) -> PageContext:
    if ctx.org is None:
        raise SignInRequired()
    return ctx


AnyPage = Annotated[PageContext, Depends(page_context)]
SignedIn = Annotated[PageContext, Depends(signed_in_context)]


def required_encoder(app_state: State) -> Encoder:
    """The process's encoder; a page that needs it while it is not loaded answers 503."""
    encoder: Encoder | None = getattr(app_state, "encoder", None)
    if encoder is None:
        raise ServiceUnavailable("The encoder is not loaded.")
    return encoder


def blank(value: str | None) -> str | None:
    """A form or query value with its spaces trimmed; empty is None."""
    value = value.strip() if value else None
    return value or None


def safe_next(value: str | None) -> str:
    """Only local page paths are followed after sign-in or a language switch."""
    if (
        value
        and value.startswith("/ui/")
        and not value.startswith("/ui//")
        and "\\" not in value
        and all(32 < ord(c) < 127 for c in value)
    ):
        return value
    return "/ui/"


def _error_context(request: Request) -> PageContext:
    ctx = getattr(request.state, "ui_context", None)
    if isinstance(ctx, PageContext):
        return ctx
    return _context(request, None, None)


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    ctx = _error_context(request)
    t = ctx.t
    if status == 404:
        heading, message = t("not_found"), t("not_found_text")
    elif status == 403:
        heading, message = t("forbidden"), detail or t("csrf_failed")
    elif status in (400, 422):
        heading, message = t("bad_request"), detail or t("bad_request")
    else:
        heading, message = t("error"), detail or t("error")
    return ctx.render("error.html", status_code=status, page_title=heading, heading=heading, message=message)


class PageRoute(APIRoute):
    """Renders sign-in redirects, CSRF failures and domain errors as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)
                for name, value in SECURITY_HEADERS.items():
                    response.headers[name] = value
                return response
            except CsrfFailed:
                return error_page(request, 403)
            except RequestValidationError:
                return error_page(request, 400)
            except DomainError as exc:
                # Not-found pages say the same whether the object is missing or someone else's.
                return error_page(request, exc.status, None if exc.status == 404 else exc.detail)

        return page_handler
