"""A tick that finds a slot's sends due sends them before it plans ahead; leases renew lightly."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.kinds import Planned
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


class Watching:
    """A planner that plans nothing and notes how many messages were out when it ran."""

    def __init__(self, messenger: LookingMessenger, stamp: Hashable | None) -> None:
        self.messenger = messenger
        self.stamp = stamp
        self.saw: list[int] = []

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        self.saw.append(sum(self.messenger.posts.values()))
        return Planned()


class Ahead(Watching):
    """A planner that plans ahead: it can say cheaply whether its inputs changed."""

    async def inputs_stamp(self, session: AsyncSession) -> Hashable:
        return self.stamp


async def test_plans_ahead_wait_for_the_slots_sends_and_what_is_due_now_does_not(
    db: Database,
) -> None:
    await seed(db, {"T1": 30})
    clock = FakeClock(NOW)
    messenger = LookingMessenger(delay=0.01)
    dispatcher = make_dispatcher(db, clock, messenger)
    ahead, now_due = Ahead(messenger, "cadences v1"), Watching(messenger, None)
    dispatcher.add_planner(ahead)
    dispatcher.add_planner(now_due)
    # The first tick knows no plan yet: it plans ahead beside the sends.
    await dispatcher.tick()
    assert ahead.saw and now_due.saw
    await seed(db, {"T2": 30})
    ahead.saw.clear()
    now_due.saw.clear()
    result = await dispatcher.tick()
    assert result.sent == 30
    # Nothing planning reads changed: the plan ahead ran once the slot's 60 messages were out,
    # what falls due now was planned while they went.
    assert ahead.saw and min(ahead.saw) == 60, ahead.saw
    assert now_due.saw and min(now_due.saw) < 60, now_due.saw
    # A changed cadence is planned beside the sends again.
    await seed(db, {"T3": 30})
    ahead.stamp = "cadences v2"
    ahead.saw.clear()
    await dispatcher.tick()
    assert ahead.saw and min(ahead.saw) < 90, ahead.saw


async def test_a_heartbeat_renews_only_claims_held_a_while(db: Database) -> None:
    await seed(db, {"T1": 3})
    clock = FakeClock(NOW)
    dispatcher = make_dispatcher(db, clock, LookingMessenger())
    await dispatcher.claim()
    clock.advance(timedelta(seconds=2))
    await dispatcher.claims.renew()
    assert {r.claimed_at for r in await rows(db)} == {NOW}
    clock.advance(timedelta(seconds=4))
    await dispatcher.claims.renew()
    assert {r.claimed_at for r in await rows(db)} == {NOW + timedelta(seconds=6)}
