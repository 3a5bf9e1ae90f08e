"""Hold one workspace's send pace for every process that sends, through a row in the store.

Several replicas send for one workspace: the active scheduler's queue, and a replica that
serves a `send-now` or `test`. Each keeps its own adaptive pacer; before a send it also takes the
next slot of the workspace's shared schedule (``send_pace.next_at``). Slots are taken from the
store a block at a time: one statement moves the schedule on by a quarter of a second's worth of
slots at this process's pace and returns where it stood, and each send waits for its slot of the
block. A "too many" from the platform pushes the shared schedule past the pause, so every
process waits it out. Only on PostgreSQL: on SQLite one process sends, and its pacer suffices.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.dialects import postgresql

from nudges.store.database import Database
from nudges.store.shared import SendPace

logger = logging.getLogger(__name__)

# A slot may start this much of an interval early: a late wake-up need not lower the pace.
EARLY = 0.25
# How much of the schedule one statement takes: a statement per send cost a third of the pace on
# PostgreSQL, and processes sharing a workspace still interleave at this grain.
BLOCK_SECONDS = 0.25


def _now() -> datetime:
    return datetime.now(UTC)


class SharedPace:
    """The shared schedule of one workspace's sends."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._broken = False
        # Slots this process took from the shared schedule and has not used yet, earliest last.
        self._block: list[datetime] = []

    async def slot(self, rate: float) -> float:
        """Take the next slot at ``rate`` sends a second; return the seconds to wait for it."""
        now = _now()
        if self._block and self._block[-1] < now - timedelta(seconds=BLOCK_SECONDS):
            # Left unused while idle: the shared schedule has moved on without them.
            self._block.clear()
        if not self._block and not await self._take_block(rate, now):
            return 0.0
        start = self._block.pop()
        return max(0.0, float((start - _now()).total_seconds()) - EARLY / rate)

    async def _take_block(self, rate: float, now: datetime) -> bool:
        """Move the shared schedule on by one block; return whether the store answered."""
        interval = timedelta(seconds=1.0 / rate)
        count = max(1, int(rate * BLOCK_SECONDS))
        span = interval * count
        insert = postgresql.insert(SendPace).values(
            workspace_id=self.workspace_id, next_at=now + span
        )
        # A schedule that fell behind starts again now: catching up on lost slots would let the
        # processes sharing it go faster than the pace together.
        stmt = insert.on_conflict_do_update(
            index_elements=[SendPace.workspace_id],
            set_={"next_at": func.greatest(SendPace.next_at, now) + span},
        ).returning(SendPace.next_at)
        try:
            async with self.db.session() as session:
                end: datetime = (await session.execute(stmt)).scalar_one()
                await session.commit()
        except Exception as exc:
            # The store is what holds the pace together; without it, this process's own holds.
            self._warn(exc)
            return False
        self._broken = False
        first = end - span
        self._block = [first + interval * i for i in reversed(range(count))]
        return True

    async def pause(self, seconds: float) -> None:
        """Push the shared schedule at least ``seconds`` from now (the platform said "too many")."""
        # Slots taken before the pause would fall inside it.
        self._block.clear()
        until = _now() + timedelta(seconds=seconds)
        stmt = postgresql.insert(SendPace).values(workspace_id=self.workspace_id, next_at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=[SendPace.workspace_id],
            set_={"next_at": func.greatest(SendPace.next_at, until)},
        )
        try:
            async with self.db.session() as session:
                await session.execute(stmt)
                await session.commit()
        except Exception as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if not self._broken:
            logger.warning(
                "shared send pace of workspace %s unavailable (%s); pacing this process alone",
                self.workspace_id,
                type(exc).__name__,
            )
        self._broken = True


def shared_pace(db: Database, workspace_id: int) -> SharedPace | None:
    """Return the workspace's shared pace where several processes may send (PostgreSQL)."""
    return SharedPace(db, workspace_id) if db.engine.dialect.name == "postgresql" else None
