"""Training's periodic work (run by `cs schedule training`): once a day (Asia/Shanghai), the
compliance check (commands/compliance.py)."""

from __future__ import annotations

from datetime import datetime

from services.training.commands import compliance
from shared.clock import SHANGHAI
from shared.db import Database


def tick(db: Database, now: datetime) -> int:
    """The day's check, if it has not run today; returns the new flags."""
    with db.transaction() as tx:
        return compliance.daily_check(tx, now.astimezone(SHANGHAI).date(), now)
