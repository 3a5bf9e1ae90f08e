"""Hold one workspace's send pace for every process that sends, through a row in the store.

Several replicas send for one workspace: the active scheduler's queue, and a replica that
serves a `send-now` or `test`. Each keeps its own adaptive pacer; before a send it also takes the
next slot of the workspace's shared schedule (``send_pace.next_at``): one statement moves it on by
one interval at this process's pace and returns where it stood, and the send waits for that
moment. A "too many" from the platform pushes the shared schedule past the pause, so every
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


def _now() -> datetime:
    return datetime.now(UTC)


class SharedPace:
    """The shared schedule of one workspace's sends."""

    def __init__(self, db: Database, workspace_id: int) -> None:
        self.db = db
        self.workspace_id = workspace_id
        self._broken = False

    async def slot(self, rate: float) -> float:
        """Take the next slot at ``rate`` sends a second; return the seconds to wait for it."""
        interval = timedelta(seconds=1.0 / rate)
        now = _now()
        insert = postgresql.insert(SendPace).values(workspace_id=self.workspace_id, next_at=now)
        stmt = insert.on_conflict_do_update(
            index_elements=[SendPace.workspace_id],
            set_={"next_at": func.greatest(SendPace.next_at, now) + interval},
        ).returning(SendPace.next_at)
        try:
            async with self.db.session() as session:
                next_at: datetime = (await session.execute(stmt)).scalar_one()
                await session.commit()
        except Exception as exc:
            # The store is what holds the pace together; without it, this process's own holds.
            self._warn(exc)
            return 0.0
        self._broken = False
        start = next_at - interval
        return max(0.0, float((start - _now()).total_seconds()) - EARLY / rate)

    async def pause(self, seconds: float) -> None:
        """Push the shared schedule at least ``seconds`` from now (the platform said "too many")."""
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
