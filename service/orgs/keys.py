"""API keys are stored and looked up by their hash only."""

from __future__ import annotations

import hashlib


def hash_key(key: str) -> str:
    """The stored form of an API key (SHA-256, hex)."""
    return hashlib.sha256(key.encode()).hexdigest()
