"""Fixtures for gap and insight tests: the real encoder, loaded once per session, swapped into an app."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.embeddings.encoder import Encoder
from service.embeddings.loader import load_encoder


@lru_cache(maxsize=1)
def real_encoder() -> Encoder:
    """all-MiniLM-L6-v2 from the bundled package (offline), loaded once per test session."""
    return load_encoder("real")


@pytest.fixture
def real_client(app: FastAPI) -> Iterator[TestClient]:
    """A client whose app runs on the real encoder instead of the fake one."""
    encoder = real_encoder()
    with TestClient(app) as client:
        app.state.encoder = encoder
        app.state.matching = None  # the matching engine is built on first use, from this encoder
        yield client
