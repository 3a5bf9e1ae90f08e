"""A workspace's lane: chunks claimed ahead, sent at the pace, outcomes written behind."""

from __future__ import annotations

import time

from nudges.delivery import EngineConfig
from nudges.delivery.outcomes import TickResult
from nudges.domain import DeliveryStatus
from nudges.ports import FakeClock
from nudges.store.database import Database
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


async def test_a_lane_starts_with_half_a_second_then_sends_in_bigger_chunks(
    db: Database,
) -> None:
    await seed(db, {"T1": 30, "T2": 5})
    messenger = LookingMessenger()
    config = EngineConfig(send_rate_per_workspace=20, initial_rate=20, batch_size=100)
    dispatcher = make_dispatcher(db, FakeClock(NOW), messenger, config)
    before = {r.id: r.workspace_id for r in await rows(db)}
    first = min(before.values())
    claims: list[int] = []
    claim = dispatcher.claims.claim

    async def counting(*args: object, **kwargs: object) -> list[int]:
        ids = await claim(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(len(ids))
        return ids

    dispatcher.claims.claim = counting  # type: ignore[method-assign]
    result = TickResult()
    started = time.monotonic()
    await dispatcher.lanes.lane(first, result)
    took = time.monotonic() - started
    assert result.sent == 30
    # 30 sends at 20 a second: about 1.5 s, never faster than the pace allows.
    assert took >= 1.3
    # Half a second's sending first (10 at 20/s), then one to three seconds' (20 to 60: the 20
    # left), then one empty look.
    assert claims == [10, 20, 0]
    after = await rows(db)
    assert {r.status for r in after if r.workspace_id == first} == {DeliveryStatus.SENT}
    assert {r.status for r in after if r.workspace_id != first} == {DeliveryStatus.PENDING}
    assert not dispatcher.claims.in_hand


async def test_send_claimed_sends_each_workspace_at_its_own_pacer(db: Database) -> None:
    await seed(db, {"T1": 3, "T2": 3})
    messenger = LookingMessenger()
    dispatcher = make_dispatcher(db, FakeClock(NOW), messenger)
    ids = await dispatcher.claim()
    result = TickResult()
    await dispatcher.lanes.send_claimed(ids, result)
    assert result.sent == 6 and set(messenger.posts.values()) == {1}
    workspaces = {r.workspace_id for r in await rows(db)}
    assert len({id(dispatcher.pacer(w)) for w in workspaces}) == 2
    assert dispatcher.pacer(min(workspaces)) is dispatcher.lanes.pacer(min(workspaces))
