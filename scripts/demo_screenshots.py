"""Screenshots of the web pages as a user sees them: the bilingual demo consortium (``talentmatch
demo``) in a throw-away SQLite database, served with the real encoders (all-MiniLM-L6-v2 and the
multilingual USE), photographed by Debian's headless Chromium through Playwright, in English and Chinese.

    python scripts/demo_screenshots.py [--out docs/screenshots/demo]

Needs ``chromium`` (``apt-get install chromium``; ``TALENTMATCH_CHROMIUM`` to point elsewhere) and the
dev extras (Playwright). Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.demo.builder import CNC, ZH, build  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.settings import Settings  # noqa: E402

CHROMIUM = os.environ.get("TALENTMATCH_CHROMIUM", "/usr/bin/chromium")
LOCALES = {"en": "en-GB", "zh": "zh-CN"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots" / "demo")
    parser.add_argument("--graduates-per-programme", type=int, default=40)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TALENTMATCH_DATABASE_URL": f"sqlite:///{tmp}/demo.db",
            "TALENTMATCH_ENCODER_BACKEND": "real",
        }
        os.environ.update(env)
        settings = Settings()
        upgrade(settings.database_url)
        print("building the demo consortium (real encoders) ...", flush=True)
        result = build(settings, per_program=args.graduates_per_programme)
        keys = {o.key_name: o.api_key for o in result.orgs}
        zh_demand = result.demands[ZH]["id"]
        cnc_program = result.programs[CNC]["id"]

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "talentmatch"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=tmp,
        )
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(1)
            else:
                raise SystemExit("the server did not become ready")
            shoot(args.out, base, keys, zh_demand, cnc_program)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"screenshots in {args.out}")


def shoot(out: Path, base: str, keys: dict[str, str], zh_demand: str, cnc_program: str) -> None:
    from playwright.sync_api import sync_playwright

    pages = [
        ("machining", "home-enterprise", "/ui/"),
        ("machining", "matches-zh-demand", f"/ui/demands/{zh_demand}"),
        (
            "college",
            "gap-report-zh-demand",
            f"/ui/programs/{cnc_program}/gaps?scope=demand&demand_id={zh_demand}",
        ),
        ("college", "home-school", "/ui/"),
        ("government", "dashboard", "/ui/dashboard"),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            for lang, locale in LOCALES.items():
                for who, name, path in pages:
                    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    page.goto(f"{base}/ui/sign-in")
                    page.fill("#api_key", keys[who])
                    page.press("#api_key", "Enter")
                    page.wait_for_load_state()
                    if name.startswith("matches"):
                        page.goto(f"{base}{path}")
                        button = page.locator("form[action$='/matches'] button[type=submit]").first
                        if button.count():
                            button.click()
                            page.wait_for_load_state()
                    else:
                        page.goto(f"{base}{path}")
                    page.screenshot(path=str(out / f"{name}-{lang}.png"), full_page=True)
                    context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
