"""Fixtures for the browser tests: a real uvicorn server on a free port (against the test's own
database) and headless Chromium from the system's packages, driven by Playwright.

Chromium is never downloaded: Playwright launches ``/usr/bin/chromium`` (or ``TALENTMATCH_CHROMIUM``).
When it is missing the browser tests are skipped with one line naming the packages to install, so
``make test`` passes on a bare machine; with ``TALENTMATCH_REQUIRE_BROWSER=1`` (set by ``.ci/run`` after it
installs the Debian packages ``chromium`` and ``chromium-driver``) they fail instead.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.app import create_app
from service.settings import Settings

CHROMIUM = os.environ.get("TALENTMATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
DOC_SCREENSHOTS = REPO / "docs" / "screenshots"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (one line naming what to install), or None."""
    if not Path(CHROMIUM).exists():
        return (
            f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver "
            "(or set TALENTMATCH_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright: pip install -e '.[dev]'"
    return None


def browser_required() -> bool:
    return os.environ.get("TALENTMATCH_REQUIRE_BROWSER") == "1"


class LiveServer:
    """The app served by uvicorn in a background thread, on a socket bound to a free port."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", ws="none", access_log=False, log_config=None
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client for the live server, to build test data through the public API."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = browser_missing()
    if missing:
        pytest.fail(f"{missing}; TALENTMATCH_REQUIRE_BROWSER=1 requires the browser tests to run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context(chromium: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser profile (no cookies), English unless a test asks otherwise."""
    context = chromium.new_context(
        locale="en-GB", viewport={"width": 1100, "height": 800}, accept_downloads=True
    )
    try:
        yield context
    finally:
        context.close()


def screenshot(page: Any, name: str, *, for_docs: bool = False) -> Path:
    """Save a screenshot under test-artifacts/ui/; with TALENTMATCH_UPDATE_SCREENSHOTS=1 also the
    README's copy under docs/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if for_docs and os.environ.get("TALENTMATCH_UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SCREENSHOTS / f"{name}.png"), full_page=True)
    return path
