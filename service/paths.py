"""Where the files the service reads at run time live: ``alembic.ini``, ``migrations/`` and ``models/``.

Every reader goes through :func:`runtime_file`. The folder holding them is, in order:

1. ``TALENTMATCH_HOME`` when set (an operator's own copy; nothing else is looked at then);
2. the repository root, in a checkout (editable install, tests, ``make run``);
3. ``<prefix>/share/talentmatch`` of an installed package: the wheel ships the three as data files
   (``[tool.setuptools.data-files]`` in pyproject.toml), so ``pip install .`` serves from any folder.

Templates, static files and the demo's data are package data inside ``service/`` and are found next to
the modules that read them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

HOME_ENV = "TALENTMATCH_HOME"
CACHE_ENV = "TALENTMATCH_CACHE_DIR"
SHARE = Path("share") / "talentmatch"
_MARKER = "alembic.ini"


def _installed_candidates() -> list[Path]:
    prefixes = [Path(sysconfig.get_path("data")), Path(sys.prefix)]
    with contextlib.suppress(KeyError):  # no user scheme on this platform
        prefixes.append(Path(sysconfig.get_path("data", f"{os.name}_user")))
    return [p / SHARE for p in dict.fromkeys(prefixes)]


@lru_cache
def project_root() -> Path:
    """The folder that holds ``alembic.ini``, ``migrations/`` and ``models/``."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).resolve()
    checkout = Path(__file__).resolve().parent.parent
    candidates = [checkout, *_installed_candidates()]
    for folder in candidates:
        if (folder / _MARKER).is_file():
            return folder
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"the service's run-time files ({_MARKER}, migrations/, models/) are in none of: {looked}; "
        f"reinstall the package or set {HOME_ENV} to a folder holding them"
    )


def runtime_file(relative: str) -> Path:
    """A run-time file or folder, e.g. ``runtime_file("models/calibration.json")``."""
    return project_root() / relative


def models_dir() -> Path:
    return runtime_file("models")


def cache_dir() -> Path:
    """Where the service may keep files it derives from installed packages (not data):
    ``TALENTMATCH_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/talentmatch`` or ``~/.cache/talentmatch``.
    Nothing in it is needed: a reader that cannot use it works without it."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "talentmatch"
