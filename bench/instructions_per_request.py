"""Instructions per request of intake's `POST /cases`, counted by callgrind (issue 19).

Steady where timings are not (a shared, loaded machine): intake's Flask app in one process, one
thread, the real PostgreSQL (its own database, `cs_instructions`), no gunicorn. The WSGI app is
called directly with the environ gunicorn would build, the same case and token as
bench/post_case.lua. Two runs under callgrind, of 50 and of 250 requests: the difference / 200
is what one request costs, start-up and the first requests' warm-up cancelled out.

    .venv/bin/python bench/instructions_per_request.py            # both runs, prints the figure
    .venv/bin/python bench/instructions_per_request.py --profile  # cProfile (CPU) of 2,000

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


def instructions(requests: int) -> int:
    """What callgrind counts for a whole process that serves `requests`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "callgrind.out")
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--serve",
                str(requests),
            ],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        return int(re.search(r"Collected : (\d+)", run.stderr).group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", type=int, help="(internal) serve this many requests and exit")
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
    prepare()
    if args.profile:
        serve(2000, profile=True)
        return
    small, large = instructions(args.small), instructions(args.large)
    per_request = (large - small) / (args.large - args.small)
    print(f"{args.small} requests: {small:,}; {args.large} requests: {large:,}")
    print(f"instructions per request: {per_request:,.0f}")


if __name__ == "__main__":
    main()
