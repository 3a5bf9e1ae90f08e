"""Track work started after an acknowledgement, and give work a reply budget."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Work after an acknowledgement waits for a moment this long without a request being acked: longer
# than the gaps inside a burst of clicks, too short for a person to notice...
ACK_QUIET_SECONDS = 0.05
# ... but never longer than this, however long a burst goes on, so a note follows its click
# within seconds.
ACK_FIRST_MAX_WAIT = 3.0


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


class AckFirst:
    """Hold work that follows an acknowledgement while other requests still wait for theirs.

    The adapter marks each request until it is acknowledged (``acking``), and work after an
    acknowledgement awaits ``turn()`` before it starts. In a burst of clicks every click is so
    acknowledged before the stores, message updates and notes of the burst compete with the
    acknowledgements for the one event loop; that work starts once no request has been waiting
    for ``quiet`` seconds (it is then done in batches), or after ``max_wait`` seconds at most.
    """

    def __init__(
        self, *, quiet: float = ACK_QUIET_SECONDS, max_wait: float = ACK_FIRST_MAX_WAIT
    ) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self._acking = 0
        # Requests seen so far: a quiet moment is one in which this did not move.
        self._arrivals = 0
        # Insertion-ordered, so waiters start in the order they came.
        self._waiters: dict[asyncio.Future[None], None] = {}

    def begin(self) -> None:
        """Mark one more request as waiting for its acknowledgement."""
        self._acking += 1
        self._arrivals += 1

    def end(self) -> None:
        """Mark a request as acknowledged (or answered otherwise)."""
        self._acking -= 1
        if self._acking == 0 and self._waiters:
            loop = asyncio.get_running_loop()
            loop.call_later(self.quiet, self._release_if_quiet, self._arrivals)

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Mark one request as waiting for its acknowledgement while the block runs."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def _release_if_quiet(self, arrivals: int) -> None:
        if self._acking or arrivals != self._arrivals:
            return  # another request came in; its acknowledgement schedules the next check
        waiters, self._waiters = self._waiters, {}
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def turn(self) -> None:
        """Wait until no request has waited for its acknowledgement for a quiet moment."""
        if self._acking == 0 and not self._waiters:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters[future] = None
        if self._acking == 0:
            # Quiet already: still wait the quiet moment, in case the burst goes on.
            asyncio.get_running_loop().call_later(
                self.quiet, self._release_if_quiet, self._arrivals
            )
        try:
            await asyncio.wait_for(future, self.max_wait)
        except TimeoutError:
            self._waiters.pop(future, None)


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
