from pathlib import Path

from services.routing.app import create_app
from services.routing.commands.calendar import seed_official_years
from services.routing.commands.directory import announce_pending
from services.routing.handlers import EVENT_HANDLERS
from services.routing.queries import sla_clock_gauges
from services.routing.scheduler import tick
from shared.config import PORTS, Settings
from shared.db import Database
from shared.service import ServiceSpec


def after_migrate(db: Database, settings: Settings) -> None:
    """Seed data from Python: the official calendar years, and staff to announce again."""
    seed_official_years(db, settings)
    announce_pending(db, settings)


SPEC = ServiceSpec(
    name="routing",
    port=PORTS["routing"],
    migrations=Path(__file__).parent / "migrations",
    create_app=create_app,
    handlers=EVENT_HANDLERS,
    after_migrate=after_migrate,
    scheduled=tick,
    facts=sla_clock_gauges,
)
