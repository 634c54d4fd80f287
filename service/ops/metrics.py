"""Prometheus metrics: HTTP traffic, matching and gap latency, encoder and phrase-cache counters,
rows per table.

Other packages import the helpers, never prometheus_client itself::

    from service.ops.metrics import encoder_calls, observe_match, phrase_cache_hits

    encoder_calls.inc()
    phrase_cache_hits.inc(n_hits)
    observe_match(seconds)

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable folder before
the workers start (the container image does): every process writes its counters there and
``/metrics`` answers with the sum over all of them, whichever worker serves the scrape.
Rows per table are counted at scrape time, with one ``count(*)`` per table.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from service.ops.repository import table_rows

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

disable_created_metrics()  # no "_created" series: they double the exposition for no use here
REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

http_requests = Counter(
    "talentmatch_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
http_latency = Histogram(
    "talentmatch_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by method, route template and status.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
match_latency = Histogram(
    "talentmatch_match_duration_seconds",
    "Time to rank candidates for one matching call.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
gap_latency = Histogram(
    "talentmatch_gap_duration_seconds",
    "Time for one gap analysis.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
encoder_calls = Counter(
    "talentmatch_encoder_calls", "Encoder batch calls (each embeds one or more phrases).", registry=REGISTRY
)
encoder_phrases = Counter(
    "talentmatch_encoder_phrases", "Phrases embedded by the encoder.", registry=REGISTRY
)
phrase_cache_hits = Counter(
    "talentmatch_phrase_cache_hits", "Phrases whose embedding came from the cache.", registry=REGISTRY
)
phrase_cache_misses = Counter(
    "talentmatch_phrase_cache_misses", "Phrases that had to be embedded.", registry=REGISTRY
)
rate_limited = Counter(
    "talentmatch_rate_limited", "Requests refused with 429 by the per-organisation limit.", registry=REGISTRY
)
rate_limit_errors = Counter(
    "talentmatch_rate_limit_backend_errors",
    "Rate-limit checks that could not reach their store (the request was let through).",
    registry=REGISTRY,
)
match_timeouts = Counter(
    "talentmatch_match_timeouts", "Matching calls stopped by the deadline (503).", registry=REGISTRY
)
requests_shed = Counter(
    "talentmatch_requests_shed",
    "Requests answered 503 overloaded: over the expensive-work limit, or no database connection in time.",
    ["reason"],
    registry=REGISTRY,
)
retention_erased = Counter(
    "talentmatch_retention_erased", "Graduate profiles erased by the retention job.", registry=REGISTRY
)


def observe_match(seconds: float) -> None:
    """Record the duration of one matching call."""
    match_latency.observe(seconds)


def observe_gap(seconds: float) -> None:
    """Record the duration of one gap analysis."""
    gap_latency.observe(seconds)


@contextmanager
def timed(observe: Any) -> Iterator[None]:
    """``with timed(observe_match): ...`` records the block's wall time, even when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        observe(time.perf_counter() - start)


class TableRows(Collector):
    """``talentmatch_table_rows{table=...}``, counted when scraped; ``talentmatch_database_up``."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("talentmatch_database_up", "1 when the database answered the scrape.")
        rows = GaugeMetricFamily(
            "talentmatch_table_rows", "Rows per table, counted at scrape time.", labels=["table"]
        )
        if self.engine is None:
            up.add_metric([], 0)
            yield up
            return
        try:
            with self.engine.connect() as conn:
                for name, count in table_rows(conn).items():
                    rows.add_metric([name], float(count))
            up.add_metric([], 1)
        except Exception as exc:
            log.warning("metrics: could not count rows: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        yield up
        yield rows


def render(engine: Engine | None) -> bytes:
    """The exposition text for a scrape: this process's (or all processes') metrics plus table rows."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(TableRows(engine))
    return generate_latest(registry) + generate_latest(scrape)
