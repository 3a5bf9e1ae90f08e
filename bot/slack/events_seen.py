"""Remember which Events API deliveries were handled, so Slack's retries never act twice.

Slack redelivers an event whose answer was slow or not 2xx, with the same ``event_id``. The first
delivery to insert its id wins; every later copy is answered 200 and dropped. Ids are stored in
the database, not in memory, so a restart or a second replica does not forget them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from nudges.domain import Platform
from nudges.ports import Clock
from nudges.store.database import Database
from nudges.store.slack_events import ProcessedEvent

logger = logging.getLogger(__name__)

# Slack retries three times within about six minutes; a day leaves a wide margin.
KEEP_FOR = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


class EventLedger:
    """Record event ids in the ``processed_events`` table."""

    def __init__(self, db: Database, clock: Clock, *, platform: str = Platform.SLACK) -> None:
        self.db = db
        self.clock = clock
        self.platform = str(platform)
        self._last_prune: datetime | None = None

    async def first_time(self, event_id: str, workspace_external_id: str = "") -> bool:
        """Record ``event_id`` and tell whether this is the first time it arrived."""
        now = self.clock.now()
        values = {
            "platform": self.platform,
            "event_id": event_id,
            "workspace_external_id": workspace_external_id,
            "received_at": now,
        }
        async with self.db.session() as session:
            dialect = session.bind.dialect.name if session.bind else "sqlite"
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = (
                insert(ProcessedEvent)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["platform", "event_id"])
                .returning(ProcessedEvent.id)
            )
            inserted = (await session.execute(stmt)).scalar_one_or_none()
            await session.commit()
        await self._maybe_prune(now)
        return inserted is not None

    async def prune(self, before: datetime) -> int:
        """Forget ids received before ``before``; return how many went."""
        async with self.db.session() as session:
            result = await session.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.platform == self.platform, ProcessedEvent.received_at < before
                )
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def _maybe_prune(self, now: datetime) -> None:
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            gone = await self.prune(now - KEEP_FOR)
        except Exception:
            # Pruning is housekeeping; a failure must not fail the event being handled.
            logger.exception("could not prune processed event ids")
            return
        if gone:
            logger.debug("pruned %d processed event ids", gone)


class DedupeMiddleware(AsyncMiddleware):
    """A Bolt middleware that answers a repeated Events API delivery without running it.

    A class rather than a function: Bolt then calls it as is, without building the keyword
    arguments a function middleware may ask for on every request.
    """

    def __init__(self, ledger: EventLedger) -> None:
        self.ledger = ledger

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        """Pass the first delivery of an event on; answer a repeat with a 200."""
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return await next()
        team_id = str(body.get("team_id") or "")
        if await self.ledger.first_time(event_id, team_id):
            return await next()
        retry = req.headers.get("x-slack-retry-num", ["0"])[0]
        logger.info(
            "ignoring repeated slack event event_id=%s team=%s retry=%s", event_id, team_id, retry
        )
        # 200 tells Slack to stop retrying; the first delivery is (or was) being handled.
        return BoltResponse(status=200, body="")


def dedupe_middleware(ledger: EventLedger) -> DedupeMiddleware:
    """Build the Bolt middleware that answers a repeated Events API delivery without running it."""
    return DedupeMiddleware(ledger)
