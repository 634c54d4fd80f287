"""Per-organisation rate limit: ``settings.rate_limit_per_minute`` requests a minute, 429 + Retry-After.

Algorithm: GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp per bucket).
A bucket allows a burst of ``limit`` requests and then one every ``60 / limit`` seconds; a refused
request consumes nothing, and ``Retry-After`` says when the next one will be allowed.

Buckets:

- requests with an organisation's API key count against that **organisation** (all its keys share
  one bucket); the key is mapped to its organisation by hash, cached for a minute per process;
- the admin key has a bucket of its own;
- requests without a key, or with an unknown or revoked key, count against the client address,
  so a flood of bad keys cannot starve the members;
- ``/healthz``, ``/readyz``, ``/metrics`` and the docs are not limited (monitoring must always see).

Stores: in memory (per process) by default; Redis when ``TALENTMATCH_REDIS_URL`` is set, so every
worker process and every replica shares the same buckets (one atomic Lua script per request, using
Redis' clock). If Redis cannot be reached the request is let through, a warning is logged at most
once a minute and ``talentmatch_rate_limit_backend_errors_total`` counts it: an outage of the limiter
must not become an outage of the service.
"""

from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import anyio.to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import send_problem
from service.ops import metrics
from service.orgs import repository as orgs_repo
from service.orgs.keys import hash_key

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc"})
EXEMPT_PREFIXES = ("/docs/", "/static/", "/ui/static/")
WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    remaining: int = 0


class Store(Protocol):
    def hit(self, bucket: str, limit: int) -> Decision: ...

    def close(self) -> None: ...


def _gcra(tat: float, now: float, limit: int) -> tuple[bool, float, float, int]:
    """One GCRA step: (allowed, new theoretical arrival time, retry_after, remaining)."""
    interval = WINDOW_SECONDS / limit
    tat = max(tat, now)
    new_tat = tat + interval
    allow_at = new_tat - WINDOW_SECONDS
    if now < allow_at:
        return False, tat, allow_at - now, 0
    remaining = int((WINDOW_SECONDS - (new_tat - now)) / interval)
    return True, new_tat, 0.0, max(remaining, 0)


class MemoryStore:
    """Buckets in this process's memory (bounded: the least recently used buckets are dropped)."""

    def __init__(self, max_buckets: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._tat: OrderedDict[str, float] = OrderedDict()
        self.max_buckets = max_buckets

    def hit(self, bucket: str, limit: int) -> Decision:
        now = time.monotonic()
        with self._lock:
            allowed, tat, retry_after, remaining = _gcra(self._tat.get(bucket, now), now, limit)
            self._tat[bucket] = tat
            self._tat.move_to_end(bucket)
            while len(self._tat) > self.max_buckets:
                self._tat.popitem(last=False)
        return Decision(allowed, retry_after, remaining)

    def close(self) -> None:
        pass


# KEYS[1] bucket; ARGV[1] limit, ARGV[2] window seconds. Times in microseconds from Redis' clock,
# so every process agrees on "now". Returns {allowed, retry_after_us, remaining}.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000000
local interval = window / limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, math.ceil(allow_at - now), 0}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil(window / 1000) + 1000)
return {1, 0, math.floor((window - (new_tat - now)) / interval)}
"""


class RedisStore:
    """Buckets in Redis, shared by every process that uses the same Redis and prefix."""

    def __init__(self, url: str, prefix: str = "talentmatch:ratelimit:") -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self.client.register_script(_GCRA_LUA)

    def hit(self, bucket: str, limit: int) -> Decision:
        allowed, retry_us, remaining = self._script(keys=[self.prefix + bucket], args=[limit, WINDOW_SECONDS])
        return Decision(bool(allowed), int(retry_us) / 1_000_000, int(remaining))

    def close(self) -> None:
        self.client.close()


class KeyDirectory:
    """API key hash -> organisation id, cached per process (a revoked key may count for its
    organisation for up to ``ttl`` seconds more; it is refused by authentication all the same)."""

    def __init__(self, app: FastAPI, ttl: float = 60.0, max_entries: int = 10_000) -> None:
        self.app = app
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[str | None, float]] = OrderedDict()

    def cached(self, key_hash: str) -> tuple[bool, str | None]:
        """(found, organisation id) from the cache alone: no database access."""
        with self._lock:
            hit = self._cache.get(key_hash)
        if hit is not None and hit[1] > time.monotonic():
            return True, hit[0]
        return False, None

    def organization_for(self, key_hash: str) -> str | None:
        found, org_id = self.cached(key_hash)
        if found:
            return org_id
        now = time.monotonic()
        org_id = self._lookup(key_hash)
        with self._lock:
            self._cache[key_hash] = (org_id, now + self.ttl)
            self._cache.move_to_end(key_hash)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return org_id

    def _lookup(self, key_hash: str) -> str | None:
        makers = getattr(self.app.state, "read_sessions", None)
        if makers is None:
            return None
        try:
            with makers() as session:
                org = orgs_repo.org_for_key_hash(session, key_hash)
                return org.id if org is not None else None
        except Exception as exc:  # the database is down: authentication will answer for itself
            log.warning("rate limit: could not resolve an API key: %s", type(exc).__name__)
            return None


def make_store(redis_url: str | None) -> Store:
    return RedisStore(redis_url) if redis_url else MemoryStore()


class RateLimit:
    """ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI, limit_per_minute: int) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.limit = limit_per_minute
        self.keys = KeyDirectory(fastapi_app)
        self._last_warning = 0.0

    @property
    def store(self) -> Store:
        """The app's store (``app.state.rate_limit_store``), opened by the lifespan."""
        state = self.fastapi_app.state
        store: Store | None = getattr(state, "rate_limit_store", None)
        if store is None:
            store = state.rate_limit_store = make_store(state.settings.redis_url)
        return store

    def _bucket(self, scope: Scope, *, cached_only: bool = False) -> str | None:
        """The bucket the request counts against; with ``cached_only``, None when finding it would
        need the database (an API key not seen in the last minute)."""
        token = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, credentials = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and credentials.strip():
                    token = credentials.strip()
                break
        if token is not None:
            admin_key = self.fastapi_app.state.settings.admin_key
            if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
                return "admin"
            key_hash = hash_key(token)
            if cached_only:
                found, org_id = self.keys.cached(key_hash)
                if not found:
                    return None
            else:
                org_id = self.keys.organization_for(key_hash)
            if org_id is not None:
                return f"org:{org_id}"
        cookie_organization = getattr(self.fastapi_app.state, "cookie_organization", None)
        if token is None and cookie_organization is not None:
            # A signed-in page request: the organisation its (signed) session cookie names.
            for name, value in scope.get("headers", []):
                if name == b"cookie":
                    org_id = cookie_organization(value.decode("latin-1"))
                    if org_id is not None:
                        return f"org:{org_id}"
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}"

    def _check(self, scope: Scope, bucket: str | None = None) -> Decision:
        bucket = bucket or self._bucket(scope)
        assert bucket is not None
        try:
            return self.store.hit(bucket, self.limit)
        except Exception as exc:
            metrics.rate_limit_errors.inc()
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("rate limit store unavailable, requests are let through: %s", type(exc).__name__)
            return Decision(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or self._exempt(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        # In memory with the key already known: decide here, no thread. Otherwise (a database lookup,
        # a Redis round trip) in a worker thread, so the event loop never waits on I/O.
        bucket = self._bucket(scope, cached_only=True) if isinstance(self.store, MemoryStore) else None
        if bucket is not None:
            decision = self._check(scope, bucket)
        else:
            decision = await anyio.to_thread.run_sync(self._check, scope)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        metrics.rate_limited.inc()
        await self._reject(send, decision)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)

    async def _reject(self, send: Send, decision: Decision) -> None:
        retry_after = max(1, math.ceil(decision.retry_after))
        await send_problem(
            send,
            429,
            "Too many requests",
            f"This organisation is over its limit of {self.limit} requests a minute; "
            f"retry in {retry_after} s.",
            "rate-limited",
            [
                (b"retry-after", str(retry_after).encode()),
                (b"ratelimit-limit", str(self.limit).encode()),
                (b"ratelimit-remaining", b"0"),
            ],
        )


def open_store(app: FastAPI) -> None:
    app.state.rate_limit_store = make_store(app.state.settings.redis_url)


def close_store(app: FastAPI) -> None:
    store: Store | None = getattr(app.state, "rate_limit_store", None)
    app.state.rate_limit_store = None
    if store is not None:
        store.close()
