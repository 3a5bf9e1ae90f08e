from __future__ import annotations

import asyncio

from bot.edge.tasks import AckFirst, Inflight, within_budget


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


async def _waiting(gate: AckFirst, log: list[str]) -> asyncio.Task[None]:
    async def work() -> None:
        await gate.turn()
        log.append("work")

    task = asyncio.ensure_future(work())
    await asyncio.sleep(0.02)  # the work reaches its turn() and waits there
    return task


async def test_work_after_an_ack_waits_until_no_request_waits_for_its_ack() -> None:
    gate = AckFirst(quiet=0.01, max_wait=30)
    log: list[str] = []
    gate.begin()
    gate.begin()
    task = await _waiting(gate, log)
    gate.end()
    await asyncio.sleep(0.03)
    assert log == [], "one request is still waiting for its acknowledgement"
    log.append("acknowledged")
    gate.end()
    await task
    assert log == ["acknowledged", "work"]


async def test_a_request_in_the_quiet_moment_keeps_the_work_waiting() -> None:
    gate = AckFirst(quiet=0.05, max_wait=30)
    log: list[str] = []
    gate.begin()
    task = await _waiting(gate, log)
    gate.end()
    # The next click of the burst comes in before the quiet moment is over.
    with gate.acking():
        await asyncio.sleep(0.08)
        assert log == []
        log.append("acknowledged")
    await task
    assert log == ["acknowledged", "work"]


async def test_work_waits_no_longer_than_the_limit_however_long_a_burst_goes_on() -> None:
    gate = AckFirst(quiet=0.01, max_wait=0.05)
    log: list[str] = []
    gate.begin()
    task = await _waiting(gate, log)
    await task
    assert log == ["work"]
    gate.end()


async def test_work_with_no_request_waiting_goes_ahead_at_once() -> None:
    gate = AckFirst(quiet=30, max_wait=30)
    # No loop turn is needed: nothing is being acknowledged.
    step = gate.turn().__await__()
    try:
        next(step)
    except StopIteration:
        pass
    else:
        raise AssertionError("turn() waited with nothing to wait for")
