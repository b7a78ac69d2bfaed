"""routing's manifest: what the shared machinery runs for it (see shared/service.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shared.service import ServiceSpec

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.db import Database


def after_migrate(db: Database, settings: Settings) -> None:
    """Seed data from Python: the official calendar years, and staff to announce again."""
    from services.routing.commands.calendar import seed_official_years
    from services.routing.commands.directory import announce_pending

    seed_official_years(db, settings)
    announce_pending(db, settings)


SPEC = ServiceSpec(
    name="routing",
    port=8082,
    migrations=Path(__file__).parent / "migrations",
    app="services.routing.app:create_app",
    wsgi="services.routing.wsgi:app",
    event_handlers="services.routing.handlers:EVENT_HANDLERS",
    after_migrate="services.routing.service:after_migrate",
    job="services.routing.scheduler:tick",
    facts="services.routing.queries:sla_clock_gauges",
    commands="services.routing.cli:register",
)
