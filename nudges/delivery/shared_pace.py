"""Hold one workspace's send pace for every process that sends, through a row in the store.

Several replicas send for one workspace: the active scheduler's queue, and a replica that
serves a `send-now` or `test`. Each keeps its own adaptive pacer; before a send it also takes the
next slot of the workspace's shared schedule (``send_pace.next_at``). Slots are taken from the
store a block at a time: one statement moves the schedule on by half a second's worth of
slots at this process's pace and returns where it stood, and each send waits for its slot of the
block. The next block is taken while the last slots of this one are spent, so a process sending
alone keeps an unbroken schedule. A "too many" from the platform pushes the shared schedule past
the pause, so every process waits it out. Only on PostgreSQL: on SQLite one process sends, and
its pacer suffices.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Executable, Interval, bindparam, func
from sqlalchemy.dialects import postgresql

from nudges.store.database import Database
from nudges.store.shared import SendPace

logger = logging.getLogger(__name__)

# A slot may start this much of an interval early: a late wake-up need not lower the pace.
EARLY = 0.25
# How much of the schedule one statement takes: a statement per send cost a third of the pace on
# PostgreSQL, and processes sharing a workspace still interleave at this grain.
BLOCK_SECONDS = 0.5
# The next block is taken once the slots in hand cover less than this: with twenty workspaces
# sending, one statement took 30 ms at the median and over 200 ms at the 99th percentile, and a
# block that comes late leaves its sends waiting on the store.
AHEAD_SECONDS = 0.3
# A slot more than this many intervals in the past was left unused: the schedule moved on
# without it. Spent late, it would overlap the slots other processes took after it, and over a
# second the processes together would send a fifth more than the pace at a quarter second late.
STALE_SLOTS = 2


_AT = bindparam("at", type_=DateTime(timezone=True))
_SPAN = bindparam("span", type_=Interval())
# Move the schedule on by a block and return where it ends. Built once: building the statement
# for each block cost more than running it. A schedule that fell behind starts again now:
# catching up on lost slots would let the processes sharing it go faster than the pace together.
_TAKE = (
    postgresql.insert(SendPace)
    .values(workspace_id=bindparam("workspace_id"), next_at=_AT + _SPAN)
    .on_conflict_do_update(
        index_elements=[SendPace.workspace_id],
        set_={"next_at": func.greatest(SendPace.next_at, _AT) + _SPAN},
    )
    .returning(SendPace.next_at)
)
# Hold the schedule until at least a time: the platform said "too many".
_PAUSE = (
    postgresql.insert(SendPace)
    .values(workspace_id=bindparam("workspace_id"), next_at=_AT)
    .on_conflict_do_update(
        index_elements=[SendPace.workspace_id],
        set_={"next_at": func.greatest(SendPace.next_at, _AT)},
    )
)


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
        # The next block, being taken while the last slots of this one are spent.
        self._ahead: asyncio.Task[bool] | None = None
        # Moved on by each pause, so a block taken ahead from before a pause is not used after it.
        self._pauses = 0

    async def slot(self, rate: float) -> float:
        """Take the next slot at ``rate`` sends a second; return the seconds to wait for it."""
        if not self._block and self._ahead is not None:
            await asyncio.shield(self._ahead)
        now = _now()
        stale = now - timedelta(seconds=STALE_SLOTS / rate)
        while self._block and self._block[-1] < stale:
            # Left unused while idle or while the store was slow to answer: spending them now
            # would send on top of the slots other processes took after them.
            self._block.pop()
        if not self._block and not await self._take_block(rate, now):
            return 0.0
        start = self._block.pop()
        if len(self._block) < rate * AHEAD_SECONDS and self._ahead is None:
            # Taken only once this block is spent, the next would start a round trip late each
            # time, and under load a round trip is a good part of a block.
            self._ahead = asyncio.get_running_loop().create_task(self._take_ahead(rate))
        return max(0.0, float((start - _now()).total_seconds()) - EARLY / rate)

    async def _take_ahead(self, rate: float) -> bool:
        """Take the block after the slots in hand, for when they are spent."""
        try:
            return await self._take_block(rate, _now())
        finally:
            self._ahead = None

    async def _take_block(self, rate: float, now: datetime) -> bool:
        """Move the shared schedule on by one block; return whether the store answered."""
        pauses = self._pauses
        interval = timedelta(seconds=1.0 / rate)
        count = max(1, int(rate * BLOCK_SECONDS))
        span = interval * count
        params = {"workspace_id": self.workspace_id, "at": now, "span": span}
        try:
            end = await self._run(_TAKE, params)
        except Exception as exc:
            # The store is what holds the pace together; without it, this process's own holds.
            self._warn(exc)
            return False
        self._broken = False
        if end is None or pauses != self._pauses:
            # Taken before a pause that this block may fall inside: let it go, a little pace lost.
            return True
        first = end - span
        self._block[:0] = [first + interval * i for i in reversed(range(count))]
        return True

    async def pause(self, seconds: float) -> None:
        """Push the shared schedule at least ``seconds`` from now (the platform said "too many")."""
        # Slots taken before the pause would fall inside it.
        self._block.clear()
        self._pauses += 1
        params = {"workspace_id": self.workspace_id, "at": _now() + timedelta(seconds=seconds)}
        try:
            await self._run(_PAUSE, params)
        except Exception as exc:
            self._warn(exc)

    async def _run(self, statement: Executable, params: dict[str, Any]) -> datetime | None:
        """Run one statement on its own, committed as it runs; return the time it returns."""
        # One statement is its own transaction: without BEGIN and COMMIT, and without the ORM,
        # a block costs a third of the time on the event loop that the sends share.
        async with self.db.engine.connect() as connection:
            alone = await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await alone.execute(statement, params)
            at: datetime | None = result.scalar_one() if result.returns_rows else None
            return at

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
