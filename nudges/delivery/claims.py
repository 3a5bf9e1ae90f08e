"""Lease due deliveries to this worker, keep the lease alive, and hand back lapsed claims.

A worker claims a batch as a short lease that its heartbeat renews. When a lease lapses (the
worker died or lost the database), a row whose send never started goes straight back to
pending; a row whose send started is in doubt and is sent again with ``retry=True``, so the
messenger first looks for the message it may already have posted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update

from nudges.delivery import metrics
from nudges.delivery.ground import PENDING, SENDING, Ground
from nudges.delivery.outage import DB_ERRORS, Outage
from nudges.store.deliveries import Delivery

logger = logging.getLogger(__name__)

LAPSED_IN_DOUBT = "claim lapsed while sending; will look for the message first"


class Claims:
    """Leases on delivery rows taken by one worker, and the rows it holds in hand right now."""

    def __init__(self, ground: Ground, outage: Outage) -> None:
        self.ground = ground
        self.outage = outage
        # Claimed rows being composed or sent here: our own recovery never hands them back.
        self.in_hand: set[int] = set()

    async def claim(
        self, limit: int | None = None, only: int | None = None, workspace_id: int | None = None
    ) -> list[int]:
        """Lease exactly ``limit`` due pending deliveries (at most), fairly across workspaces."""
        ground = self.ground
        now = ground.clock.now()
        conditions = [Delivery.status == PENDING, Delivery.next_attempt_at <= now]
        if only is not None:
            conditions.append(Delivery.id == only)
        if workspace_id is not None:
            conditions.append(Delivery.workspace_id == workspace_id)
        limit = limit or ground.config.batch_size
        claim = {
            "status": SENDING,
            "claimed_by": ground.worker_id,
            "claimed_at": now,
            "attempts": Delivery.attempts + 1,
        }
        async with ground.writing(), ground.db.session() as session:
            postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
            in_turns = workspace_id is None and only is None
            chosen = _oldest_first(conditions, in_turns=in_turns, limit=limit)
            if postgres:
                # Lock exactly the chosen rows in a statement of their own (an IN-subquery with
                # FOR UPDATE is planned as a semi-join that takes the whole backlog); rows another
                # worker holds are skipped, so two claimers each get a full batch.
                locked = chosen.with_for_update(skip_locked=True, of=Delivery)
                ids = list((await session.scalars(locked)).all())
                target = Delivery.id.in_(ids)
            else:
                # SQLite takes the write lock when this one statement starts, so choosing and
                # taking the rows cannot interleave with another claimer.
                ids = [0]
                target = Delivery.id.in_(chosen)
            claimed: list[int] = []
            if ids:
                stmt = (
                    update(Delivery)
                    .where(target, Delivery.status == PENDING)
                    .values(**claim)
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
                claimed = list((await session.scalars(stmt)).all())
            await session.commit()
        # In hand from now on, so our own recovery never hands back a row being sent.
        self.in_hand.update(claimed)
        return sorted(claimed)

    async def recover(self) -> int:
        """Hand back claims that lapsed: to pending at once, or in doubt when a send had started."""
        ground = self.ground
        now = ground.clock.now()
        mine = Delivery.claimed_by == ground.worker_id
        if self.in_hand:
            mine = and_(mine, Delivery.id.not_in(list(self.in_hand)))
        lapsed = and_(
            Delivery.status == SENDING,
            or_(mine, Delivery.claimed_at < now - ground.config.lease),
        )
        started = Delivery.send_started_at.is_not(None)
        async with ground.writing(), ground.db.session() as session:
            # One statement for both kinds, since nearly every tick finds neither: a row that
            # never started loses the attempt it was not given; one that started is in doubt.
            rows = (
                await session.execute(
                    update(Delivery)
                    .where(lapsed)
                    .values(
                        status=PENDING,
                        claimed_by=None,
                        attempts=case(
                            (started, Delivery.attempts),
                            (Delivery.attempts > 0, Delivery.attempts - 1),
                            else_=0,
                        ),
                        next_attempt_at=case((started, now), else_=Delivery.next_attempt_at),
                        last_error=case((started, LAPSED_IN_DOUBT), else_=Delivery.last_error),
                    )
                    .returning(Delivery.id, Delivery.send_started_at)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            await session.commit()
        released = [row.id for row in rows if row.send_started_at is None]
        doubtful = [row.id for row in rows if row.send_started_at is not None]
        if released:
            metrics.RECOVERED.labels("released").inc(len(released))
            logger.warning("handed back %d lapsed claims that had not started", len(released))
        if doubtful:
            metrics.RECOVERED.labels("in_doubt").inc(len(doubtful))
            logger.warning(
                "%d lapsed claims had started sending; they will be checked before a re-send",
                len(doubtful),
            )
        return len(released) + len(doubtful)

    async def renew(self) -> None:
        """Renew the lease on every row this worker is sending that is a quarter lease old."""
        ground = self.ground
        now = ground.clock.now()
        # Most rows go out within seconds of their claim: renewing only those held a while keeps
        # this update small. Every row still gets renewed within half a lease of its claim (the
        # heartbeat beats every quarter), where locking all of them at once every few seconds
        # held the lanes' own writes back and sent them on together, into 429s.
        held_a_while = Delivery.claimed_at < now - ground.config.lease / 4
        async with ground.writing(), ground.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.claimed_by == ground.worker_id,
                    Delivery.status == SENDING,
                    held_a_while,
                )
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def heartbeat(self) -> None:
        """Renew the leases four times per lease until cancelled, riding out outages."""
        interval = max(self.ground.config.lease.total_seconds() / 4, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except DB_ERRORS as exc:
                self.outage.trouble(exc)


def _oldest_first(conditions: list[Any], *, in_turns: bool, limit: int) -> Select[int]:
    """Choose up to ``limit`` rows meeting ``conditions``, oldest first; workspaces in turns.

    A lane claims for one workspace, and then a plain ordered scan is all it takes: taking
    workspaces in turns joins the table to a window over itself, which PostgreSQL, with the
    statistics of a table just filled by planning, ran as a nested loop for up to 20 s.
    """
    if not in_turns:
        return (
            select(Delivery.id)
            .where(*conditions)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
    # Each workspace's oldest first, taken in turns, so no workspace hogs a batch.
    turn = (
        func.row_number()
        .over(partition_by=Delivery.workspace_id, order_by=(Delivery.next_attempt_at, Delivery.id))
        .label("turn")
    )
    ranked = select(Delivery.id, turn).where(*conditions).subquery()
    return (
        select(Delivery.id)
        .join(ranked, ranked.c.id == Delivery.id)
        .where(Delivery.status == PENDING)
        .order_by(ranked.c.turn, Delivery.id)
        .limit(limit)
    )
