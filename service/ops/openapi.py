"""Every error the service can answer, documented on every operation, in one place.

Errors are RFC 9457 ``application/problem+json`` whichever layer produces them (domain errors,
validation, authentication, the body cap, the rate limit, timeouts). Rather than each route listing
them, the OpenAPI document is post-processed: each ``/v1`` operation gets the problem responses it
does not declare itself, and FastAPI's default ``application/json`` 422 is replaced by the problem
shape the service really sends. String schemas also say that a NUL character is refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Validation errors: where (``loc``), what (``msg``), which rule (``type``).",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}

# status -> (description, extra response headers)
API_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Bad request", {}),
    401: ("No API key, or a key that is not valid or has been revoked", {}),
    403: ("The caller's organisation kind may not make this call", {}),
    404: ("No such object, or one the caller may not see", {}),
    409: ("Conflict with the object's current state", {}),
    412: ("If-Match names an old version", {}),
    413: ("Request body over the size limit", {}),
    415: ("Unsupported request media type", {}),
    422: ("The request is not valid (see errors)", {}),
    428: ("This call needs an If-Match header", {}),
    429: ("Over the organisation's rate limit", _RETRY_AFTER),
    503: ("Temporarily unavailable (overloaded, encoder, database, or matching timeout)", _RETRY_AFTER),
}
PUBLIC_ERRORS: dict[str, dict[int, tuple[str, dict[str, Any]]]] = {
    "/readyz": {503: ("Not ready: the database is unreachable or the encoder is not loaded", {})},
}
_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_response(description: str, headers: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": _REF}},
    }
    if headers:
        response["headers"] = headers
    return response


def _is_default_422(response: dict[str, Any]) -> bool:
    content = response.get("content") or {}
    return "application/problem+json" not in content


_NO_NUL = {"pattern": "\\u0000"}


def forbid_nul_in_strings(node: Any) -> None:
    """Every string schema says what the service enforces: no NUL character (PostgreSQL's text
    cannot hold one; the request is 422). Written as ``not: {pattern: "\\u0000"}`` so it combines with
    a field's own pattern."""
    if isinstance(node, dict):
        kind = node.get("type")
        is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
        free_text = node.get("format") not in {"date", "date-time", "uuid", "binary"}
        if is_string and free_text and not {"not", "enum", "const"} & node.keys():
            node["not"] = dict(_NO_NUL)
        for value in node.values():
            forbid_nul_in_strings(value)
    elif isinstance(node, list):
        for value in node:
            forbid_nul_in_strings(value)


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, item in (schema.get("paths") or {}).items():
        errors = API_ERRORS if path.startswith("/v1/") or path == "/v1" else PUBLIC_ERRORS.get(path, {})
        for method, operation in item.items():
            if method not in {"get", "put", "post", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, headers) in errors.items():
                key = str(status)
                existing = responses.get(key)
                if existing is None or (status == 422 and _is_default_422(existing)):
                    responses[key] = _problem_response(description, headers)
                elif "content" not in existing:
                    # A route documented the status without a body shape: it is a problem.
                    existing["content"] = {"application/problem+json": {"schema": _REF}}
                    if headers:
                        existing.setdefault("headers", headers)
    return schema


def install_problem_responses(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        forbid_nul_in_strings(schema.get("components", {}).get("schemas", {}))
        for item in (schema.get("paths") or {}).values():
            for operation in item.values():
                if isinstance(operation, dict):
                    forbid_nul_in_strings(operation.get("parameters", []))
        app.openapi_schema = add_problem_responses(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
