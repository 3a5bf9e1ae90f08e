"""What every room of delivery shares: the tunables, the statuses, and this worker's ground."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nudges.domain import DeliveryStatus
from nudges.ports import Clock, Messenger
from nudges.store.database import Database

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value
SENT = DeliveryStatus.SENT.value
FAILED = DeliveryStatus.FAILED.value
CANCELLED = DeliveryStatus.CANCELLED.value


@dataclass(frozen=True)
class EngineConfig:
    """Tunables of the dispatcher."""

    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    # How far back a tick still plans an occurrence it missed (downtime, a slow tick).
    lookback: timedelta = timedelta(hours=12)
    # How far ahead planners store a slot's deliveries (the chosen nudge and all), so that at
    # the slot only sending remains. Shorter than the shortest cadence period, so a plan is
    # made after the period before it went out.
    plan_ahead: timedelta = timedelta(hours=2)
    # Deliveries a planner stores in one workspace before the next workspace has its turn.
    plan_chunk: int = 100
    batch_size: int = 100
    # A ceiling per workspace: sends go at the pace the platform answers, never above this.
    send_rate_per_workspace: float = 20.0
    # Where the pace starts (None: just under Slack's limit, or the ceiling if lower); it slows
    # on "too many" and comes back (see pacing).
    initial_rate: float | None = None
    # Sends of one workspace waiting for the platform at the same time.
    max_in_flight: int = 4
    # A claim not renewed for this long belongs to a worker that died or lost the database.
    lease: timedelta = timedelta(seconds=20)
    # "Too many requests" answers waited out in place (when the wait asked for is short) before
    # the row goes back to the queue.
    rate_limit_retries: int = 3
    rate_limit_wait: float = 5.0
    # The longest a workspace's sending pauses for one Retry-After.
    max_pause: float = 120.0


class Ground:
    """The store, clock, messengers and tunables of one worker, and whether it is stopping.

    Every room holds the same ground, so pointing the dispatcher at another database (as an
    outage test does) moves them all.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        messengers: MutableMapping[str, Messenger],
        config: EngineConfig,
        worker_id: str,
        rng: random.Random,
    ) -> None:
        self.db = db
        self.clock = clock
        self.messengers = messengers
        self.config = config
        self.worker_id = worker_id
        self.rng = rng
        self.stopping = False
        self._sqlite_writes = asyncio.Lock()

    def is_stopping(self) -> bool:
        """Tell whether a stop was requested."""
        return self.stopping

    def platforms(self) -> list[str]:
        """Return the platforms this worker serves (those it has a messenger for)."""
        return list(self.messengers)

    def writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Hold this process's writers in turn on SQLite; on PostgreSQL let them overlap.

        SQLite has one write lock, and a writer that finds it taken sleeps in growing steps
        (up to a tenth of a second) before it looks again: twenty lanes contending for it lose
        whole seconds, and under load one can starve past the busy timeout. Queued here they
        take it one after another without sleeping.
        """
        if self.db.engine.dialect.name == "sqlite":
            return self._sqlite_writes
        return contextlib.nullcontext()
