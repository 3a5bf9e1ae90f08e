"""What became of each delivery: the retry and back-off policy, and the writer of outcomes.

Outcomes are written in the background, a batch per transaction; while the database is away
they are held (never failed meanwhile) and written once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.ground import CANCELLED, FAILED, PENDING, SENDING, SENT, Ground
from nudges.delivery.outage import DB_ERRORS, Outage
from nudges.ports import DeliveryError
from nudges.store.deliveries import Delivery
from nudges.store.org import Person

logger = logging.getLogger(__name__)


@dataclass
class TickResult:
    """What one tick did."""

    planned: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: int = 0
    recovered: int = 0
    statuses: dict[int, str] = field(default_factory=dict)

    def count(self, delivery_id: int, status: str) -> None:
        """Add one delivery's outcome."""
        self.statuses[delivery_id] = status
        if status == SENT:
            self.sent += 1
        elif status == FAILED:
            self.failed += 1
        elif status == CANCELLED:
            self.cancelled += 1
        else:
            self.deferred += 1


@dataclass
class Outcome:
    """The result of one delivery, waiting to be written."""

    delivery_id: int
    status: str
    values: dict[str, Any]
    unreachable: tuple[int, str] | None = None


class RetryPolicy:
    """Decide when a delivery that did not go is tried again, and when it is given up."""

    def __init__(self, ground: Ground) -> None:
        self.ground = ground

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """Return how long to wait before the next attempt: exponential with jitter."""
        config = self.ground.config
        base = config.backoff_base * (2 ** max(0, attempts - 1))
        wait: timedelta = min(base, config.backoff_cap) * self.ground.rng.uniform(0.5, 1.5)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait

    def retry(
        self, delivery_id: int, attempts: int, reason: str, retry_after: float | None
    ) -> Outcome:
        """Queue the delivery again after a back-off, or fail it once out of attempts."""
        if attempts >= self.ground.config.max_attempts:
            logger.error("delivery %s failed after %d attempts: %s", delivery_id, attempts, reason)
            return Outcome(
                delivery_id,
                FAILED,
                {"status": FAILED, "last_error": f"gave up after {attempts} attempts: {reason}"},
            )
        logger.info("delivery %s will be tried again: %s", delivery_id, reason)
        return Outcome(
            delivery_id,
            "retry",
            {
                "status": PENDING,
                "last_error": reason,
                "next_attempt_at": self.ground.clock.now() + self.backoff(attempts, retry_after),
            },
        )

    def rate_limited(self, delivery_id: int, attempts: int, retry_after: float) -> Outcome:
        """Queue a rate-limited send again after Retry-After; being refused is no failed attempt."""
        wait = timedelta(seconds=retry_after * self.ground.rng.uniform(1.0, 1.5))
        logger.info("delivery %s rate-limited; queued again in %s", delivery_id, wait)
        return Outcome(
            delivery_id,
            "retry",
            {
                "status": PENDING,
                "last_error": "ratelimited",
                "attempts": attempts - 1,
                "next_attempt_at": self.ground.clock.now() + wait,
            },
        )

    def permanent(
        self, delivery_id: int, person_id: int, workspace_external_id: str, exc: DeliveryError
    ) -> Outcome:
        """Fail the delivery for good; a recipient problem marks the recipient unreachable."""
        values = {"status": FAILED, "last_error": exc.reason}
        if exc.scope == "recipient":
            logger.warning("delivery %s failed for good: %s", delivery_id, exc.reason)
            return Outcome(delivery_id, FAILED, values, (person_id, exc.reason))
        logger.error(
            "delivery %s failed (%s problem in workspace %s): %s",
            delivery_id,
            exc.scope,
            workspace_external_id,
            exc.reason,
        )
        return Outcome(delivery_id, FAILED, values)


class OutcomeWriter:
    """Write outcomes and hand untried rows back, holding both while the database is away."""

    def __init__(self, ground: Ground, outage: Outage) -> None:
        self.ground = ground
        self.outage = outage
        self.unrecorded: list[Outcome] = []
        self.unreleased: list[tuple[int, bool]] = []
        self._flush_lock = asyncio.Lock()

    async def write(self, session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
        """Write outcomes in as few statements as their shapes allow (one for a batch of sends).

        A write transaction on SQLite holds the one write lock across every await, so it is
        kept to a statement or two.
        """
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for outcome in outcomes:
            shape = tuple(sorted(outcome.values))
            params = {f"v_{key}": value for key, value in outcome.values.items()}
            shapes[shape].append({"v_id": outcome.delivery_id, **params})
        table = Delivery.__table__
        assert isinstance(table, Table)
        for shape, rows in shapes.items():
            stmt = (
                table.update()
                .where(
                    table.c.id == bindparam("v_id"),
                    table.c.status == SENDING,
                    table.c.claimed_by == self.ground.worker_id,
                )
                .values({key: bindparam(f"v_{key}", type_=table.c[key].type) for key in shape})
            )
            await session.execute(stmt, rows)
        for outcome in outcomes:
            if outcome.unreachable is not None:
                person_id, reason = outcome.unreachable
                await session.execute(
                    update(Person)
                    .where(Person.id == person_id)
                    .values(reachable=False, unreachable_reason=reason[:200])
                    .execution_options(synchronize_session=False)
                )

    async def release(self, session: AsyncSession, rows: Sequence[tuple[int, bool]]) -> None:
        """Hand never-attempted rows back to pending; their attempt does not count."""
        for in_doubt in (False, True):
            ids = [delivery_id for delivery_id, doubt in rows if doubt is in_doubt]
            if not ids:
                continue
            values: dict[str, Any] = {
                "status": PENDING,
                "claimed_by": None,
                "attempts": Delivery.attempts - 1,
            }
            if not in_doubt:
                values["send_started_at"] = None
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.id.in_(ids),
                    Delivery.status == SENDING,
                    Delivery.claimed_by == self.ground.worker_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def record(
        self, outcomes: Sequence[Outcome], release: Sequence[tuple[int, bool]]
    ) -> None:
        """Write a batch's outcomes in one transaction, or keep them until the database is back."""
        self.unrecorded.extend(outcomes)
        self.unreleased.extend(release)
        await self.flush()

    async def flush(self) -> None:
        """Write held outcomes and releases; on a database error keep them for the next try.

        One flush at a time: whoever waits finds the outcomes the lanes added meanwhile and
        writes them all in one transaction, and only what was written leaves the lists.
        """
        async with self._flush_lock:
            if not self.unrecorded and not self.unreleased:
                return
            outcomes, release = list(self.unrecorded), list(self.unreleased)
            try:
                async with self.ground.writing(), self.ground.db.session() as session:
                    await self.write(session, outcomes)
                    await self.release(session, release)
                    await session.commit()
            except DB_ERRORS as exc:
                self.outage.trouble(exc)
                return
            self.outage.fine()
            # Only appends happened while the lock was held, so the written ones lead the lists.
            del self.unrecorded[: len(outcomes)]
            del self.unreleased[: len(release)]
        if release:
            logger.info("handed %d claimed deliveries back to the queue", len(release))
