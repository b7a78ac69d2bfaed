from pathlib import Path

from services.followup.app import create_app
from services.followup.handlers import EVENT_HANDLERS
from shared.config import PORTS
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="followup",
    port=PORTS["followup"],
    migrations=Path(__file__).parent / "migrations",
    create_app=create_app,
    handlers=EVENT_HANDLERS,
)
