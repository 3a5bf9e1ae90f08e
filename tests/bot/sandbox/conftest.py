from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox.clock import SandboxClock
from bot.sandbox.edge import SandboxEdge
from bot.server import create_web_app
from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import default_catalogue
from nudges.services import Services
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database

AMS = ZoneInfo("Europe/Amsterdam")
# A Monday morning with no holiday near, so the week ahead plays out the same on every run.
START = datetime(2027, 3, 1, 9, 0, tzinfo=AMS)


@dataclass
class Sandbox:
    client: TestClient
    edge: SandboxEdge
    services: Services
    clock: SandboxClock


def sandbox_services(db: Database, clock: SandboxClock) -> Services:
    catalogue = default_catalogue()
    dispatcher = Dispatcher(db, clock, catalogue, {}, EngineConfig(send_rate_per_workspace=50))
    return Services(
        db=db,
        clock=clock,
        catalogue=catalogue,
        dispatcher=dispatcher,
        interactions=Interactions(dispatcher, dispatcher.catalogue),
    )


@pytest.fixture
async def sandbox(db: Database) -> AsyncIterator[Sandbox]:
    clock = SandboxClock(movable=True, start=START)
    services = sandbox_services(db, clock)
    # These tests play the weeks themselves, from an organisation without a past.
    edge = SandboxEdge(services, clock, history_weeks=0)
    await edge.start()
    app = create_web_app(db)
    edge.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield Sandbox(client, edge, services, clock)
    await edge.stop()
