"""`cs`: the operator's command line — tokens, migrations, the processes, dead letters.

Each process command (`serve`, `relay`, `consume`) first brings its service's schema and broker
topology up to date, so any start order works.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from datetime import timedelta

from shared.config import (
    PORTS,
    SERVICES,
    Settings,
    migrate_variables,
    process_settings,
)

log = logging.getLogger("cs")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _process(service: str, role: str) -> Settings:
    """Common start of a service process: metrics directory, logs, schema and topology.

    Runs before the process imports anything that imports prometheus_client (the relay, the
    consumer, the service's code): that library chooses, once, at import, whether metrics go
    to the shared directory or stay in this process where nothing exports them.
    Outside development it first refuses development secrets and passwords (UnsafeSettings).
    """
    settings = process_settings(service)
    _use_metrics_directory(service)
    from shared.logs import configure_logging

    configure_logging(f"{service}-{role}", settings.log_level)
    _migrate(settings, [service])
    return settings


def _use_metrics_directory(service: str) -> None:
    """Points this process (and its children) at `$CS_METRICS_DIR/<service>`, the directory
    its web process's /metrics adds up (shared/metrics.py)."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the metrics directory was set")
    base = os.environ.get("CS_METRICS_DIR") or os.path.join(tempfile.gettempdir(), "cs-metrics")
    path = os.path.join(base, service)
    os.makedirs(path, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def _migrate(settings: Settings, services: list[str]) -> None:
    """Each service's schema, then its queues, declared as its own broker user."""
    from shared.broker import connect, declare_service_queues
    from shared.migrate import migrate
    from shared.service import load_service

    for name in services:
        spec = load_service(name)
        applied = migrate(settings, spec)
        conn = connect(settings, name=f"{name}-migrate", user=name)
        try:
            declare_service_queues(conn.channel(), settings, name, spec.handlers)
        finally:
            conn.close()
        log.info("%s: schema and queues up to date (%d migrations applied)", name, len(applied))


def _retire_queues(settings: Settings) -> None:
    """Queues no longer in use, after the new ones are declared and bound."""
    from shared.broker_admin import retire_queues

    for queue, moved in retire_queues(settings):
        if moved < 0:
            log.warning(
                "%s is no longer bound but still has consumers: stop them, then run cs migrate"
                " again (docs/operations.md, changing the number of partitions)",
                queue,
            )
        else:
            log.info("%s retired (%d message(s) moved to the partitions)", queue, moved)


def cmd_token(args: argparse.Namespace) -> int:
    from shared.auth import mint_token

    settings = Settings.from_env()
    settings.refuse_development_defaults(["CS_JWT_SECRET"])
    token = mint_token(
        settings.jwt_secret,
        args.subject,
        args.role,
        args.scope or (),
        ttl=timedelta(hours=args.ttl_hours),
        audience=args.audience or SERVICES,
    )
    print(token)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from shared.logs import configure_logging

    settings = Settings.from_env()
    settings.refuse_development_defaults(migrate_variables())
    configure_logging("cs-migrate", settings.log_level)
    from shared.broker_admin import BrokerAdminError, ensure_users

    try:
        log.info("broker users up to date: %s", ", ".join(ensure_users(settings)))
        _migrate(settings, list(SERVICES) if args.service == "all" else [args.service])
        _retire_queues(settings)
    except BrokerAdminError as e:
        print(f"cs migrate: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _process(args.service, "web")
    os.environ["CS_SERVICE"] = args.service
    os.environ["CS_PORT"] = str(args.port or os.environ.get("CS_PORT") or PORTS[args.service])
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    argv = [gunicorn, "-c", "python:shared.gunicorn_conf", f"services.{args.service}.wsgi:app"]
    os.execv(gunicorn, argv)
    return 1  # not reached


def cmd_relay(args: argparse.Namespace) -> int:
    settings = _process(args.service, "relay")
    from shared.relay import Relay

    Relay(settings, args.service, stop=_stop_on_signals()).run()
    return 0


def cmd_consume(args: argparse.Namespace) -> int:
    settings = _process(args.service, "consumer")
    from shared.consumer import Consumer
    from shared.service import load_service

    spec = load_service(args.service)
    Consumer(settings, args.service, spec.handlers, stop=_stop_on_signals()).run()
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    settings = _process(args.service, "scheduler")
    from shared.scheduler import Scheduler
    from shared.service import load_service

    spec = load_service(args.service)
    if spec.scheduled is None:
        print(f"cs: {args.service} has no scheduled work", file=sys.stderr)
        return 2
    Scheduler(settings, args.service, spec.scheduled, stop=_stop_on_signals()).run()
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Whether the named processes (every relay, consumer and scheduler when none is named) have
    a fresh heartbeat in their service's schema; `--here`: a process on this host (compose's
    health checks). Exit code 1 when one of them has none."""
    import socket

    import psycopg

    from shared.db import Database
    from shared.heartbeat import STALE_S, beats
    from shared.service import load_service

    settings = Settings.from_env()
    wanted: dict[str, list[str]] = {}
    for name in args.process or [f"{s}-{p}" for s in SERVICES for p in load_service(s).processes]:
        service, _, process = name.partition("-")
        if process not in load_service(service).processes:
            print(f"cs: {service} runs no {process}", file=sys.stderr)
            return 2
        wanted.setdefault(service, []).append(process)
    host = socket.gethostname() if args.here else None
    failing = 0
    for service, processes in wanted.items():
        db = Database(settings, service, max_size=1)
        try:
            with db.connect(connect_timeout=3) as conn:
                rows = beats(conn)
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f"{service}: cannot read its heartbeats: {reason}")
            failing += len(processes)
            continue
        for process in processes:
            mine = [b for b in rows if b.process == process and host in (None, b.host)]
            alive = [b for b in mine if b.alive]
            for b in alive:
                print(
                    f"{service}-{process}\tok\t{b.state}\t{b.host} pid {b.pid}"
                    f"\tbeat {b.age_s:.0f} s ago, up {b.up_s:.0f} s"
                )
            if not alive:
                failing += 1
                last = f"last beat {mine[0].age_s:.0f} s ago" if mine else "no heartbeat"
                where = f" on {host}" if host else ""
                print(
                    f"{service}-{process}\tNOT ALIVE{where}\t{last}"
                    f" (alive means a beat in the last {STALE_S:.0f} s)"
                )
    return 1 if failing else 0


def cmd_calendar(args: argparse.Namespace) -> int:
    """Routing's calendar from the command line: load an official year, list a year."""
    from services.routing import calendar_admin, queries
    from services.routing.domain.calendar_file import CalendarFileError, parse_schedule
    from shared.db import Database

    settings = Settings.from_env()
    db = Database(settings, "routing", max_size=1)
    try:
        if args.action == "import":
            try:
                with open(args.target, encoding="utf-8") as f:
                    year, days = parse_schedule(f.read())
            except (OSError, CalendarFileError) as e:
                print(f"cs: cannot load {args.target}: {e}", file=sys.stderr)
                return 1
            with db.transaction() as tx:
                result = calendar_admin.import_year(tx, year, days, "cli")
            print(
                f"{year}: {result['days']} days loaded,"
                f" {result['clocks_recomputed']} open clocks re-computed"
            )
        else:
            shown = queries.calendar_year(db, int(args.target))
            status = "official" if shown["official"] else "provisional (Mon-Fri + holidays)"
            print(f"{shown['year']}: {status}")
            for d in shown["exceptions"]:
                kind = "working" if d["working"] else "off"
                print(f"{d['day']}\t{kind}\t{d['reason']}\t({d['source']})")
    finally:
        db.close()
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from shared.dead_letters import list_dead_letters, replay_dead_letters

    settings = Settings.from_env()
    if args.action == "list":
        letters = list_dead_letters(settings, args.service)
        for d in letters:
            print(f"{d.message_id}\t{d.type}\t{d.failed_at or '-'}\t{d.error}")
        print(f"{len(letters)} dead letter(s) in {args.service}", file=sys.stderr)
    else:
        n = replay_dead_letters(settings, args.service, args.id)
        print(f"replayed {n} dead letter(s) to {args.service}")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    """Says plainly whether PostgreSQL and RabbitMQ answer, before anything starts."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    from shared.broker import connect

    settings = Settings.from_env()
    problems = []
    try:
        psycopg.connect(
            make_conninfo(settings.database_url, dbname="postgres"), connect_timeout=3
        ).close()
    except psycopg.Error as e:
        problems.append(
            f"PostgreSQL is not reachable at {_safe(settings.database_url)}: "
            f"{str(e).strip().splitlines()[0]}"
        )
    try:
        connect(settings, name="cs-check").close()
    except Exception as e:  # pika raises many kinds; all mean "not reachable"
        problems.append(
            f"RabbitMQ is not reachable at {_safe(settings.amqp_url)}: {type(e).__name__}"
            f" ({e or 'connection refused or timed out'})"
        )
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("PostgreSQL and RabbitMQ answer")
    return 1 if problems else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Loads a realistic history through the services' public APIs (shared/demo)."""
    from shared.demo.run import run

    return run(args)


def cmd_asyncapi(args: argparse.Namespace) -> int:
    """Prints (or writes) the AsyncAPI document of the event catalogue."""
    from pathlib import Path

    from shared.events.asyncapi import build_document, to_yaml

    text = to_yaml(build_document())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _safe(url: str) -> str:
    """A URL without its password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    return f"{parts.scheme}://{host}{parts.path}"


def build_parser() -> argparse.ArgumentParser:
    from shared.auth import MAX_TTL, ROLES, SCOPES

    max_hours = MAX_TTL.total_seconds() / 3600

    p = argparse.ArgumentParser(prog="cs", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("token", help="mint a bearer token for a staff member or a system")
    t.add_argument("--subject", required=True, help="staff id or system name")
    t.add_argument("--role", required=True, action="append", choices=ROLES, help="repeatable")
    t.add_argument("--scope", action="append", choices=SCOPES, help="extra permission")
    t.add_argument(
        "--ttl-hours",
        type=float,
        default=12.0,
        help=f"lifetime (default 12, at most {max_hours:g})",
    )
    t.add_argument(
        "--audience",
        action="append",
        choices=SERVICES,
        help="a service that accepts the token (repeatable; default: all four)",
    )
    t.set_defaults(func=cmd_token)

    m = sub.add_parser("migrate", help="create or update schemas, roles and broker queues")
    m.add_argument("service", nargs="?", default="all", choices=(*SERVICES, "all"))
    m.set_defaults(func=cmd_migrate)

    s = sub.add_parser("serve", help="run a service's web process (gunicorn)")
    s.add_argument("service", choices=SERVICES)
    s.add_argument("--port", type=int)
    s.set_defaults(func=cmd_serve)

    for name, func, text in (
        ("relay", cmd_relay, "publish a service's outbox"),
        ("consume", cmd_consume, "handle the events a service subscribes to"),
        ("schedule", cmd_schedule, "run a service's periodic work (clock warnings, breaches)"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("service", choices=SERVICES)
        c.set_defaults(func=func)

    h = sub.add_parser("health", help="whether relays, consumers and schedulers are alive")
    h.add_argument(
        "process",
        nargs="*",
        help="SERVICE-relay, -consumer or -scheduler, e.g. intake-relay (default: every one"
        " the Procfile runs)",
    )
    h.add_argument("--here", action="store_true", help="only a process on this host")
    h.set_defaults(func=cmd_health)

    cal = sub.add_parser("calendar", help="routing's working-day calendar")
    cal.add_argument("action", choices=("import", "show"))
    cal.add_argument("target", help="import: a CSV or JSON schedule file; show: a year")
    cal.set_defaults(func=cmd_calendar)

    d = sub.add_parser("dead-letters", help="list or replay a service's dead letters")
    d.add_argument("action", choices=("list", "replay"))
    d.add_argument("service", choices=SERVICES)
    d.add_argument("--id", help="replay only the event with this id")
    d.set_defaults(func=cmd_dead_letters)

    from services.intake.cli import register as register_intake

    register_intake(sub)

    c = sub.add_parser("check", help="say whether PostgreSQL and RabbitMQ answer")
    c.set_defaults(func=cmd_check)

    a = sub.add_parser("asyncapi", help="print the AsyncAPI document of the event catalogue")
    a.add_argument("--output", help="write it to this file instead, e.g. docs/asyncapi.yaml")
    a.set_defaults(func=cmd_asyncapi)

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
        url = f"http://127.0.0.1:{PORTS[name]}"
        demo.add_argument(f"--{name}-url", default=url, help=f"default {url}")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # pika logs every failed connection itself; the commands say what went wrong in one line
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:
        print(f"cs: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
