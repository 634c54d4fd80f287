"""Where the project's non-Python files live (``migrations/``, ``models/``, ``alembic.ini``).

In a checkout (editable install) that is the repository root; in the container image it is the
working directory (``/app``), which holds the same folders. ``TALENTMATCH_HOME`` overrides both.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache
def project_root() -> Path:
    override = os.environ.get("TALENTMATCH_HOME")
    if override:
        return Path(override).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "alembic.ini").exists():
        return checkout
    return Path.cwd().resolve()


def models_dir() -> Path:
    return project_root() / "models"
