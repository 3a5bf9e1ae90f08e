from __future__ import annotations

import asyncio

from bot.edge.locks import KeyedLocks, LastClickWins


async def test_work_on_one_key_runs_in_order_and_other_keys_run_alongside() -> None:
    locks = KeyedLocks()
    log: list[str] = []

    async def work(key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            log.append(f"start {name}")
            await asyncio.sleep(pause)
            log.append(f"end {name}")

    await asyncio.gather(work("a", "a1", 0.05), work("a", "a2", 0), work("b", "b1", 0))
    assert log.index("end a1") < log.index("start a2")
    assert log.index("start b1") < log.index("end a1")
    assert len(locks) == 0


async def test_an_idle_lock_is_forgotten_even_after_an_error() -> None:
    locks = KeyedLocks()
    try:
        async with locks.hold("a"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert len(locks) == 0


def test_an_older_click_than_one_applied_is_stale() -> None:
    order = LastClickWins()
    assert not order.is_stale("m", 10.0)
    order.applied("m", 10.0)
    assert order.is_stale("m", 9.5)
    assert not order.is_stale("m", 10.5)
    assert not order.is_stale("other", 1.0)
    # A click without a time is never dropped and moves nothing.
    assert not order.is_stale("m", None)
    order.applied("m", None)
    order.applied("m", 8.0)
    assert order.is_stale("m", 9.9)


def test_the_click_memory_is_bounded() -> None:
    order = LastClickWins(memory=2)
    for n, key in enumerate(("a", "b", "c")):
        order.applied(key, float(n + 10))
    assert not order.is_stale("a", 0.0)
    assert order.is_stale("c", 0.0)


def test_an_older_click_is_stale_as_soon_as_a_newer_one_arrived() -> None:
    order = LastClickWins()
    order.arrived("m", 12.0)
    # Not yet applied, but the person's last click is the newer one: the older need not run.
    assert order.is_stale("m", 11.0)
    assert not order.is_stale("m", 12.0)
    order.applied("m", 11.5)
    assert order.is_stale("m", 11.9)
