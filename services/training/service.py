from pathlib import Path

from services.training.app import create_app
from services.training.handlers import EVENT_HANDLERS
from services.training.scheduler import tick
from shared.config import PORTS
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="training",
    port=PORTS["training"],
    migrations=Path(__file__).parent / "migrations",
    create_app=create_app,
    handlers=EVENT_HANDLERS,
    scheduled=tick,
)
