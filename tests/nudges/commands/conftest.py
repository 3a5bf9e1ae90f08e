"""Give command tests a small organisation, a fake clock and a service that sends in memory."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from nudges.coaching.interactions import Actor
from nudges.commands.service import CommandReply, CommandService
from nudges.content.catalogue import default_catalogue
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.audit import AuditEntry
from nudges.store.database import Database
from nudges.store.models import metadata
from nudges.store.org import Person, Workspace
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

# Monday 2026-11-23 09:00 in Amsterdam; the default cadence is Tuesday 10:00.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

ADMIN = Actor("slack", "T1", "UADMIN")
OWNER = Actor("slack", "T1", "UOWNER")
MEMBER = Actor("slack", "T1", "UA")
MANAGER = Actor("slack", "T1", "UMGR")

FAST = EngineConfig(send_rate_per_workspace=1000, initial_rate=1000)

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(db: Database) -> Snapshot:
    """Read every row of every table, in a stable order."""
    rows: Snapshot = {}
    async with db.session() as session:
        for table in metadata.sorted_tables:
            result = await session.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in result.all()]
    return rows


@dataclass
class Harness:
    """Run commands against a real database and look at what they did."""

    db: Database
    clock: FakeClock
    messenger: InMemoryMessenger
    dispatcher: Dispatcher
    service: CommandService
    ids: dict[str, int]

    async def run(
        self,
        text: str,
        actor: Actor = ADMIN,
        *,
        platform_admin: bool = False,
        prefix: str = "/nudges ",
    ) -> CommandReply:
        return await self.service.run(actor, text, prefix=prefix, is_platform_admin=platform_admin)

    async def person(self, external_id: str) -> Person | None:
        async with self.db.session() as session:
            found: Person | None = await session.scalar(
                select(Person).where(Person.external_id == external_id)
            )
            return found

    async def workspace(self) -> Workspace:
        async with self.db.session() as session:
            found = await session.get(Workspace, self.ids["__workspace__"])
            assert found is not None
            return found

    async def audit(self) -> list[AuditEntry]:
        async with self.db.session() as session:
            return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())

    async def update_person(self, external_id: str, **values: Any) -> None:
        async with self.db.session() as session:
            person = await session.scalar(select(Person).where(Person.external_id == external_id))
            assert person is not None
            for name, value in values.items():
                setattr(person, name, value)
            await session.commit()


def make_dispatcher(db: Database, clock: FakeClock, messenger: InMemoryMessenger) -> Dispatcher:
    return Dispatcher(
        db, clock, default_catalogue(), {"slack": messenger}, FAST, rng=random.Random(1)
    )


async def clear(db: Database) -> None:
    """Empty every table, children first."""
    async with db.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


async def build_harness(db: Database) -> Harness:
    """Build a workspace T1 with UMGR managing UA and UB, and UADMIN as a stored admin."""
    clock = FakeClock(MONDAY)
    messenger = InMemoryMessenger()
    ids = await make_org(db, created=MONDAY - timedelta(days=7), managers={"UMGR": ["UA", "UB"]})
    async with db.session() as session:
        admin = Person(
            workspace_id=ids["__workspace__"],
            external_id="UADMIN",
            is_admin=True,
            created_at=MONDAY - timedelta(days=7),
        )
        session.add(admin)
        await session.commit()
        ids["UADMIN"] = admin.id
    dispatcher = make_dispatcher(db, clock, messenger)
    return Harness(db, clock, messenger, dispatcher, CommandService(dispatcher), ids)


@pytest.fixture
async def harness(db: Database) -> Harness:
    """A workspace T1 with UMGR managing UA and UB, and UADMIN as a stored admin."""
    return await build_harness(db)
