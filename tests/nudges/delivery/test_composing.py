"""Composing a claimed batch: what goes becomes a job, what does not is settled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.outcomes import TickResult
from nudges.domain import DeliveryStatus
from nudges.messages import Message
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from tests.nudges.delivery.world import (
    NOW,
    PING,
    LookingMessenger,
    PingHandler,
    make_dispatcher,
    rows,
    seed,
)


class GoneHandler(PingHandler):
    """Content that no longer exists for odd ids."""

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message:
        if delivery.id % 2:
            return None  # type: ignore[return-value]
        return await super().compose(session, delivery, workspace, person, now)


async def test_a_batch_becomes_jobs_and_settled_outcomes_and_only_jobs_start(
    db: Database,
) -> None:
    ids = await seed(db, {"T1": 4})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    dispatcher.register_kind(PING, GoneHandler())
    async with db.session() as s:
        await s.execute(update(Delivery).where(Delivery.id == ids[0]).values(kind="unknown"))
        await s.commit()
    claimed = await dispatcher.claim()
    result = TickResult()
    jobs, settled = await dispatcher.composer.compose_batch(claimed, result)
    assert [job.delivery_id for job in jobs] == [i for i in ids[1:] if i % 2 == 0]
    assert {o.delivery_id for o, _, _ in settled} == set(ids) - {j.delivery_id for j in jobs}
    assert {kind for _, _, kind in settled} <= {"unknown", PING}
    assert all(not job.in_doubt and job.recipient.platform == "slack" for job in jobs)
    # Nothing is written while composing.
    assert {r.status for r in await rows(db)} == {DeliveryStatus.SENDING}
    await dispatcher.composer.start(jobs, settled, result)
    after = {r.id: r for r in await rows(db)}
    assert result.failed == len(settled)
    for job in jobs:
        assert after[job.delivery_id].send_started_at is not None
        assert after[job.delivery_id].status == DeliveryStatus.SENDING
    for outcome, _, _ in settled:
        assert after[outcome.delivery_id].status == DeliveryStatus.FAILED
        assert after[outcome.delivery_id].send_started_at is None


async def test_rows_claimed_by_another_worker_are_not_composed(db: Database) -> None:
    ids = await seed(db, {"T1": 2})
    other = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    await other.claim()
    mine = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    result = TickResult()
    jobs, settled = await mine.composer.compose_batch(ids, result)
    assert (jobs, settled) == ([], [])
    assert result.statuses == dict.fromkeys(ids, "not-ours")
