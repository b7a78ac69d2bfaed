"""A real `cs serve NAME` (gunicorn) for a test, on a free port and the session's database and
broker names: for what only a real server shows (sockets, timeouts, headers on the wire)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.config import Settings
from shared.testing.waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(
    service: str, settings: Settings, workdir: Path, **env: str
) -> Iterator[tuple[str, Path]]:
    """Runs `cs serve service` until the block ends; yields its base URL and its log file.
    `env` adds environment variables (`CS_READ_TIMEOUT_S="2"`)."""
    port = free_port()
    environ = dict(
        os.environ,
        CS_ENV="development",
        DATABASE_URL=settings.database_url,
        AMQP_URL=settings.amqp_url,
        CS_BROKER_PREFIX=settings.broker_prefix,
        CS_JWT_SECRET=settings.jwt_secret,
        CS_METRICS_DIR=str(workdir / "metrics"),
        CS_WEB_WORKERS="1",
        **env,
    )
    cs = Path(sys.executable).parent / "cs"
    log_path = workdir / f"serve-{service}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(cs), "serve", service, "--port", str(port)],
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            assert server.poll() is None, log_path.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(up, timeout=60, what=f"cs serve {service}")
        yield base, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
