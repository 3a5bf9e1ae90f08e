"""Leases: the heartbeat renews this worker's claims, and rows in hand are never recovered."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from nudges.delivery import EngineConfig
from nudges.domain import DeliveryStatus
from nudges.ports import FakeClock
from nudges.store.database import Database
from tests.fault.harness import wait_for
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


async def test_the_heartbeat_renews_the_lease_so_no_one_else_recovers_it(db: Database) -> None:
    await seed(db, {"T1": 2})
    clock = FakeClock(NOW)
    config = EngineConfig(lease=timedelta(seconds=0.4))
    holder = make_dispatcher(db, clock, LookingMessenger(), config)
    await holder.claim()
    clock.advance(timedelta(seconds=10))
    beating = asyncio.create_task(holder.claims.heartbeat())
    renewed = {NOW + timedelta(seconds=10)}

    # Wait for the beat rather than a fixed time: a loaded machine may take longer than a
    # lease to run the first update, and only "never" is a failure here.
    async def beaten() -> bool:
        return {r.claimed_at for r in await rows(db)} == renewed

    await wait_for(beaten, 15, every=0.05)
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)
    assert {r.claimed_at for r in await rows(db)} == renewed
    other = make_dispatcher(db, clock, LookingMessenger(), config)
    assert await other.recover() == 0
    clock.advance(timedelta(seconds=1))
    assert await other.recover() == 2


async def test_own_claims_in_hand_stay_and_own_stale_claims_come_back(db: Database) -> None:
    ids = await seed(db, {"T1": 3})
    worker = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    await worker.claim()
    worker.claims.in_hand.discard(ids[0])  # as if a crashed lane had dropped it
    assert await worker.recover() == 1
    status = {r.id: r.status for r in await rows(db)}
    assert status == {
        ids[0]: DeliveryStatus.PENDING,
        ids[1]: DeliveryStatus.SENDING,
        ids[2]: DeliveryStatus.SENDING,
    }
