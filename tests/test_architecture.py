"""The import contracts (``[tool.importlinter]`` in pyproject.toml) catch what they are written for.

``make lint`` runs ``lint-imports`` on the tree as it is; these tests run it on a copy of the packages
with one import added that breaks a rule, so a contract that silently checks nothing (a package
import-linter cannot see, a pattern that matches too much) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="lint-imports is not installed")


def lint_copy(tmp_path: Path, module: str, anchor: str, added: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on a copy of service/, bench/ and training/ where ``added`` follows ``anchor``
    in ``module`` (a path under the copy)."""
    for package in ("service", "bench", "training"):
        shutil.copytree(
            REPO / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "data", "templates", "static"),
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    source = target.read_text(encoding="utf-8")
    assert anchor in source, f"{anchor!r} is no longer in {module}; pick another line"
    target.write_text(source.replace(anchor, f"{anchor}\n{added}", 1), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_service_importing_the_benchmarks_is_refused(tmp_path: Path) -> None:
    anchor = "from service.embeddings import repository as repo"
    result = lint_copy(tmp_path, "service/embeddings/cache.py", anchor, "import bench.speed")
    assert result.returncode == 1, result.stdout
    assert "service is not allowed to import bench" in result.stdout
    assert "service.embeddings.cache -> bench.speed" in result.stdout


def test_a_cycle_through_the_web_pages_is_refused(tmp_path: Path) -> None:
    # The pages import the curricula service; the reverse closes a cycle between two packages.
    module, anchor = "service/curricula/service.py", "from service import changes"
    result = lint_copy(tmp_path, module, anchor, "from service.ui import pages")
    assert result.returncode == 1, result.stdout
    assert "No cycles are allowed in service" in result.stdout
    assert ".curricula -> .ui" in result.stdout


def test_a_domain_reaching_up_into_the_http_layer_is_refused(tmp_path: Path) -> None:
    # Routers live in service/api and sit on top; a domain service that needs a FastAPI dependency
    # would tie the domain to HTTP and close a cycle through the routers.
    module, anchor = "service/graduates/service.py", "from __future__ import annotations"
    result = lint_copy(tmp_path, module, anchor, "from service.api import deps")
    assert result.returncode == 1, result.stdout
    assert "service.graduates is not allowed to import service.api" in result.stdout
    assert "service.graduates.service -> service.api.deps" in result.stdout
