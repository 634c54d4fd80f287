"""Browser sessions and CSRF tokens for the web pages.

Sign-in takes an organisation's API key once, stores a session row (``web_session``) and sets
``tm_session``: a signed (itsdangerous), timestamped cookie holding the session's id, the organisation
id, the id of the API key used and a random CSRF nonce. It is HttpOnly, SameSite=Strict, Secure when
the request came over HTTPS, and expires after ``SESSION_MAX_AGE`` seconds (checked from the signed
timestamp, not only by the browser). Every page request re-checks the session row (signing out ends
it, so a saved copy of the cookie no longer signs in) and that the key still exists and is not
revoked, so revoking a key ends its sessions.

CSRF: every state-changing form carries ``csrf_token = HMAC(secret, nonce)``. Signed in, the nonce is the
one inside the session cookie; before sign-in it is a random ``tm_csrf`` cookie. A POST whose token does
not match is refused (403).

The signing secret is ``TALENTMATCH_SESSION_SECRET``; when unset it is derived from
``TALENTMATCH_ADMIN_KEY`` (HMAC with a fixed label), and when that is unset too a random secret is
generated per process (sessions then end when the process restarts and are not shared between
processes: set ``TALENTMATCH_SESSION_SECRET`` when running several).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from service.orgs import repository as orgs_repo
from service.orgs.keys import hash_key
from service.orm import ApiKey, Organization, WebSession, utcnow
from service.settings import Settings

SESSION_COOKIE = "tm_session"
CSRF_COOKIE = "tm_csrf"
SESSION_MAX_AGE = 8 * 3600
_SALT = "talentmatch.ui.session.v1"


def derive_secret(settings: Settings) -> str:
    if settings.session_secret:
        return settings.session_secret
    if settings.admin_key:
        return hmac.new(settings.admin_key.encode(), b"talentmatch/ui-session/v1", hashlib.sha256).hexdigest()
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class PageSession:
    organization_id: str
    key_id: str
    nonce: str
    session_id: str = ""


class SessionCodec:
    """Signs and checks session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: str, max_age: int = SESSION_MAX_AGE) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.max_age = max_age

    def dumps(self, session: PageSession) -> str:
        return self._serializer.dumps(
            {"o": session.organization_id, "k": session.key_id, "n": session.nonce, "s": session.session_id}
        )

    def loads(self, value: str | None) -> PageSession | None:
        if not value:
            return None
        try:
            data: Any = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        org, key, nonce, sid = data.get("o"), data.get("k"), data.get("n"), data.get("s")
        if not (isinstance(org, str) and isinstance(key, str) and isinstance(nonce, str)):
            return None
        if not isinstance(sid, str):
            return None
        return PageSession(organization_id=org, key_id=key, nonce=nonce, session_id=sid)

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return hmac.compare_digest(self.csrf_token(nonce), token)


def codec(request: Request) -> SessionCodec:
    value: SessionCodec = request.app.state.ui_codec
    return value


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/ui", httponly=True, samesite="strict", secure=is_https(request))


def read_session(request: Request) -> PageSession | None:
    return codec(request).loads(request.cookies.get(SESSION_COOKIE))


def organization_in_cookie(codec: SessionCodec, cookie_header: str) -> str | None:
    """The organisation a request's (validly signed) session cookie names; for the rate limit, which
    counts page requests against the signed-in organisation."""
    from http.cookies import CookieError, SimpleCookie

    try:
        cookies = SimpleCookie(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(SESSION_COOKIE)
    page_session = codec.loads(morsel.value if morsel is not None else None)
    return page_session.organization_id if page_session is not None else None


def signed_in_org(session: Session, page_session: PageSession | None) -> Organization | None:
    """The session's organisation while the session has not been ended (signed out) and the key it
    signed in with is still valid."""
    if page_session is None or not page_session.session_id:
        return None
    row = orgs_repo.get_web_session(session, page_session.session_id)
    if (
        row is None
        or row.ended_at is not None
        or row.organization_id != page_session.organization_id
        or row.key_id != page_session.key_id
    ):
        return None
    key = orgs_repo.get_key(session, page_session.organization_id, page_session.key_id)
    if key is None or key.revoked_at is not None:
        return None
    return key.organization


def start_session(session: Session, org: Organization, key: ApiKey) -> PageSession:
    """Store a new signed-in session for ``org`` (signed in with ``key``)."""
    row = WebSession(organization_id=org.id, key_id=key.id)
    key.last_used_at = utcnow()
    orgs_repo.add(session, row)
    return PageSession(organization_id=org.id, key_id=key.id, nonce=new_nonce(), session_id=row.id)


def end_session(session: Session, page_session: PageSession | None) -> None:
    """Sign out: the session's row is ended, so no copy of its cookie signs in again."""
    if page_session is None or not page_session.session_id:
        return
    row = orgs_repo.get_web_session(session, page_session.session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()


def org_and_key_for(session: Session, api_key: str) -> tuple[Organization, ApiKey] | None:
    """The organisation an API key belongs to and the key; None when not valid or revoked."""
    digest = hash_key(api_key)
    org = orgs_repo.org_for_key_hash(session, digest)
    if org is None:
        return None
    for key in orgs_repo.keys_of(session, org.id):
        if key.key_hash == digest and key.revoked_at is None:
            return org, key
    return None
