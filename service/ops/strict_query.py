"""Strict query strings on the API: an unknown query parameter is 422, as an unknown body field is;
so is a single-valued parameter given several times (``?status=open&status=closed``), which would
otherwise silently mean the last one; and so is a value with a NUL character, which the OpenAPI
document rules out for every string.

A misspelt filter (``?staus=open``) would otherwise be ignored silently and answer with the wrong
list. Installed as an app-wide dependency, so it knows the matched route and the query parameters
that route (with all its dependencies) declares. Pages under ``/ui/`` are not concerned.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from pydantic import BaseModel

from service.errors import Unprocessable

_SEQUENCES = (list, tuple, set, frozenset)
# route id -> (every query parameter name, the names that may repeat)
_declared: dict[int, tuple[frozenset[str], frozenset[str]]] = {}


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_is_sequence(a) for a in get_args(annotation))
    return annotation in _SEQUENCES or origin in _SEQUENCES


def _query_names(dependant: Any, seen: set[int]) -> tuple[set[str], set[str]]:
    """Query parameter names of a dependant and all its sub-dependencies (a Query model's fields
    too), and those of them that are lists."""
    if id(dependant) in seen:
        return set(), set()
    seen.add(id(dependant))
    names: set[str] = set()
    multi: set[str] = set()
    for param in getattr(dependant, "query_params", []):
        annotation = getattr(getattr(param, "field_info", None), "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, field in annotation.model_fields.items():
                names.add(field.alias or name)
                if _is_sequence(field.annotation):
                    multi.add(field.alias or name)
        names.add(param.alias)
        if _is_sequence(annotation):
            multi.add(param.alias)
    for sub in getattr(dependant, "dependencies", []):
        sub_names, sub_multi = _query_names(sub, seen)
        names |= sub_names
        multi |= sub_multi
    return names, multi


def _declared_for(route: Any) -> tuple[frozenset[str], frozenset[str]] | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    key = id(route)
    found = _declared.get(key)
    if found is None:
        names, multi = _query_names(dependant, set())
        found = _declared[key] = (frozenset(names), frozenset(multi))
    return found


async def reject_unknown_query(request: Request) -> None:
    if not request.url.path.startswith("/v1/") or not request.query_params:
        return
    declared = _declared_for(request.scope.get("route"))
    if declared is None:
        return
    allowed, multi = declared
    errors: list[dict[str, Any]] = []
    for name in sorted(set(request.query_params)):
        if name not in allowed:
            errors.append(
                {"loc": ["query", name[:100]], "msg": "unknown query parameter", "type": "extra_forbidden"}
            )
        elif name not in multi and len(request.query_params.getlist(name)) > 1:
            errors.append({"loc": ["query", name], "msg": "given more than once", "type": "too_many_values"})
        elif any("\x00" in value for value in request.query_params.getlist(name)):
            # what the OpenAPI document says of every string (PostgreSQL's text cannot hold a NUL)
            errors.append(
                {"loc": ["query", name], "msg": "contains the NUL character (U+0000)", "type": "string_nul"}
            )
    if errors:
        names = ", ".join(str(e["loc"][1]) for e in errors)
        raise Unprocessable(f"Query parameter(s) not accepted: {names[:200]}.", extra={"errors": errors[:20]})
