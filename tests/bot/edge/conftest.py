"""Give the edge tests the core on a real database and a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import default_catalogue
from nudges.ports import FakeClock
from nudges.services import Services
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def services(db: Database, clock: FakeClock) -> Services:
    dispatcher = Dispatcher(db, clock, default_catalogue(), {}, EngineConfig())
    return Services(
        db=db,
        clock=clock,
        catalogue=dispatcher.catalogue,
        dispatcher=dispatcher,
        interactions=Interactions(dispatcher, dispatcher.catalogue),
    )
