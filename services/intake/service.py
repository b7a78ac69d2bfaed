from pathlib import Path

from services.intake.app import create_app
from services.intake.handlers import EVENT_HANDLERS
from shared.config import PORTS
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="intake",
    port=PORTS["intake"],
    migrations=Path(__file__).parent / "migrations",
    create_app=create_app,
    handlers=EVENT_HANDLERS,
)
