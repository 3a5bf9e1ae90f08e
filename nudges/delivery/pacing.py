"""Pace sends per workspace at the rate the platform answers, under an operator's ceiling.

A token bucket whose rate moves: it pauses for Retry-After when the platform says "too many"
and slows down if sends had been getting through, comes back to just under that pace soon, and
probes higher, slowly, only after a long calm spell of sending. Slack's one message per
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
# Back up to just under the pace that met the limit, the pace returns soon and fast: one refusal
# may have been a burst of late answers. Going beyond that pace, or beyond where it started, is a
# probe, made only after PROBE_CALM seconds of sending without a 429, at CREEP per second: each
# failed probe pauses the workspace and cuts its pace.
RECOVER_CALM = 2.0
RECOVER = 0.1
RECOVER_TO = 0.95
PROBE_CALM = 30.0
CREEP = 0.01
# The most time one success counts as calm. Time spent idle is not time the pace was tried: a
# pacer made when its lane first looked, long before the slot, took the wait as calm, probed from
# the slot's first second and met the platform's limit ten seconds in, in every workspace.
STEP_MOST = 1.0
# Tokens a late wake-up may catch up on: a send that starts a little late does not lower the
# pace, and the platform's own burst allowance covers the quarter of a send that may follow
# early. More would bunch sends after a stall, and a 429 costs a whole Retry-After.
CATCH_UP = 1.25
# A refusal within this long of the first send of a burst says the first sends bunched (while
# connections opened and every workspace's first chunk went out at once), not that the pace is
# too high: it pauses the workspace but does not cut the pace, which would cost the whole slot.
WARM_UP = 1.0


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
        # Seconds spent sending since the last 429 (or since the start).
        self._calm = 0.0
        self._crept_at = self._stamp
        # When the current burst of sends began (its first success after an idle spell).
        self._burst_began: float | None = None
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
        idle = now - max(self._crept_at, self._paused_until)
        if self._burst_began is None or idle > WARM_UP:
            self._burst_began = now
        step = min(STEP_MOST, max(0.0, idle))
        self._crept_at = now
        self._calm += step
        below = self._limited_at * RECOVER_TO if self._limited_at is not None else 0.0
        if self.rate < below and self._calm > RECOVER_CALM:
            since = min(step, self._calm - RECOVER_CALM)
            self.rate = min(below, self.rate * (1 + RECOVER * since))
        elif self.rate < self.ceiling and self._calm > PROBE_CALM:
            since = min(step, self._calm - PROBE_CALM)
            self.rate = min(self.ceiling, self.rate * (1 + CREEP * since))

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Pause for as long as the platform asked, and slow down if sends were getting through."""
        self.rate_limited += 1
        now = self._refill()
        if now < self._paused_until:
            # The other sends in flight met the same limit: one slow-down is enough.
            return
        warm = self._burst_began is not None and now - self._burst_began >= WARM_UP
        if self._since_cut and warm:
            # Only a 429 after sends got through for a while says our pace is too high; a storm
            # that refuses everything says nothing about it, and cutting again each time would
            # crawl after it.
            self._limited_at = self.rate
            self.rate = max(self.floor, self.rate * 0.85)
            self._since_cut = 0
        self._paused_until = now + (retry_after or 1.0)
        self._calm = 0.0
        self.tokens = min(self.tokens, 0.0)
        if self.shared is not None:
            task = asyncio.get_running_loop().create_task(self.shared.pause(retry_after or 1.0))
            self._pausing.add(task)
            task.add_done_callback(self._pausing.discard)
