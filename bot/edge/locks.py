"""Serialise clicks on one message, and let the last click win."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Past this many remembered messages, the least recently clicked are forgotten.
CLICK_MEMORY = 10_000


class KeyedLocks:
    """Serialise work per key (one person's clicks on one message) without keeping idle locks."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock for ``key``; waiters get it in the order they asked."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class LastClickWins:
    """Remember the newest click per key, so an older click is dropped once a newer one came.

    A click is dropped when a newer one was applied, or has arrived and waits its turn: the
    person's last click is the one that counts, so the older one need not be applied at all.
    """

    def __init__(self, memory: int = CLICK_MEMORY) -> None:
        self._memory = memory
        self._newest: OrderedDict[str, float] = OrderedDict()

    def is_stale(self, key: str, clicked_at: float | None) -> bool:
        """Say whether a newer click than ``clicked_at`` arrived or was applied for ``key``."""
        if clicked_at is None:
            return False
        newest = self._newest.get(key)
        return newest is not None and clicked_at < newest

    def arrived(self, key: str, clicked_at: float | None) -> None:
        """Record that the click made at ``clicked_at`` came in for ``key``."""
        self._note(key, clicked_at)

    def applied(self, key: str, clicked_at: float | None) -> None:
        """Record that the click made at ``clicked_at`` was applied for ``key``."""
        self._note(key, clicked_at)

    def _note(self, key: str, clicked_at: float | None) -> None:
        if clicked_at is None:
            return
        self._newest[key] = max(clicked_at, self._newest.get(key, clicked_at))
        self._newest.move_to_end(key)
        while len(self._newest) > self._memory:
            self._newest.popitem(last=False)
