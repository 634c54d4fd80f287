"""The taxonomy with the real encoder (all-MiniLM-L6-v2): synonyms without shared words are recognised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.embeddings.encoder import Encoder
from service.embeddings.loader import load_encoder
from tests.builders import make_org
from tests.taxonomy.conftest import import_esco, write_esco

pytestmark = pytest.mark.real_encoder

SKILLS = [
    ("urn:t:js", "JavaScript", ""),
    ("urn:t:java", "Java (computer programming)", "Java"),
    ("urn:t:customers", "communicate with customers", "interact with customers"),
    ("urn:t:maps", "read maps", "map reading"),
    ("urn:t:recruit", "recruit personnel", "personnel recruiting"),
    ("urn:t:solder", "solder electronics", "use soldering iron"),
    ("urn:t:cad", "use CAD software", "operate CAD software"),
    ("urn:t:forklift", "operate forklift", "drive forklift"),
    ("urn:t:budget", "manage budgets", "budget management"),
    ("urn:t:first-aid", "apply first aid", "provide first aid"),
]


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    return load_encoder("real")


@pytest.fixture
def real_client(
    client: TestClient, app: FastAPI, real_encoder: Encoder, tmp_path: Path
) -> Iterator[TestClient]:
    app.state.encoder = real_encoder  # the runtime reads the app's encoder at each use
    import_esco(app, write_esco(tmp_path / "esco", SKILLS))
    yield client


def _top(client: TestClient, headers: dict[str, str], texts: list[str]) -> list[dict[str, Any]]:
    r = client.post("/v1/skills/normalize", json={"texts": texts, "top_k": 3}, headers=headers)
    assert r.status_code == 200, r.text
    return [res["candidates"][0] for res in r.json()["results"]]


def test_synonyms_and_abbreviations_normalise_to_one_skill(real_client: TestClient) -> None:
    org = make_org(real_client, "enterprise")
    tops = _top(real_client, org.headers, ["JS", "talk to clients", "map interpretation", "CAD drafting"])
    assert [t["skill_id"] for t in tops] == ["urn:t:js", "urn:t:customers", "urn:t:maps", "urn:t:cad"]
    r = real_client.post(
        "/v1/demands",
        json={
            "title": "Front-end developer",
            "headcount": 1,
            "skills": [{"name": "JS"}, {"name": "JavaScript"}],
        },
        headers=org.headers,
    )
    assert r.status_code == 201
    assert [s["skill_id"] for s in r.json()["skills"]] == [
        "urn:t:js",
        "urn:t:js",
    ]  # "JS" and "JavaScript" are one


def test_extraction_finds_paraphrased_skills_and_skips_boilerplate(real_client: TestClient) -> None:
    org = make_org(real_client, "enterprise")
    text = (
        "Warehouse assistant\n"
        "You will talk to clients at the counter every day and drive a forklift in the yard.\n"
        "Basic first-aid training is a plus.\n"
        "We are an equal opportunity employer; we recruit personnel without regard to race, religion or "
        "disability.\n"
    )
    r = real_client.post("/v1/skills/extract", json={"text": text}, headers=org.headers)
    assert r.status_code == 200, r.text
    found = {s["skill_id"]: s for s in r.json()["skills"]}
    assert {"urn:t:customers", "urn:t:forklift", "urn:t:first-aid"} <= set(found)
    assert found["urn:t:forklift"]["evidence"].startswith("You will talk to clients")
    assert "urn:t:recruit" not in found  # only named in the equal-opportunity statement
