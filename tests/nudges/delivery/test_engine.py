"""The tick over the rooms: what is due goes out at once, beside a planning pass still running."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import Planned
from nudges.domain import DeliveryStatus
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from tests.conftest import BACKEND
from tests.fault.harness import wait_for
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


class SlowPlanner:
    """Let the clock reach the stored rows' slot, then keep planning until they are out.

    It plans for ``most`` seconds at most: long enough for a loaded machine to send three rows
    beside it, where the rows can go out; the test says how long that is.
    """

    def __init__(self, clock: FakeClock, messenger: LookingMessenger, expect: int, most: float):
        self.clock = clock
        self.messenger = messenger
        self.expect = expect
        self.most = most
        self.posted_while_planning = 0

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        self.clock.advance(timedelta(minutes=5))
        await wait_for(lambda: sum(self.messenger.posts.values()) >= self.expect, self.most, 0.05)
        self.posted_while_planning = sum(self.messenger.posts.values())
        return Planned(0)


async def test_rows_falling_due_during_a_planning_pass_are_sent_without_waiting_for_it(
    db: Database,
) -> None:
    await seed(db, {"T1": 3})
    async with db.session() as s:
        # Planned ahead: due two minutes from now.
        await s.execute(update(Delivery).values(next_attempt_at=NOW + timedelta(minutes=2)))
        await s.commit()
    clock = FakeClock(NOW)
    messenger = LookingMessenger()
    dispatcher = make_dispatcher(db, clock, messenger)
    # On PostgreSQL the rows go out beside the planning pass, however long it takes them; on
    # SQLite, one writer, a planning transaction holds the lanes' writes back, so the rows go out
    # as soon as it commits, still within the same tick.
    postgres = BACKEND == "postgres"
    planner = SlowPlanner(clock, messenger, expect=3, most=30.0 if postgres else 1.5)
    dispatcher.add_planner(planner)
    result = await dispatcher.tick()
    assert result.sent == 3
    assert planner.posted_while_planning == (3 if postgres else 0)
    assert {r.status for r in await rows(db)} == {DeliveryStatus.SENT}


class Stamping:
    """A planner whose inputs change when the test says so."""

    def __init__(self) -> None:
        self.version = 1

    async def inputs_stamp(self, session: AsyncSession) -> int:
        return self.version

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        return Planned(0)


async def test_plans_are_outdated_until_a_pass_and_again_once_an_input_changes(
    db: Database,
) -> None:
    await seed(db, {"T1": 1})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    planner = Stamping()
    dispatcher.add_planner(planner)
    assert await dispatcher.plans_outdated()
    await dispatcher.plan()
    assert not await dispatcher.plans_outdated()
    planner.version = 2
    assert await dispatcher.plans_outdated()
    await dispatcher.plan()
    assert not await dispatcher.plans_outdated()
