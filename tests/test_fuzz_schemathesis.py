"""Schema-driven fuzzing: schemathesis against the app's own OpenAPI document.

Every operation, ``FUZZ_EXAMPLES`` generated requests each (default 100; ``TALENTMATCH_FUZZ_EXAMPLES``
overrides it), with schemathesis' default checks: no 5xx, status codes and bodies as documented,
content types as documented (errors are ``application/problem+json``), required headers. Each call
is authenticated as an organisation the route is for (from the authorization matrix' table) and,
every other example, aims at real objects of that organisation instead of random ids, so the
fuzzed bodies reach the service code and not only the 404 path.

A failure here is fixed in the service (or its OpenAPI description), not by loosening this test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from service.app import create_app
from service.settings import Settings
from tests.conftest import ADMIN_KEY, PG_URL, _empty_pg
from tests.test_authz_matrix import ADMIN, EXPECTATIONS, PUBLIC, Case, World, build_world

FUZZ_EXAMPLES = int(os.environ.get("TALENTMATCH_FUZZ_EXAMPLES", "100"))


@pytest.fixture(scope="module")
def fuzz_app(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    if PG_URL:
        url = migrated_template
    else:
        target = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
        shutil.copyfile(migrated_template, target)
        url = f"sqlite:///{target}"
    settings = Settings(
        database_url=url,
        admin_key=ADMIN_KEY,
        encoder_backend="fake",
        rate_limit_per_minute=1_000_000,
        json_logs=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    with TestClient(app) as client:
        app.state.fuzz_world = build_world(client, app)
    yield app
    asgi.shutdown_lifespans()  # schemathesis started the app's lifespan: stop it (closes the engine)
    if PG_URL:
        _empty_pg(url)


# A schema-valid request may still be refused for what the schema cannot describe: the resource's
# state or other objects (412 stale If-Match, 428 missing If-Match, 422 from a business rule: a
# duplicate external_ref, a programme that is not the caller's, a cursor the service did not issue).
# Those are added to the statuses `positive_data_acceptance` allows; `validation_accepts_valid_data`
# below keeps the check's point: a schema-valid request must never fail *request validation*.
# The harness sends a real key of the right organisation with every call (``_headers``), so
# schemathesis does not generate the Authorization header: a negative case whose invalid part was the
# header would otherwise reach the service with a valid key and be reported as "accepted".
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 412, 422, 428, 429, "5xx"]
            }
        },
    }
)


@schemathesis.check
def validation_accepts_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request generated to match the schema is never refused by request validation."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    if str(body.get("type", "")).endswith("/validation"):
        raise AssertionError(f"schema-valid request failed validation: {body.get('errors')}")
    return None


def _load_schema() -> Any:
    """The app's OpenAPI document (building it needs no database); calls go to ``fuzz_app``."""
    app = create_app(Settings(database_url="sqlite://", admin_key=ADMIN_KEY, encoder_backend="fake"))
    loaded = schemathesis.openapi.from_dict(app.openapi(), config=CONFIG)
    loaded.app = app  # an ASGI app: calls go in-process (to the ``app=`` passed to each call)
    return loaded


schema = _load_schema()
_examples = count()


def _caller(case: Case) -> str | None:
    if case.who == PUBLIC:
        return None
    if case.who == ADMIN:
        return "admin"
    if case.owners:
        return case.owners[-1]
    kinds = sorted(case.who) if not isinstance(case.who, str) else []
    return f"{kinds[0]}-a"


def _headers(world: World, method: str, path: str) -> dict[str, str]:
    # Schemathesis also tries methods a path does not have (expecting 405): any entry of the path will do.
    cases = EXPECTATIONS.get((method, path)) or next(
        (c for (_, p), c in sorted(EXPECTATIONS.items()) if p == path), None
    )
    assert cases, f"{method} {path} has no entry in the authorization matrix"
    caller = _caller(cases[0])
    return world.headers(caller) if caller else {}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: Any, fuzz_app: FastAPI) -> None:
    world: World = fuzz_app.state.fuzz_world
    method, path = case.method.upper(), case.operation.path
    if case.path_parameters and next(_examples) % 2 == 0:
        for name in list(case.path_parameters):
            if name in world.params:
                case.path_parameters[name] = world.params[name]
    case.call_and_validate(headers=_headers(world, method, path), app=fuzz_app)


def test_fuzzing_covers_every_operation(fuzz_app: FastAPI) -> None:
    """Every documented operation is also in the matrix (so it is fuzzed with a valid caller)."""
    operations = {
        (method.upper(), path)
        for path, item in fuzz_app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations
    assert operations <= EXPECTATIONS.keys(), sorted(operations - EXPECTATIONS.keys())
