"""Pace sends per workspace at the rate the platform answers, under an operator's ceiling.

A token bucket whose rate moves: it halves and pauses for Retry-After when the platform says
"too many", and creeps back towards the ceiling while sends go through. Slack's one message per
second per channel allows short bursts, and a DM is its own channel, so only the workspace-wide
pace needs holding.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

# Where the pace starts when the operator's ceiling is higher: just under the 20 posts a second
# to different DMs of one workspace that Slack allows before it answers 429. Right at a limit,
# every send that leaves a little late and reaches it bunched with the next spends the
# platform's burst allowance for good, until a 429 pauses the whole workspace.
DEFAULT_START = 19.0
# After a 429, this long without another before the pace creeps up again, at CREEP per second.
CALM = 10.0
CREEP = 0.01
# Back up to just under the pace that met the limit, the pace returns sooner and faster: one
# refusal may have been a burst of late answers, and only going beyond that pace is a probe,
# made only after PROBE_CALM without a 429 (each failed probe pauses the workspace).
RECOVER_CALM = 2.0
RECOVER = 0.1
RECOVER_TO = 0.95
PROBE_CALM = 30.0
# The most time one success counts towards creeping up. Time spent idle is not time the pace
# was tried: a pacer made when its lane first looked, long before the slot, took its first
# success as forty seconds of calm and started the slot at 1.4 times its pace, into a run of
# 429s every second until repeated cuts brought it back.
STEP_MOST = 1.0
# Tokens a late wake-up may catch up on: a send that starts a little late does not lower the
# pace, and the platform's own burst allowance covers the quarter of a send that may follow
# early. More would bunch sends after a stall, and a 429 costs a whole Retry-After.
CATCH_UP = 1.25


class Slots(Protocol):
    """A schedule the workspace's sends share with other processes (see ``shared_pace``)."""

    async def slot(self, rate: float) -> float:
        """Take the next slot at ``rate``; return the seconds to wait for it."""
        ...

    async def pause(self, seconds: float) -> None:
        """Hold every process's sends for ``seconds``."""
        ...


class Pacer:
    """An adaptive token bucket for one workspace, within a shared schedule when given one."""

    def __init__(
        self,
        ceiling: float,
        *,
        start: float | None = None,
        burst: float | None = None,
        floor: float = 0.2,
        monotonic: Callable[[], float] = time.monotonic,
        shared: Slots | None = None,
    ) -> None:
        self.ceiling = ceiling
        self.shared = shared
        self._pausing: set[asyncio.Task[None]] = set()
        self.floor = min(floor, ceiling)
        self.rate = min(start or DEFAULT_START, ceiling)
        # No burst of our own by default beyond catching up on late wake-ups: the platform's
        # burst allowance is its margin, not ours.
        self.burst = burst if burst is not None else CATCH_UP
        self.tokens = self.burst
        self._now = monotonic
        self._stamp = monotonic()
        self._paused_until = 0.0
        self._calm_since = self._stamp
        self._crept_at = self._stamp
        self.rate_limited = 0
        self._since_cut = 0
        # The pace at which the platform last said "too many", if it ever did.
        self._limited_at: float | None = None

    def _refill(self) -> float:
        now = self._now()
        self.tokens = min(self.burst, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return now

    def wait_time(self) -> float:
        """Return how long to wait before the next send may start (0 when it may now)."""
        now = self._refill()
        return max(0.0, self._paused_until - now, (1.0 - self.tokens) / self.rate)

    async def acquire(self, stopping: Callable[[], bool] = lambda: False) -> bool:
        """Wait for a token and take it; return False, taking none, if told to stop meanwhile."""
        while (wait := self.wait_time()) > 0:
            if stopping():
                return False
            # In slices, so a stop is heard within a quarter second even during a long pause.
            await asyncio.sleep(min(wait, 0.25))
        if stopping():
            return False
        self.tokens -= 1.0
        if self.shared is not None:
            wait = await self.shared.slot(self.rate)
            while wait > 0:
                if stopping():
                    return False
                await asyncio.sleep(min(wait, 0.25))
                wait -= 0.25
        return True

    def on_success(self) -> None:
        """Creep up slowly once calm: each probe above the platform's limit costs a pause."""
        now = self._now()
        self._since_cut += 1
        calm = now - self._calm_since
        below = self._limited_at * RECOVER_TO if self._limited_at is not None else 0.0
        if self.rate < below and calm >= RECOVER_CALM:
            since = min(STEP_MOST, now - max(self._crept_at, self._calm_since + RECOVER_CALM))
            self.rate = min(below, self.rate * (1 + RECOVER * since))
        elif self.rate < self.ceiling and calm >= (
            CALM if self._limited_at is None else PROBE_CALM
        ):
            since = min(STEP_MOST, now - self._crept_at)
            self.rate = min(self.ceiling, self.rate * (1 + CREEP * since))
        self._crept_at = now

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Pause for as long as the platform asked, and slow down if sends were getting through."""
        self.rate_limited += 1
        now = self._refill()
        if now < self._paused_until:
            # The other sends in flight met the same limit: one slow-down is enough.
            return
        if self._since_cut:
            # Only a 429 after sends got through says our pace is too high; a storm that refuses
            # everything says nothing about it, and cutting again each time would crawl after it.
            self._limited_at = self.rate
            self.rate = max(self.floor, self.rate * 0.85)
            self._since_cut = 0
        self._paused_until = now + (retry_after or 1.0)
        self._calm_since = self._paused_until
        self.tokens = min(self.tokens, 0.0)
        if self.shared is not None:
            task = asyncio.get_running_loop().create_task(self.shared.pause(retry_after or 1.0))
            self._pausing.add(task)
            task.add_done_callback(self._pausing.discard)
