from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text

from nudges.content.catalogue import default_catalogue
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.services.ticker import JOB_ID, POLL_ID, Ticker
from nudges.store.database import Database
from nudges.store.org import Person
from tests.conftest import BACKEND
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.fault.harness import sample_nudge_key
from tests.nudges.orgs import make_org

SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _ticker(
    db: Database, clock: FakeClock, messenger: InMemoryMessenger, replica: str = "local"
) -> Ticker:
    dispatcher = Dispatcher(
        db,
        clock,
        default_catalogue(),
        {"slack": messenger},
        EngineConfig(send_rate_per_workspace=1000, initial_rate=1000),
        rng=random.Random(0),
    )
    return Ticker(dispatcher, interval_seconds=30, replica=replica)


def _active(replica: str) -> float | None:
    return REGISTRY.get_sample_value("nudgebot_scheduler_active", {"replica": replica})


async def test_the_metrics_say_which_replica_is_the_active_scheduler(
    db: Database, database_url: str
) -> None:
    clock = FakeClock(SLOT)
    messenger = InMemoryMessenger()
    other = Database(database_url)
    a, b = f"a-{uuid.uuid4().hex[:6]}", f"b-{uuid.uuid4().hex[:6]}"
    first, second = _ticker(db, clock, messenger, a), _ticker(other, clock, messenger, b)
    try:
        assert (_active(a), _active(b)) == (0, 0)
        await first.tick()
        await second.tick()
        if BACKEND == "postgres":
            assert (_active(a), _active(b)) == (1, 0)
            await first.stop()
            await second.tick()
            assert (_active(a), _active(b)) == (0, 1)
        else:
            # One SQLite file has one process: every ticker there is its active scheduler.
            assert (_active(a), _active(b)) == (1, 1)
    finally:
        await first.stop()
        await second.stop()
        await other.dispose()
    assert (_active(a), _active(b)) == (0, 0)


async def test_one_active_scheduler_and_a_standby_that_takes_over(
    db: Database, database_url: str
) -> None:
    await make_org(db, created=SLOT.replace(day=20), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT)
    messenger = InMemoryMessenger()
    other = Database(database_url)
    first, second = _ticker(db, clock, messenger), _ticker(other, clock, messenger)
    try:
        assert await first.tick() is not None
        assert first.is_leader
        standby = await second.tick()
        if BACKEND == "postgres":
            # The advisory lock is held by the first: the second waits and does nothing.
            assert standby is None
            assert not second.is_leader
            await first.stop()
            assert await second.tick() is not None
            assert second.is_leader
        else:
            # SQLite runs a single process; every ticker acts, and claims keep sends unique.
            assert standby is not None
        assert len(messenger.sent) == 1
    finally:
        await first.stop()
        await second.stop()
        await other.dispose()


async def test_a_failing_tick_is_logged_and_the_next_one_runs(db: Database) -> None:
    clock = FakeClock(SLOT)
    ticker = _ticker(db, clock, InMemoryMessenger())
    await db.dispose()
    broken = Database("sqlite+aiosqlite:////nonexistent-dir/never.sqlite3")
    ticker.dispatcher.db = broken
    try:
        assert await ticker.tick() is None  # an error, caught, not raised into APScheduler
    finally:
        await broken.dispose()
        await ticker.stop()


async def test_start_registers_one_coalescing_job(db: Database) -> None:
    ticker = _ticker(db, FakeClock(SLOT), InMemoryMessenger())
    ticker.start()
    try:
        job = ticker.scheduler.get_job(JOB_ID)
        assert job is not None
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == 300
        poll = ticker.scheduler.get_job(POLL_ID)
        assert poll is not None
        assert poll.coalesce is True
        assert {j.id for j in ticker.scheduler.get_jobs()} == {JOB_ID, POLL_ID}
    finally:
        await ticker.stop()
    assert not ticker.scheduler.running


@pytest.mark.postgres_only
async def test_a_leader_that_lost_its_lock_connection_steps_down(
    db: Database, database_url: str
) -> None:
    clock = FakeClock(SLOT)
    other = Database(database_url)
    first, second = (
        _ticker(db, clock, InMemoryMessenger()),
        _ticker(other, clock, InMemoryMessenger()),
    )
    try:
        assert await first.tick() is not None
        assert first._lock_conn is not None
        pid = await first._lock_conn.scalar(text("SELECT pg_backend_pid()"))
        await first._lock_conn.commit()
        async with other.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert await first.tick() is None
        assert not first.is_leader
        assert await second.tick() is not None
        assert second.is_leader
    finally:
        await first.stop()
        await second.stop()
        await other.dispose()


async def test_a_row_that_fell_due_outside_a_tick_is_sent_by_the_poll(db: Database) -> None:
    ids = await make_org(db, created=SLOT.replace(day=20), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT)
    messenger = InMemoryMessenger()
    ticker = _ticker(db, clock, messenger)
    try:
        # Before the first tick elected this scheduler, the poll leaves everything to the tick.
        assert await ticker.poll_due() is None
        assert await ticker.tick() is not None
        sent = len(messenger.sent)
        assert await ticker.poll_due() is None  # nothing due: no tick
        async with db.session() as session:
            workspace_id = await session.scalar(select(Person.workspace_id).limit(1))
            await ticker.dispatcher.insert_delivery(
                session,
                idempotency_key="sample:poll",
                kind="sample",
                workspace_id=workspace_id,
                recipient_id=ids["UA"],
                content_key=sample_nudge_key(),
                scheduled_at=SLOT,
                payload={"explicit": True, "reason_params": {}},
            )
            await session.commit()
        result = await ticker.poll_due()
        assert result is not None
        assert result.sent == 1
        assert len(messenger.sent) == sent + 1
    finally:
        await ticker.stop()
