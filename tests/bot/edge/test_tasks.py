from __future__ import annotations

import asyncio

from bot.edge.tasks import Inflight, within_budget


async def test_drain_waits_for_tracked_work_also_work_started_while_draining() -> None:
    inflight = Inflight()
    done: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.01)
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        inflight.spawn(second())
        done.append("first")

    inflight.spawn(first())
    assert len(inflight) == 1
    await inflight.drain()
    assert done == ["first", "second"]
    assert len(inflight) == 0


async def test_drain_gives_up_after_its_limit() -> None:
    inflight = Inflight()
    task = inflight.spawn(asyncio.sleep(10))
    await inflight.drain(0.01)
    assert not task.done()
    task.cancel()


async def test_work_within_budget_returns_its_result_and_slow_work_goes_on() -> None:
    quick = asyncio.ensure_future(asyncio.sleep(0, result="quick"))
    assert await within_budget(quick, 1.0) == "quick"
    slow = asyncio.ensure_future(asyncio.sleep(0.05, result="slow"))
    assert await within_budget(slow, 0.001) is None
    assert await slow == "slow"
