"""The API server the crash and load benchmarks drive: ``uvicorn service.main:app`` in a process
group of its own, on a free port, and a throw-away PostgreSQL database to run it on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "crash-admin-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(Exception):
    pass


class Server:
    """``workers`` uvicorn workers on ``database_url``; ready once ``/readyz`` answers 200 (from every
    worker, as far as a few calls can tell); ``extra_env`` adds to the environment it runs in."""

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        encoder: str = "fake",
        *,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
        stop_timeout: float = 15,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "server.log"
        self.encoder = encoder
        self.extra_env = dict(extra_env or {})
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TALENTMATCH_DATABASE_URL=self.database_url,
            TALENTMATCH_ADMIN_KEY=ADMIN_KEY,
            TALENTMATCH_ENCODER_BACKEND=self.encoder,
            TALENTMATCH_RATE_LIMIT_PER_MINUTE="10000000",
            TALENTMATCH_LOG_LEVEL="WARNING",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            TOKENIZERS_PARALLELISM="false",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90) -> None:
        for attempt in range(3):
            try:
                self._start(timeout)
                return
            except PortTaken:  # another process took the port between choosing and binding it
                if attempt == 2:
                    raise
                self.port = free_port()
                self.base = f"http://127.0.0.1:{self.port}"

    def _start(self, timeout: float) -> None:
        start_of_log = self.log.stat().st_size if self.log.exists() else 0
        cmd = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        checks = 1 if self.workers == 1 else self.workers * 3
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.log.read_bytes()[start_of_log:].decode(errors="replace")
                if "address already in use" in output.lower():
                    raise PortTaken(output)
                code = self.proc.returncode
                raise RuntimeError(f"server exited with {code}; {self.log}:\n{output[-3000:]}")
            with suppress(httpx.HTTPError):
                ready = [httpx.get(self.base + "/readyz", timeout=2).status_code for _ in range(checks)]
                if all(s == 200 for s in ready):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def create_pg_database(admin_url: str, prefix: str = "talentmatch_crash") -> tuple[str, str]:
    """A fresh database on the server of ``admin_url``: (its name, its URL)."""
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    url = make_url(admin_url)
    engine = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name, url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    engine = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
