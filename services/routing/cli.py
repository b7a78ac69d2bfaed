"""routing's `cs` commands: the working-day calendar (`cs calendar import|show`)."""

from __future__ import annotations

import argparse
import sys

from shared.config import Settings


def cmd_calendar(args: argparse.Namespace) -> int:
    """Routing's calendar from the command line: load an official year, list a year."""
    from services.routing import queries
    from services.routing.commands import calendar
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
                result = calendar.import_year(tx, year, days, "cli")
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


def register(sub: argparse._SubParsersAction) -> None:
    cal = sub.add_parser("calendar", help="routing's working-day calendar")
    cal.add_argument("action", choices=("import", "show"))
    cal.add_argument("target", help="import: a CSV or JSON schedule file; show: a year")
    cal.set_defaults(func=cmd_calendar)
