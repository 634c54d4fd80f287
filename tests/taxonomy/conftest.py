"""Taxonomy fixtures: the ESCO sample (real rows of the official export) imported into the test app."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.taxonomy import importing
from service.taxonomy.importers import ParsedTaxonomy, parse_esco, parse_onet
from tests.builders import Org, make_org

DATA = Path(__file__).parent / "data"
ESCO_SAMPLE = DATA / "esco_sample"


def import_into(app: FastAPI, parsed: ParsedTaxonomy) -> importing.ImportSummary:
    """Import through the service, with the app's own encoder and sessions (the app must be started)."""
    return importing.import_taxonomy(app.state.write_sessions, app.state.encoder, parsed)


def import_esco(app: FastAPI, folder: Path = ESCO_SAMPLE, version: str = "v1.1.1") -> None:
    import_into(app, parse_esco(folder, version=version))


def write_esco(folder: Path, skills: list[tuple[str, str, str]]) -> Path:
    """A minimal ESCO export in ``folder``: ``skills_en.csv`` with (concept URI, preferred label,
    alternative labels one per line)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "skills_en.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["conceptUri", "skillType", "preferredLabel", "altLabels", "description"])
        writer.writerows([uri, "skill/competence", label, alt, ""] for uri, label, alt in skills)
    return folder


def import_onet(app: FastAPI, folder: Path) -> None:
    import_into(app, parse_onet(folder))


@pytest.fixture
def esco(client: TestClient, app: FastAPI) -> TestClient:
    """The client, with the ESCO sample (514 skills, 3,861 labels) imported."""
    import_esco(app)
    return client


@pytest.fixture
def member(client: TestClient) -> Org:
    return make_org(client, "enterprise", "Hefei Precision Parts")
