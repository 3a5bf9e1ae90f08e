"""Pace Bot Connector calls under Teams' rate limits: per conversation and per tenant."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

# Per bot per conversation (send and create), from Teams' rate-limit page (LIMITS.md).
CONVERSATION_WINDOWS: tuple[tuple[int, float], ...] = (
    (7, 1.0),
    (8, 2.0),
    (60, 30.0),
    (1800, 3600.0),
)
# Global per app per tenant.
TENANT_WINDOWS: tuple[tuple[int, float], ...] = ((30, 1.0),)


class WindowLimiter:
    """Hold a caller back so no key exceeds any of its (count, seconds) sliding windows."""

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.windows = windows
        self._clock = clock
        self._sleep = sleep
        self._longest = max(seconds for _, seconds in windows)
        self._history: dict[str, deque[float]] = defaultdict(deque)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def delay(self, key: str) -> float:
        """Return how long ``key`` must wait before its next request."""
        now = self._clock()
        history = self._history[key]
        while history and now - history[0] >= self._longest:
            history.popleft()
        wait = 0.0
        for count, seconds in self.windows:
            recent = [t for t in history if now - t < seconds]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + seconds - now)
        return wait

    async def acquire(self, key: str) -> None:
        """Wait until ``key`` may send, then count the send."""
        async with self._locks[key]:
            while (wait := self.delay(key)) > 0:
                await self._sleep(wait)
            self._history[key].append(self._clock())
