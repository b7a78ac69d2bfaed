from pathlib import Path

from services.routing.app import create_app
from services.routing.calendar_seed import seed_official_years
from services.routing.handlers import EVENT_HANDLERS
from services.routing.queries import sla_clock_gauges
from services.routing.scheduler import tick
from shared.config import PORTS
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="routing",
    port=PORTS["routing"],
    migrations=Path(__file__).parent / "migrations",
    create_app=create_app,
    handlers=EVENT_HANDLERS,
    after_migrate=seed_official_years,
    scheduled=tick,
    facts=sla_clock_gauges,
)
