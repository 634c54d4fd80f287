"""Logging: one line per event, JSON by default, each carrying the request id; personal data redacted.

- ``configure_logging(settings)`` installs one handler on the root logger (replacing the one it
  installed before): :class:`JsonFormatter` when ``settings.json_logs`` else a readable text line.
  uvicorn's loggers propagate to it (``talentmatch serve`` passes ``log_config=None``).
- :data:`request_id_var` holds the current request's id (set by the request middleware); every record
  gets it as ``request_id``.
- Redaction is defence in depth; the first rule is that the service never logs request bodies, query
  strings, graduate profiles or SQL parameters (the engine is created with ``hide_parameters=True`` and
  the SQL echo loggers are held at WARNING). :class:`RedactionFilter` also scrubs, from every message
  and traceback: SQL parameter lists, PostgreSQL ``DETAIL:`` lines (they quote row values), values of
  keys that carry personal data (``external_ref``, ``skills``, ``certificates``, ``api_key``, ...),
  and bearer tokens.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from service.settings import Settings

request_id_var: ContextVar[str | None] = ContextVar("talentmatch_request_id", default=None)

SENSITIVE_KEYS = (
    "external_ref",
    "skills",
    "certificates",
    "learning_outcomes",
    "api_key",
    "authorization",
    "password",
)
REDACTED = "[redacted]"

# "[parameters: (...)]" in SQLAlchemy error messages (up to the closing bracket at the end of the line).
_SQL_PARAMS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|$|\(Background))", re.DOTALL)
# SQLAlchemy's echo of parameters: "[generated in 0.0001s] (...)" / "[cached since ...] (...)".
_SQL_ECHO = re.compile(r"(\[(?:generated in|cached since|raw sql|dialect [^\]]*)[^\]]*\]) .*", re.DOTALL)
# 'key': value / "key": value / key=value, for the sensitive keys, up to the next delimiter.
_KEYS = "|".join(SENSITIVE_KEYS)
_KEY_VALUE = re.compile(
    r"""(?P<key>['"]?(?:""" + _KEYS + r""")['"]?\s*[:=]\s*)"""
    r"""(?P<value>\[[^\]]*\]?|\{[^}]*\}?|'[^']*'?|"[^"]*"?|[^,;)\s]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# PostgreSQL's error details quote the row's values: "DETAIL:  Key (org, external_ref)=(..., S-1) ...",
# "DETAIL:  Failing row contains (...)".
_PG_DETAIL = re.compile(r"(DETAIL:\s*)[^\n]*")


def redact(text: str) -> str:
    """Remove personal data and secrets from a log text."""
    text = _BEARER.sub(r"\1" + REDACTED, text)
    text = _PG_DETAIL.sub(r"\1" + REDACTED, text)
    text = _SQL_PARAMS.sub("[parameters: redacted]", text)
    text = _SQL_ECHO.sub(r"\1 " + REDACTED, text)
    return _KEY_VALUE.sub(lambda m: m.group("key") + REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() in SENSITIVE_KEYS else _redact_value(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


class RedactionFilter(logging.Filter):
    """Scrubs the record in place: message (with its arguments), traceback text and context fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template only
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        # The exception object itself is not rendered again once exc_text is set; drop it so no other
        # handler formats the raw (unredacted) traceback.
        record.exc_info = None
        ctx = getattr(record, "ctx", None)
        if isinstance(ctx, dict):
            record.ctx = _redact_value(ctx)
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id", ...ctx, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        ctx = getattr(record, "ctx", None)
        if isinstance(ctx, dict):
            for key, value in ctx.items():
                entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx = getattr(record, "ctx", None)
        if isinstance(ctx, dict) and ctx:
            extras = " ".join(f"{k}={v}" for k, v in ctx.items())
            head, sep, tail = line.partition("\n")
            line = f"{head} {extras}{sep}{tail}"
        return line


_QUIET = {
    # SQL echo logs statements with their parameters: never below WARNING.
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    # Our access log replaces uvicorn's (which would log raw paths and query strings).
    "uvicorn.access": logging.WARNING,
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record (test capture swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def make_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    handler: logging.StreamHandler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if settings.json_logs else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler._talentmatch = True  # type: ignore[attr-defined]
    return handler


_base_factory = logging.getLogRecordFactory()
_REDACTOR = RedactionFilter()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _REDACTOR.filter(record)
    return record


def install_record_redaction() -> None:
    """Redact every record when it is created, so *any* handler (an error tracker, a test's capture)
    only ever sees the redacted text, not just the service's own handler. Idempotent."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Install (or replace) the service's root handler and levels. Idempotent."""
    install_record_redaction()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_talentmatch", False)]:
        root.removeHandler(old)
        old.close()
    handler = make_handler(settings, stream)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
    return handler
