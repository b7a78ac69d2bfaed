"""`cs demo`: the demo adds its command to the `cs` CLI (the `cs.commands` entry point)."""

from __future__ import annotations

import argparse

from shared.config import SERVICES
from shared.service import load_service


def cmd_demo(args: argparse.Namespace) -> int:
    """Loads a realistic history through the services' public APIs."""
    from demo.run import run

    return run(args)


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="load a realistic history (the quarter before and this one up to now) through the"
        " public APIs (system running)",
    )
    demo.add_argument(
        "--quarter", help="e.g. 2026-Q4 (default: the current one); the one before comes too"
    )
    demo.add_argument(
        "--cases", type=int, default=1500, help="how many cases over both quarters (default 1500)"
    )
    demo.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
    demo.add_argument("--again", action="store_true", help="load another set if this one is there")
    demo.add_argument("--workers", type=int, default=8, help="parallel requests (default 8)")
    demo.add_argument(
        "--patience", type=float, default=90.0, help="seconds to wait for a service to react"
    )
    for name in SERVICES:
        url = f"http://127.0.0.1:{load_service(name).port}"
        demo.add_argument(f"--{name}-url", default=url, help=f"default {url}")
    demo.set_defaults(func=cmd_demo)
