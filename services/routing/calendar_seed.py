"""Seeds the calendar with the official schedules the chinese-calendar package knows.

Runs after every migration; a year already loaded (from the package or by an operator) is left
as it is, so an operator's import is never overwritten.
"""

from __future__ import annotations

import logging

from shared.config import Settings
from shared.db import Database
from shared.workdays import official_exceptions, official_years_available

log = logging.getLogger(__name__)
SOURCE = "chinese-calendar"


def seed_official_years(db: Database, _settings: Settings | None = None) -> list[int]:
    """Loads every year the package covers that is not loaded yet; returns those loaded."""
    with db.transaction() as tx:
        loaded = {r[0] for r in tx.execute("SELECT year FROM calendar_years").fetchall()}
        new_years = [y for y in official_years_available() if y not in loaded]
        rows = []
        for year in new_years:
            for day, (working, reason) in sorted((official_exceptions(year) or {}).items()):
                rows.append((day, working, reason, SOURCE))
        if rows:
            with tx.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO calendar_days (day, working, reason, source)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (day) DO NOTHING",
                    rows,
                )
        for year in new_years:
            tx.execute(
                "INSERT INTO calendar_years (year, source, loaded_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (year, SOURCE, tx.now),
            )
    if new_years:
        log.info(
            "calendar: loaded %d official years (%d-%d)",
            len(new_years),
            new_years[0],
            new_years[-1],
        )
    return new_years
