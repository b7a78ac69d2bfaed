"""Instructions per request of intake's `POST /cases`, counted by callgrind (issue 19).

Steady where timings are not (a shared, loaded machine): intake's Flask app in one process, one
thread, the real PostgreSQL (its own database, `cs_instructions`), no gunicorn. The WSGI app is
called directly with the environ gunicorn would build, the same case and token as
bench/post_case.lua. Two runs under callgrind, of 50 and of 250 requests: the difference / 200
is what one request costs, start-up and the first requests' warm-up cancelled out.

    .venv/bin/python bench/instructions_per_request.py            # both runs, prints the figure
    .venv/bin/python bench/instructions_per_request.py --profile  # cProfile (CPU) of 2,000
    .venv/bin/python bench/instructions_per_request.py --access-line  # gunicorn's access line

The access line is gunicorn's (shared/gunicorn_conf.py), not the app's: counted apart, as the
difference of 12,000 and 2,000 lines (a 201 to POST /cases) written to /dev/null.

The PostgreSQL side is not counted (another process): see bench/README.md for its own figure.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "cs_instructions"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
BODY = (
    b'{"kind": "complaint", "channel": "hotline", "category": "broadband",'
    b' "region": "Haidian", "customer_ref": "ACC-1001",'
    b' "content": "Broadband drops every evening", "identity_verified": true}'
)


def prepare() -> None:
    """A fresh `cs_instructions` database with intake's schema."""
    import psycopg

    from shared.config import Settings
    from shared.migrate import migrate
    from shared.service import load_service

    with psycopg.connect(ADMIN_URL, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {DATABASE}")
    migrate(Settings.from_env().with_(database_url=DB_URL), load_service("intake"))


def serve(requests: int, profile: bool) -> None:
    """`requests` POST /cases through the WSGI app; each must answer 201."""
    from shared.auth import mint_token
    from shared.config import Settings

    settings = Settings.from_env().with_(database_url=DB_URL)
    from services.intake.app import create_app

    app = create_app(settings)
    token = mint_token(settings.jwt_secret, "bench", ["agent"])
    base = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/cases",
        "QUERY_STRING": "",
        "RAW_URI": "/cases",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8081",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8081",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        statuses.append(status)

    def one() -> None:
        environ = dict(base, **{"wsgi.input": io.BytesIO(BODY)})
        result = app(environ, start_response)
        b"".join(result)
        if hasattr(result, "close"):
            result.close()

    if profile:
        import cProfile
        import pstats
        import time

        for _ in range(50):
            one()
        with cProfile.Profile(time.process_time) as p:  # CPU: not the waits on PostgreSQL
            for _ in range(requests):
                one()
        pstats.Stats(p).sort_stats("cumulative").print_stats(60)
        pstats.Stats(p).sort_stats("tottime").print_stats(40)
    else:
        for _ in range(requests):
            one()
    wrong = [s for s in statuses if not s.startswith("201")]
    if wrong:
        raise SystemExit(f"{len(wrong)} answers not 201, e.g. {wrong[0]}")


def access_lines(count: int) -> None:
    """`count` access lines of gunicorn's worker for a 201 to POST /cases, to /dev/null."""
    os.environ.update(CS_SERVICE="intake", CS_PORT="8081")
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115  # where the lines go
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from shared.gunicorn_conf import JsonLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = JsonLogger(cfg)
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", "611"),
        ("Location", "/cases/0b5e1a1e-8d8c-4b8e-9d53-1f0a9c2b7e11"),
        ("Cache-Control", "no-store"),
        ("X-Correlation-ID", "4f1c2a8e-7b9d-4e0f-a6c3-5d2b8e9f1a7c"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "default-src 'none'"),
    ]
    resp = SimpleNamespace(status_code=201, status="201 CREATED", headers=headers)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/cases"}
    for _ in range(count):
        logger.access(resp, None, environ, timedelta(microseconds=1234))


def instructions(*argv: str) -> int:
    """What callgrind counts for a whole process of this script run with `argv`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "callgrind.out")
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            + [sys.executable, __file__, *argv],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        return int(re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE).group(1))


def per_unit(flag: str, small: int, large: int) -> float:
    return (instructions(flag, str(large)) - instructions(flag, str(small))) / (large - small)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", type=int, help="(internal) serve this many requests and exit")
    ap.add_argument("--access-lines", type=int, help="(internal) write this many access lines")
    ap.add_argument(
        "--access-line", action="store_true", help="instructions per access line instead"
    )
    ap.add_argument("--profile", action="store_true", help="cProfile 2,000 requests instead")
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--large", type=int, default=250)
    args = ap.parse_args()
    # as `cs serve` does: metrics in multiprocess files, development secrets
    os.environ.setdefault("CS_ENV", "development")
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cs-metrics-ipr-")
    sys.path.insert(0, str(ROOT))
    if args.serve is not None:
        serve(args.serve, profile=False)
        return
    if args.access_lines is not None:
        access_lines(args.access_lines)
        return
    if args.access_line:
        print(f"instructions per access line: {per_unit('--access-lines', 2000, 12000):,.0f}")
        return
    prepare()
    if args.profile:
        serve(2000, profile=True)
        return
    print(f"instructions per request: {per_unit('--serve', args.small, args.large):,.0f}")


if __name__ == "__main__":
    main()
