"""Run the dispatcher's tick on APScheduler; the database, not the scheduler, holds the schedules.

On PostgreSQL a session-level advisory lock elects one active scheduler among replicas; the
others stay on standby and try again each tick. Claims make a second active one harmless, the
lock just saves the work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from nudges.delivery import Dispatcher, TickResult
from nudges.delivery.engine import DB_ERRORS
from nudges.people import retention

logger = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every replica ("nudgebot" in ASCII).
ADVISORY_LOCK_KEY = 0x6E75646765626F74 & 0x7FFFFFFFFFFFFFFF
JOB_ID = "nudgebot-tick"
WAKE_ID = "nudgebot-wake"
POLL_ID = "nudgebot-due"
# How often the active scheduler looks for deliveries that fell due since its last tick: rows
# stored by another process (a command on a standby replica, an operator's change) are not
# announced, and waiting for the next regular tick would leave them up to TICK_SECONDS late.
DUE_POLL_SECONDS = 0.5

SCHEDULER_ACTIVE = Gauge(
    "nudgebot_scheduler_active",
    "1 while this replica is the active scheduler, 0 while it stands by.",
    ["replica"],
)


class _NoShutdownCancellations(logging.Filter):
    """Drop APScheduler's "Error running job" for a job it cancelled itself while shutting down.

    stop() finishes or hands back the tick first; the job wrapper APScheduler then cancels is
    no error, and an operator's clean stop should not print a traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but a cancellation."""
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


class Ticker:
    """Own the scheduler, the leadership lock and the tick job."""

    def __init__(
        self, dispatcher: Dispatcher, interval_seconds: int, replica: str = "local"
    ) -> None:
        self.dispatcher = dispatcher
        self.interval_seconds = interval_seconds
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._lock_conn: AsyncConnection | None = None
        self._active = SCHEDULER_ACTIVE.labels(replica)
        self.is_leader = False
        self._running: asyncio.Task[Any] | None = None
        self._unreachable = False
        # The UTC day retention last ran on in this process; it runs once a day, on the leader.
        self.retention_day: date | None = None

    @property
    def is_leader(self) -> bool:
        """Tell whether this process is the active scheduler."""
        return self._is_leader

    @is_leader.setter
    def is_leader(self, value: bool) -> None:
        self._is_leader = value
        # Summed over replicas, the gauge says how many schedulers are active: 1, never 0 or 2.
        self._active.set(1 if value else 0)

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
        if self._running is not None and not self._running.done():
            return None  # a wake-up met the regular tick: one at a time
        # Shielded: the scheduler cancels running jobs when it shuts down, and a tick cut off
        # mid-batch would leave its claims to lapse instead of handing them back.
        running = self._running = asyncio.ensure_future(self._tick())
        try:
            return await asyncio.shield(running)
        finally:
            if running.done():
                self._running = None

    async def poll_due(self) -> TickResult | None:
        """Tick at once when a delivery fell due or a plan's inputs changed; None if neither."""
        if self.dispatcher.stopping() or (self._running is not None and not self._running.done()):
            return None
        if not self.is_leader:
            # A standby (or a scheduler not yet elected) tries for the lead on the regular tick.
            return None
        try:
            due = await self.dispatcher.next_due()
            # A cadence changed shortly before its slot is planned now, not at the next tick.
            if (due is None or due > self.dispatcher.clock.now()) and not (
                await self.dispatcher.plans_outdated()
            ):
                return None
        except DB_ERRORS:
            return None
        return await self.tick()

    async def _wake_for_next_due(self) -> None:
        """Add a one-off tick when a delivery falls due before the next regular one."""
        if not self.scheduler.running or self.dispatcher.stopping():
            return
        try:
            due = await self.dispatcher.next_due()
        except DB_ERRORS:
            return
        job = self.scheduler.get_job(JOB_ID)
        if due is None or job is None or job.next_run_time is None:
            return
        if due < job.next_run_time - timedelta(seconds=1):
            self.scheduler.add_job(
                self.tick,
                DateTrigger(run_date=max(due, datetime.now(UTC) + timedelta(seconds=1))),
                id=WAKE_ID,
                replace_existing=True,
                misfire_grace_time=self.interval_seconds,
            )

    async def _tick(self) -> TickResult | None:
        if self.is_leader and not await self._still_leader():
            return None
        if not self.is_leader:
            try:
                self.is_leader = await self._acquire_leadership()
            except DB_ERRORS as exc:
                if not self._unreachable:
                    logger.warning("could not check scheduler leadership: %s", exc)
                self._unreachable = True
                await self._release()
                return None
            except Exception:
                logger.exception("could not check scheduler leadership")
                await self._release()
                return None
            self._unreachable = False
            if self.is_leader:
                logger.info("this process is now the active scheduler")
            else:
                # A standby still writes what it sent before it lost the lead.
                await self.dispatcher.flush()
                return None
        try:
            result = await self.dispatcher.tick()
        except DB_ERRORS:
            # The dispatcher said so once per outage; the next tick tries again.
            return None
        except Exception:
            logger.exception("tick failed; the next one will try again")
            return None
        # After the sends: a plan the tick dropped (its slot long past) is expired with the rest.
        await self._daily_retention()
        await self._wake_for_next_due()
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
            await retention.run_retention(self.dispatcher.db, now)
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
        # The first tick runs at once: a restart picks up lapsed claims within seconds.
        # A logger's filters see only its own records: the default executor logs these.
        default = logging.getLogger("apscheduler.executors.default")
        if not any(isinstance(f, _NoShutdownCancellations) for f in default.filters):
            default.addFilter(_NoShutdownCancellations())
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.interval_seconds),
            next_run_time=datetime.now(UTC),
            **job_options,
        )
        self.scheduler.add_job(
            self.poll_due,
            IntervalTrigger(seconds=DUE_POLL_SECONDS),
            id=POLL_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(DUE_POLL_SECONDS)),
            replace_existing=True,
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

    async def stop(self, grace: float = 3.0) -> None:
        """Stop ticking: finish the message in hand, hand the rest back, give up leadership."""
        self.dispatcher.request_stop()
        running = self._running
        if running is not None and not running.done():
            done, _ = await asyncio.wait({running}, timeout=grace)
            if not done:
                logger.warning("the tick did not stop within %s s; its claims will lapse", grace)
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            # The asyncio scheduler finishes shutting down on the next turn of the loop.
            await asyncio.sleep(0)
        await self._release()
