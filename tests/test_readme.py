"""The README's walkthrough, its commands exactly as written, against a live server.

The shell blocks of the "Walkthrough" section are run in order by bash against ``talentmatch`` served
by uvicorn in a subprocess (fake encoder, own SQLite file, a free port), so the README cannot drift
from the API. The ``# ->`` lines show the essential part of each answer; the test checks the ones that
do not depend on generated ids or scores.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
ADMIN_KEY = "readme-walkthrough-admin-key"


def walkthrough() -> str:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Walkthrough[^\n]*\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no Walkthrough section"
    blocks = re.findall(r"^```sh\n(.*?)^```", section.group(1), re.S | re.M)
    assert len(blocks) >= 6
    return "\n".join(blocks)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TALENTMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}",
        "TALENTMATCH_ADMIN_KEY": ADMIN_KEY,
        "TALENTMATCH_ENCODER_BACKEND": "fake",
        "TALENTMATCH_JSON_LOGS": "false",
    }
    subprocess.run(
        [sys.executable, "-c", "from service.cli import app; app()", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_the_readme_walkthrough_runs_as_written(server: tuple[str, dict[str, str]]) -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the README's walkthrough needs {', '.join(missing)}: apt-get install curl jq")
    url, env = server
    script = "set -euo pipefail\n" + walkthrough()
    # The walkthrough itself waits for /readyz; bound the whole run instead of racing the start-up.
    done = subprocess.run(
        ["bash", "-c", script], env={**env, "TM": url}, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    out = done.stdout
    assert '"kind":"school","api_key":"tm_' in out
    assert '"code":"MECH-01"' in out
    assert '{"created":2,"updated":0}' in out
    assert '{"demand_skill":"CNC machining","status":"met"}' in out
    assert '{"skill":"quality inspection","status":"gap"}' in out
    assert '{"status":"proposed","version":1,"curriculum_additions":["quality inspection"]}' in out
    assert '{"status":"accepted","version":2,"allowed_actions":["start","cancel"]}' in out
    assert httpx.get(f"{url}/readyz").status_code == 200


def test_the_readme_stays_short_and_links_its_docs() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for doc in ("docs/architecture.md", "docs/operations.md", "docs/benchmarks.md"):
        assert f"]({doc})" in text
    for doc in ("docs/operations.md", "docs/benchmarks.md"):
        assert (REPO / doc).is_file()
