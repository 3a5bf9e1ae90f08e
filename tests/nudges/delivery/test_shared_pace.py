"""One workspace's send pace holds for every process that sends, through the store."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from nudges.delivery.pacing import Pacer
from nudges.delivery.shared_pace import shared_pace
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.ports import refusing_port

pytestmark = pytest.mark.postgres_only

RATE = 20.0
EACH = 15


async def _workspace(db: Database) -> int:
    async with db.session() as s:
        ws = Workspace(platform="slack", external_id="T1", name="One")
        s.add(ws)
        await s.commit()
        return ws.id


async def _sends(pacer: Pacer, count: int) -> list[float]:
    times = []
    for _ in range(count):
        assert await pacer.acquire()
        times.append(time.monotonic())
    return times


async def test_two_processes_sending_for_one_workspace_share_its_pace(db: Database) -> None:
    ws = await _workspace(db)
    # Two replicas, each with its own pacer at the operator's ceiling, one store between them.
    other = Database(db.url)
    try:
        first = Pacer(RATE, shared=shared_pace(db, ws))
        second = Pacer(RATE, shared=shared_pace(other, ws))
        started = time.monotonic()
        a, b = await asyncio.gather(_sends(first, EACH), _sends(second, EACH))
    finally:
        await other.dispose()
    took = max(a + b) - started
    # Each alone would be done in EACH / RATE seconds; together they keep one pace.
    assert took >= (2 * EACH - 2) / RATE, f"{2 * EACH} sends took {took:.2f} s"
    # Over any second, no more than the ceiling (and the early start of one slot) went out.
    stamps = sorted(a + b)
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= RATE + 2, busiest


async def test_too_many_on_one_process_pauses_the_other(db: Database) -> None:
    ws = await _workspace(db)
    first = Pacer(RATE, shared=shared_pace(db, ws))
    second = Pacer(RATE, shared=shared_pace(db, ws))
    assert await first.acquire()
    first.on_rate_limited(1.0)
    # The pause reaches the store in the background; wait for that write, however long it takes.
    await asyncio.gather(*first._pausing)
    started = time.monotonic()
    assert await second.acquire()
    assert time.monotonic() - started >= 0.8


async def test_sqlite_keeps_one_process_pacing_alone(tmp_path: object) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/pace.sqlite3")
    try:
        assert shared_pace(db, 1) is None
    finally:
        await db.dispose()


async def test_without_the_store_each_process_keeps_its_own_pace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with refusing_port() as port:
        db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/gone")
        try:
            pacer = Pacer(RATE, shared=shared_pace(db, 1))
            with caplog.at_level(logging.WARNING, logger="nudges.delivery.shared_pace"):
                started = time.monotonic()
                times = await _sends(pacer, 5)
                pacer.on_rate_limited(0.2)
                await asyncio.gather(*pacer._pausing)
        finally:
            await db.dispose()
    # Nothing raised, the sends kept this process's pace, and the operator was told once.
    assert times[-1] - started >= 3 / RATE
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
