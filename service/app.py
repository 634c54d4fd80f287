"""The app factory: ``create_app(settings)``. Its lifespan is the one place that builds what the app
holds (engine, encoders, graduate index warm-up, taxonomy and occupation runtimes, rate-limit store,
retention job) and takes it down again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from service import __version__
from service.api.curricula import router as programs_router
from service.api.demands import router as demands_router
from service.api.gaps import router as gaps_router
from service.api.graduates import router as graduates_router
from service.api.insights import router as insights_router
from service.api.matching import router as matching_router
from service.api.occupations import install as install_occupations
from service.api.occupations import router as occupations_router
from service.api.orders import router as orders_router
from service.api.orgs import router as orgs_router
from service.api.taxonomy import install as install_taxonomy
from service.api.taxonomy import router as skills_router
from service.api.taxonomy import warm as warm_taxonomy
from service.apidocs import install as install_api_docs
from service.db import make_engine, make_sessionmakers, pool_options
from service.embeddings.loader import attach_multilingual, load_encoder
from service.errors import install_error_handlers, problem_response
from service.graduates.retention import RetentionJob
from service.limits import BodySizeLimit
from service.matching.engine import WarmUp, sync_after_erasure
from service.ops import install as install_ops
from service.ops import start as start_ops
from service.ops import stop as stop_ops
from service.pagination import set_cursor_secret
from service.settings import Settings, get_settings
from service.strict_json import StrictJSON
from service.ui.router import install as install_pages


def _load_encoder(app: FastAPI, settings: Settings) -> None:
    """Load the encoder once; a missing or broken model folder stops start-up with advice."""

    app.state.encoder = load_encoder(
        settings.encoder_backend, settings.encoder_path, settings.encoder_device, settings.encoder_runtime
    )
    # the multilingual channel (TALENTMATCH_MULTILINGUAL), attached to the encoder as its companion
    app.state.multilingual = attach_multilingual(
        app.state.encoder, settings.multilingual, settings.encoder_backend
    )


def _encoder_names(app: FastAPI) -> dict[str, str | None]:
    """``name@version`` of the served encoders; ``multilingual`` is null when that channel is off."""
    names: dict[str, str | None] = {}
    for role, encoder in (("main", app.state.encoder), ("multilingual", app.state.multilingual)):
        names[role] = f"{encoder.name}@{encoder.version}" if encoder is not None else None
    return names


READY_DB_TIMEOUT_SECONDS = 2.0


def _ping(engine: Any) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _database_check(app: FastAPI) -> str:
    """``SELECT 1`` on a fresh connection, in threads of its own, within a short timeout."""
    try:
        with anyio.fail_after(READY_DB_TIMEOUT_SECONDS):
            await anyio.to_thread.run_sync(
                _ping, app.state.health_engine, abandon_on_cancel=True, limiter=app.state.health_threads
            )
    except TimeoutError:
        return "timeout"
    except Exception:
        return "unreachable"
    return "ok"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # hide_parameters: SQL errors and logs never carry the values (personal data) bound to them.
        pool = pool_options(
            settings.database_url,
            settings.db_pool_size,
            settings.db_max_overflow,
            settings.db_pool_timeout_seconds,
        )
        engine = make_engine(settings.database_url, hide_parameters=True, **pool)
        app.state.engine = engine
        # Readiness checks connect outside the request pool, so an exhausted pool cannot hold them up.
        app.state.health_engine = make_engine(settings.database_url, hide_parameters=True, poolclass=NullPool)
        app.state.health_threads = anyio.CapacityLimiter(2)
        app.state.read_sessions, app.state.write_sessions = make_sessionmakers(engine)
        _load_encoder(app, settings)
        if settings.warm_index and app.state.encoder is not None:
            app.state.warm_up = WarmUp(app.state).start()
        start_ops(app)  # logging, rate-limit store, encoder metering
        warm_taxonomy(app, install_taxonomy(app))  # the label index, built before the first request
        install_occupations(app)
        if settings.retention_years:
            app.state.retention_job = RetentionJob(
                engine, settings.retention_years, after_erasure=lambda: sync_after_erasure(app.state)
            )
            app.state.retention_job.start()
        try:
            yield
        finally:
            if app.state.retention_job is not None:
                app.state.retention_job.stop()
                app.state.retention_job = None
            if app.state.warm_up is not None:
                app.state.warm_up.join(timeout=10)  # not mid-read when the engine goes away
            stop_ops(app)
            engine.dispose()
            app.state.health_engine.dispose()

    app = FastAPI(
        title="Talent supply-demand matching service",
        version=__version__,
        description=(
            "Shared database and matching engine of a city-level industry-education consortium: "
            "demands, programmes, graduates, explained skill-by-skill matching, gap analysis, "
            "training orders and insights. Auth: `Authorization: Bearer <api key>`."
        ),
        lifespan=lifespan,
        docs_url=None,  # served by service.apidocs, with local assets
        redoc_url=None,
    )
    install_api_docs(app)
    app.state.settings = settings
    set_cursor_secret(settings.session_secret or settings.admin_key or settings.database_url)
    app.state.encoder = None
    app.state.multilingual = None
    app.state.warm_up = None
    app.state.retention_job = None
    install_error_handlers(app)
    app.add_middleware(StrictJSON)  # inside the body cap
    app.add_middleware(
        BodySizeLimit, default_limit=settings.max_body_bytes, bulk_limit=settings.max_bulk_body_bytes
    )
    install_ops(app, settings)  # request id, logs, metrics, rate limit, /metrics, problem responses

    # Both are async and never touch the request pool or thread pool: they answer even when every
    # worker thread and pooled connection is busy with request work.
    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: database reachable, encoder loaded, graduate index loaded",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz() -> Any:
        checks: dict[str, str] = {}
        checks["database"] = await _database_check(app)
        checks["encoder"] = "ok" if app.state.encoder is not None else "not loaded"
        if app.state.multilingual is not None:
            checks["multilingual_encoder"] = "ok"
        if app.state.warm_up is not None:
            checks["graduate_index"] = app.state.warm_up.status
        if all(v == "ok" for v in checks.values()):
            return {"status": "ok", "checks": checks, "encoders": _encoder_names(app)}
        return problem_response(
            503, "Not ready", "; ".join(f"{k}: {v}" for k, v in checks.items()), "not-ready", checks=checks
        )

    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    for router in (
        orgs_router,
        demands_router,
        programs_router,
        graduates_router,
        matching_router,
        skills_router,
        occupations_router,
        orders_router,
        gaps_router,
        insights_router,
    ):
        app.include_router(router)
    install_pages(app)  # last: the pages end with a catch-all 404 page under /ui/
