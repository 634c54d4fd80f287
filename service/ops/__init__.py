"""Operations: logging, metrics, rate limiting, deadlines, strict query strings, the documented
error responses.

``install(app, settings)`` wires them into an app built by ``create_app``; middleware order, outermost
first: the idle heap trim (gives freed heap back once no request has run for a second) -> trusted
proxies (client address from X-Forwarded-For) -> request context (request id,
access log, metrics, last-resort 500) -> rate limit -> admission
(503 over the expensive-work limit) -> body cap.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

from service.ops import metrics
from service.ops.admission import Admission, overloaded_response
from service.ops.idle_trim import IdleHeapTrim
from service.ops.logs import configure_logging
from service.ops.middleware import RequestContext
from service.ops.openapi import install_problem_responses
from service.ops.proxies import TrustedProxies, parse_networks
from service.ops.ratelimit import RateLimit, close_store, open_store
from service.ops.strict_query import reject_unknown_query
from service.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def prometheus_metrics(request: Request) -> Response:
    """Requests and latency by route and status, matching and gap latency, encoder calls,
    phrase-cache hits and misses, rows per table (counted now)."""
    engine = getattr(request.app.state, "engine", None)
    return Response(metrics.render(engine), media_type=metrics.CONTENT_TYPE)


def meter_encoder(encoder: Any) -> None:
    """Count the encoder's batches and phrases in ``talentmatch_encoder_*``, whoever calls it."""
    if encoder is None or getattr(encoder, "_talentmatch_metered", False):
        return
    encode = encoder.encode

    def metered_encode(texts: list[str]) -> Any:
        metrics.encoder_calls.inc()
        metrics.encoder_phrases.inc(len(texts))
        return encode(texts)

    try:
        encoder.encode = metered_encode
        encoder._talentmatch_metered = True
    except (AttributeError, TypeError):  # an encoder that cannot be wrapped is left as it is
        log.debug("encoder %r not metered", type(encoder).__name__)


def start(app: FastAPI) -> None:
    """Run by the app's lifespan once the encoder is loaded: logging, the rate-limit store, metering."""
    settings: Settings = app.state.settings
    configure_logging(settings)
    open_store(app)
    meter_encoder(getattr(app.state, "encoder", None))


def stop(app: FastAPI) -> None:
    close_store(app)


async def _pool_timeout(request: Request, exc: Exception) -> Response:
    """No database connection within the pool timeout: the service is overloaded, not broken."""
    metrics.requests_shed.labels(reason="pool_timeout").inc()
    return overloaded_response("No database connection became free in time; retry shortly.")


def install(app: FastAPI, settings: Settings) -> None:
    """Add the operations middleware, ``/metrics`` and problem responses (the app's lifespan calls
    :func:`start` and :func:`stop`)."""
    app.add_middleware(Admission, fastapi_app=app)
    app.add_middleware(RateLimit, fastapi_app=app, limit_per_minute=settings.rate_limit_per_minute)
    app.add_middleware(RequestContext, fastapi_app=app)
    app.add_middleware(TrustedProxies, networks=parse_networks(settings.trusted_proxies))
    app.add_middleware(IdleHeapTrim)
    # Before any router is included: included routes copy the app's dependencies when included.
    app.router.dependencies.append(Depends(reject_unknown_query))
    app.include_router(router)
    install_problem_responses(app)
    app.add_exception_handler(SQLAlchemyTimeout, _pool_timeout)
    configure_logging(settings)  # now, so that start-up (encoder loading) is logged the same way
