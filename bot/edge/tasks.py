"""Track work started after an acknowledgement, and give work a reply budget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Inflight:
    """Hold every task started after an acknowledgement, so tests and shutdown can wait for it."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``work`` and keep hold of it until it ends."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` as tracked work and return its result."""
        return await self.spawn(work)

    async def drain(self, limit: float | None = None) -> None:
        """Wait until no tracked work is left, or ``limit`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = None if limit is None else loop.time() + limit
        while self._tasks:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            if remaining == 0.0:
                logger.warning("%d edge tasks still running at shutdown", len(self._tasks))
                return
            await asyncio.wait(set(self._tasks), timeout=remaining)

    def __len__(self) -> int:
        return len(self._tasks)


async def within_budget(work: asyncio.Task[T], budget: float) -> T | None:
    """Return ``work``'s result if it ends within ``budget`` seconds, else None (it goes on)."""
    try:
        return await asyncio.wait_for(asyncio.shield(work), budget)
    except TimeoutError:
        return None


async def answer_within(
    inflight: Inflight,
    work: Coroutine[Any, Any, T],
    budget: float,
    *,
    now: Callable[[T | None], Awaitable[None]],
    later: Callable[[T], Awaitable[None]],
) -> T | None:
    """Run ``work``; acknowledge with ``now(result)`` within ``budget`` seconds, else ``now(None)``.

    When the result was not ready in time, ``later(result)`` follows once it is (tracked by
    ``inflight``). Returns the result if it came within the budget.
    """
    task = inflight.spawn(work)
    result = await within_budget(task, budget)
    await now(result)
    if result is None:
        await inflight.run(_follow_up(task, later))
    return result


async def _follow_up(task: Awaitable[T], later: Callable[[T], Awaitable[None]]) -> None:
    await later(await task)
