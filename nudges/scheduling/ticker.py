"""Run the dispatcher's tick on APScheduler; the database, not the scheduler, holds the schedules.

On PostgreSQL a session-level advisory lock elects one active scheduler among replicas; the
others stay on standby and try again each tick. Claims make a second active one harmless, the
lock just saves the work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from nudges import rights
from nudges.dispatch import Dispatcher, TickResult

logger = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every replica ("nudgebot" in ASCII).
ADVISORY_LOCK_KEY = 0x6E75646765626F74 & 0x7FFFFFFFFFFFFFFF
JOB_ID = "nudgebot-tick"


class Ticker:
    """Own the scheduler, the leadership lock and the tick job."""

    def __init__(self, dispatcher: Dispatcher, interval_seconds: int) -> None:
        self.dispatcher = dispatcher
        self.interval_seconds = interval_seconds
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._lock_conn: AsyncConnection | None = None
        self.is_leader = False
        # The UTC day retention last ran on in this process; it runs once a day, on the leader.
        self.retention_day: date | None = None

    async def _acquire_leadership(self) -> bool:
        engine = self.dispatcher.db.engine
        if engine.dialect.name != "postgresql":
            return True
        if self._lock_conn is None:
            self._lock_conn = await engine.connect()
        got = await self._lock_conn.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        )
        # Leave the transaction so the held lock does not pin a snapshot open.
        await self._lock_conn.commit()
        return bool(got)

    async def _still_leader(self) -> bool:
        # A dropped lock connection means the lock is gone and another replica may hold it now.
        if self._lock_conn is None:
            return True
        try:
            await self._lock_conn.scalar(text("SELECT 1"))
            await self._lock_conn.commit()
        except Exception:
            logger.warning("lost the scheduler lock connection; standing by")
            await self._release()
            return False
        return True

    async def tick(self) -> TickResult | None:
        """Run one tick if this process is the active scheduler."""
        if self.is_leader and not await self._still_leader():
            return None
        if not self.is_leader:
            try:
                self.is_leader = await self._acquire_leadership()
            except Exception:
                logger.exception("could not check scheduler leadership")
                await self._release()
                return None
            if self.is_leader:
                logger.info("this process is now the active scheduler")
            else:
                return None
        await self._daily_retention()
        try:
            result = await self.dispatcher.tick()
        except Exception:
            logger.exception("tick failed; the next one will try again")
            return None
        if result.planned or result.sent or result.failed:
            logger.info(
                "tick: planned %d, sent %d, failed %d, deferred %d, cancelled %d",
                result.planned,
                result.sent,
                result.failed,
                result.deferred,
                result.cancelled,
            )
        return result

    async def _daily_retention(self) -> None:
        """Delete what is past the workspaces' retention, on the first tick of each UTC day."""
        now = self.dispatcher.clock.now()
        if self.retention_day == now.date():
            return
        try:
            await rights.run_retention(self.dispatcher.db, now)
        except Exception:
            # Deleting is idempotent: the next tick simply tries again.
            logger.exception("retention failed; the next tick will try again")
            return
        self.retention_day = now.date()

    def start(self) -> None:
        """Start ticking every ``interval_seconds``."""
        job_options: dict[str, Any] = {
            "id": JOB_ID,
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": self.interval_seconds * 10,
            "replace_existing": True,
        }
        self.scheduler.add_job(
            self.tick, IntervalTrigger(seconds=self.interval_seconds), **job_options
        )
        self.scheduler.start()
        logger.info("scheduler started: a tick every %s s", self.interval_seconds)

    async def _release(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        self.is_leader = False
        if conn is None:
            return
        try:
            # Closing only returns the connection to the pool, where a session lock lives on.
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            await conn.commit()
            await conn.close()
        except Exception:
            await conn.invalidate()

    async def stop(self) -> None:
        """Stop ticking and give up leadership."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            # The asyncio scheduler finishes shutting down on the next turn of the loop.
            await asyncio.sleep(0)
        await self._release()
