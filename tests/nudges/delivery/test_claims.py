from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.kinds import Planned
from nudges.domain import DeliveryStatus
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


async def test_a_claim_takes_exactly_its_batch_with_two_claimers_at_once(db: Database) -> None:
    await seed(db, {"T1": 60, "T2": 60})
    clock = FakeClock(NOW)
    messenger = LookingMessenger()
    first = make_dispatcher(db, clock, messenger)
    second = make_dispatcher(db, clock, messenger)
    a, b = await asyncio.gather(first.claim(limit=10), second.claim(limit=10))
    assert len(a) == 10 and len(b) == 10
    assert not set(a) & set(b)
    sending = [r for r in await rows(db) if r.status == DeliveryStatus.SENDING]
    assert sorted(r.id for r in sending) == sorted(a + b)
    assert {r.claimed_by for r in sending} == {first.worker_id, second.worker_id}


async def test_a_claim_takes_workspaces_in_turns_not_by_id(db: Database) -> None:
    await seed(db, {"T1": 20, "T2": 20, "T3": 20})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    claimed = set(await dispatcher.claim(limit=9))
    by_workspace = Counter(r.workspace_id for r in await rows(db) if r.id in claimed)
    assert sorted(by_workspace.values()) == [3, 3, 3]


async def test_a_lapsed_claim_that_never_started_is_pending_again_at_once(db: Database) -> None:
    ids = await seed(db, {"T1": 5})
    clock = FakeClock(NOW)
    messenger = LookingMessenger()
    dead = make_dispatcher(db, clock, messenger)
    assert await dead.claim() == ids  # and then the worker dies
    clock.advance(timedelta(seconds=21))
    successor = make_dispatcher(db, clock, messenger)
    result = await successor.tick()
    assert result.recovered == 5 and result.sent == 5
    assert all(not retry for _, retry in messenger.calls)
    assert set(messenger.posts.values()) == {1}
    assert {(r.status, r.attempts) for r in await rows(db)} == {(DeliveryStatus.SENT, 1)}


async def test_a_live_claim_is_left_alone(db: Database) -> None:
    await seed(db, {"T1": 3})
    clock = FakeClock(NOW)
    holder = make_dispatcher(db, clock, LookingMessenger())
    await holder.claim()
    clock.advance(timedelta(seconds=5))
    other = make_dispatcher(db, clock, LookingMessenger())
    assert (await other.tick()).sent == 0
    assert {r.status for r in await rows(db)} == {DeliveryStatus.SENDING}


async def test_an_in_doubt_send_is_retried_with_a_look_back_and_not_posted_twice(
    db: Database,
) -> None:
    ids = await seed(db, {"T1": 4})
    clock = FakeClock(NOW)
    messenger = LookingMessenger()
    messenger.hang_after = 1  # the first post lands, then the process dies before the answer
    dead = make_dispatcher(db, clock, messenger)
    tick = asyncio.create_task(dead.tick())
    await asyncio.wait_for(messenger.posted.wait(), 10)
    tick.cancel()
    await asyncio.gather(tick, return_exceptions=True)
    # Sends started before the cancel landed each posted and hung: all of them are in doubt.
    posted = {int(d) for d in messenger.posts}
    assert posted
    messenger.hang_after = None
    clock.advance(timedelta(seconds=21))
    successor = make_dispatcher(db, clock, messenger)
    result = await successor.tick()
    assert result.sent == len(ids)
    assert set(messenger.posts.values()) == {1}  # nothing posted twice, nothing lost
    assert len(messenger.posts) == len(ids)
    retried = {int(d) for d, retry in messenger.calls[len(posted) :] if retry}
    assert posted <= retried
    for row in await rows(db):
        if row.id in posted:
            assert row.status == DeliveryStatus.SENT and row.message_ref.endswith(
                f"|{row.id}.found"
            )


async def test_a_stop_finishes_the_message_in_hand_and_hands_the_rest_back(db: Database) -> None:
    ids = await seed(db, {"T1": 40})
    clock = FakeClock(NOW)
    messenger = LookingMessenger(delay=0.05)
    config = make_dispatcher(db, clock, messenger).config
    slow = type(config)(send_rate_per_workspace=20, lease=config.lease)
    worker = make_dispatcher(db, clock, messenger, slow)
    tick = asyncio.create_task(worker.tick())
    await asyncio.wait_for(messenger.posted.wait(), 10)
    worker.request_stop()
    result = await asyncio.wait_for(tick, 3)
    after = await rows(db)
    sent = [r for r in after if r.status == DeliveryStatus.SENT]
    rest = [r for r in after if r.status != DeliveryStatus.SENT]
    assert len(sent) == result.sent == sum(messenger.posts.values()) < len(ids)
    assert {(r.status, r.attempts, r.claimed_by, r.send_started_at) for r in rest} == {
        (DeliveryStatus.PENDING, 0, None, None)
    }
    # The next process sends the rest at once, each once.
    clock.advance(timedelta(seconds=1))
    assert (await make_dispatcher(db, clock, messenger).tick()).sent == len(rest)
    assert set(messenger.posts.values()) == {1} and len(messenger.posts) == len(ids)


async def test_outcomes_and_recoveries_are_counted_in_the_metrics(db: Database) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    sent = {"platform": "slack", "kind": "ping", "outcome": "sent"}
    before_sent = sample("nudgebot_deliveries_total", sent)
    before_released = sample("nudgebot_claims_recovered_total", {"state": "released"})
    await seed(db, {"T1": 3})
    clock = FakeClock(NOW)
    await make_dispatcher(db, clock, LookingMessenger()).claim()
    clock.advance(timedelta(seconds=21))
    await make_dispatcher(db, clock, LookingMessenger()).tick()
    assert sample("nudgebot_deliveries_total", sent) == before_sent + 3
    assert sample("nudgebot_claims_recovered_total", {"state": "released"}) == before_released + 3
    assert sample("nudgebot_queue_depth", {}) == 0


async def test_rows_of_a_platform_this_process_does_not_serve_wait_untouched(
    db: Database,
) -> None:
    await seed(db, {"T1": 2, "T2": 2})
    async with db.session() as s:
        other = await s.scalar(select(Workspace).where(Workspace.external_id == "T2"))
        assert other is not None
        other.platform = "teams"
        await s.commit()
    messenger = LookingMessenger()
    dispatcher = make_dispatcher(db, FakeClock(NOW), messenger)
    await dispatcher.tick()
    served = {r.status for r in await rows(db) if r.workspace_id != other.id}
    assert served == {DeliveryStatus.SENT.value}
    assert {r.status for r in await rows(db) if r.workspace_id == other.id} == {
        DeliveryStatus.PENDING.value
    }
    assert all(r.attempts == 0 for r in await rows(db) if r.workspace_id == other.id)
    assert await dispatcher.next_due() is None


class SlowPlanner:
    """A planner that plans nothing, slowly: the tick is still planning when it is cancelled."""

    def __init__(self) -> None:
        self.planning = asyncio.Event()

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        self.planning.set()
        await asyncio.sleep(3600)
        return Planned()


@pytest.mark.parametrize(
    "cancelled_while",
    [
        "sending",
        # On SQLite the store has one connection, so a planner asleep in its session would hold
        # every lane before anything is sent.
        pytest.param("planning", marks=pytest.mark.postgres_only),
    ],
)
async def test_a_cancelled_tick_ends_at_once_though_its_sends_hang(
    db: Database, cancelled_while: str
) -> None:
    await seed(db, {"T1": 4, "T2": 4})
    clock = FakeClock(NOW)
    messenger = LookingMessenger()
    messenger.hang_after = 1  # every send hangs once one has posted
    dispatcher = make_dispatcher(db, clock, messenger)
    planner = SlowPlanner()
    if cancelled_while == "planning":
        dispatcher.add_planner(planner)
    tick = asyncio.create_task(dispatcher.tick())
    await asyncio.wait_for(messenger.posted.wait(), 10)
    if cancelled_while == "planning":
        await asyncio.wait_for(planner.planning.wait(), 10)
    # Long enough for each lane to have started its chunk and wait for its sends to answer.
    await asyncio.sleep(0.3)
    tick.cancel()
    # What hung is left in doubt, as a crash leaves it; the cancel does not wait for it.
    done, _ = await asyncio.wait([tick], timeout=5)
    assert done, "the cancelled tick still waits for sends that never answer"
    assert {r.status for r in await rows(db)} <= {DeliveryStatus.SENDING, DeliveryStatus.PENDING}


@pytest.mark.postgres_only
async def test_a_lanes_claim_on_postgresql_is_a_plain_scan_of_its_workspace(db: Database) -> None:
    from sqlalchemy.dialects import postgresql

    from nudges.delivery.claims import _oldest_first
    from nudges.delivery.ground import PENDING
    from nudges.store.deliveries import Delivery

    await seed(db, {"T1": 200, "T2": 200})
    conditions = [
        Delivery.status == PENDING,
        Delivery.next_attempt_at <= NOW,
        Delivery.workspace_id == 1,
    ]
    stmt = _oldest_first(conditions, in_turns=False, limit=10).with_for_update(
        skip_locked=True, of=Delivery
    )
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with db.session() as session:
        plan = "\n".join((await session.execute(text(f"EXPLAIN {sql}"))).scalars().all())
    # Ranking workspaces in turns joins the table to a window over itself: with the statistics
    # of a table planning just filled, PostgreSQL ran that as a nested loop for up to 20 s.
    assert "WindowAgg" not in plan and "Nested Loop" not in plan, plan
