"""Claim due deliveries, pace them per workspace and send each exactly once.

The database is the source of truth. A delivery row is unique by its idempotency key, so a
retried tick, a restart or a second replica can only ever insert it once. A worker claims
batches as leases (``claims``), checks and composes them (``composing``), sends them in a lane
per workspace at the platform's pace (``lanes``, ``sending``), and writes their outcomes in the
background (``outcomes``); ``send_started_at`` is committed before the platform call, so a
lapsed claim is either plainly pending again or in doubt and looked for before a re-send.
Nothing is failed blindly and nothing is posted blind. This module wires the rooms and runs
a tick over them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import metrics, queue
from nudges.delivery.claims import LAPSED_IN_DOUBT, Claims
from nudges.delivery.composing import COMPOSE_SLICE, Composer
from nudges.delivery.ground import EngineConfig, Ground
from nudges.delivery.keys import idempotency_key
from nudges.delivery.kinds import KindHandler, Planner
from nudges.delivery.lanes import Lanes
from nudges.delivery.outage import DB_ERRORS, Outage
from nudges.delivery.outcomes import Outcome, OutcomeWriter, RetryPolicy, TickResult
from nudges.delivery.pacing import Pacer
from nudges.delivery.planning import Planning
from nudges.delivery.sending import Sender
from nudges.messages import Message
from nudges.ports import Clock, DeliveryError, MessageRef, Messenger, Recipient
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

__all__ = [
    "COMPOSE_SLICE",
    "DB_ERRORS",
    "LAPSED_IN_DOUBT",
    "Dispatcher",
    "EngineConfig",
    "TickResult",
]

logger = logging.getLogger(__name__)

# How often a tick that is still planning looks for workspaces whose rows fell due meanwhile.
WATCH_DUE_SECONDS = 0.5


class Dispatcher:
    """Turn due deliveries into messages, for every kind that registered with it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        messengers: Mapping[str, Messenger],
        config: EngineConfig | None = None,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ground = Ground(
            db,
            clock,
            dict(messengers),
            config or EngineConfig(),
            worker_id or uuid.uuid4().hex[:12],
            rng or random.Random(),
        )
        self.handlers: dict[str, KindHandler] = {}
        self.planners: list[Planner] = []
        # One tick at a time in a process: a second one (the sandbox's time travel beside the
        # scheduler) took the first one's claims for lapsed when the clock jumped, and closed
        # polls whose messages the first one was still sending.
        self._ticking = asyncio.Lock()
        self.outage = Outage()
        self.claims = Claims(self.ground, self.outage)
        self.policy = RetryPolicy(self.ground)
        self.writer = OutcomeWriter(self.ground, self.outage)
        self.composer = Composer(self.ground, self.handlers, self.policy, self.writer)
        self.lanes = Lanes(
            self.ground,
            self.claims,
            self.composer,
            Sender(self.ground, self.policy),
            self.writer,
            self.outage,
        )
        self.planning = Planning(self.ground, self.planners, self.update_message)

    # --- the ground every room shares -----------------------------------------------

    @property
    def db(self) -> Database:
        """The store (pointing it elsewhere moves every room)."""
        return self.ground.db

    @db.setter
    def db(self, db: Database) -> None:
        self.ground.db = db

    @property
    def clock(self) -> Clock:
        """The clock."""
        return self.ground.clock

    @property
    def config(self) -> EngineConfig:
        """The tunables."""
        return self.ground.config

    @config.setter
    def config(self, config: EngineConfig) -> None:
        self.ground.config = config

    @property
    def messengers(self) -> MutableMapping[str, Messenger]:
        """The messenger of each platform served (platforms may be added later)."""
        return self.ground.messengers

    @property
    def worker_id(self) -> str:
        """The name this worker puts on its claims."""
        return self.ground.worker_id

    @property
    def _unrecorded(self) -> list[Outcome]:
        """Outcomes held until the database is back (kept for the outage tests)."""
        return self.writer.unrecorded

    # --- registration -------------------------------------------------------------

    def register_kind(self, kind: str, handler: KindHandler) -> None:
        """Let deliveries of ``kind`` be held back and composed by ``handler``."""
        self.handlers[kind] = handler

    def add_planner(self, planner: Planner) -> None:
        """Let ``planner`` create deliveries on every tick."""
        self.planners.append(planner)

    # --- rows ---------------------------------------------------------------------

    def key_for(self, kind: Any, recipient_id: int, item: str) -> str:
        """Build a delivery's idempotency key."""
        return idempotency_key(kind, recipient_id, item)

    async def insert_delivery(self, session: AsyncSession, **values: Any) -> int | None:
        """Insert a delivery unless its idempotency key exists; return its id if inserted."""
        return await queue.insert_delivery(session, self.clock.now(), **values)

    async def insert_deliveries(
        self, session: AsyncSession, rows: Sequence[dict[str, Any]]
    ) -> dict[str, int]:
        """Insert deliveries whose keys do not exist yet, in a few statements; new ids by key."""
        return await queue.insert_deliveries(session, self.clock.now(), rows)

    async def existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
        """Return which of these idempotency keys already have a delivery."""
        return await queue.existing_keys(session, keys)

    async def next_due(self) -> datetime | None:
        """Return when the earliest pending delivery falls due, if any."""
        return await queue.next_due(self.ground)

    # --- the rooms' entry points ------------------------------------------------------

    async def plan(
        self, on_planned: Callable[[int], None] | None = None, *, due_now_only: bool = False
    ) -> int:
        """Create every delivery that fell due, workspace by workspace, each committed at once."""
        return await self.planning.plan(on_planned, due_now_only=due_now_only)

    async def claim(
        self, limit: int | None = None, only: int | None = None, workspace_id: int | None = None
    ) -> list[int]:
        """Lease exactly ``limit`` due pending deliveries (at most), fairly across workspaces."""
        return await self.claims.claim(limit, only, workspace_id)

    async def recover(self) -> int:
        """Hand back claims that lapsed: to pending at once, or in doubt when a send had started."""
        return await self.claims.recover()

    async def compose(
        self, session: AsyncSession, delivery: Delivery, workspace: Workspace, person: Person
    ) -> Message | None:
        """Render a delivery for its recipient, or None when it can no longer be rendered."""
        return await self.composer.compose(session, delivery, workspace, person)

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """Return how long to wait before the next attempt: exponential with jitter."""
        return self.policy.backoff(attempts, retry_after)

    def pacer(self, workspace_id: int) -> Pacer:
        """Return the workspace's pacer, made on first use."""
        return self.lanes.pacer(workspace_id)

    async def send_claimed(self, ids: Sequence[int], result: TickResult) -> None:
        """Send already claimed deliveries: paced per workspace, workspaces concurrently."""
        await self.lanes.send_claimed(ids, result)

    async def flush(self) -> None:
        """Write held outcomes and releases; on a database error keep them for the next try."""
        await self.writer.flush()

    # --- running ------------------------------------------------------------------

    async def tick(self) -> TickResult:
        """Recover lapsed claims, then plan and send at once: a workspace sends once planned."""
        async with self._ticking:
            return await self._tick()

    async def _tick(self) -> TickResult:
        result = TickResult()
        if self.ground.stopping:
            return result
        lanes: dict[int, asyncio.Task[None]] = {}

        def start_lane(workspace_id: int) -> None:
            lane = lanes.get(workspace_id)
            if lane is None or lane.done():
                lanes[workspace_id] = asyncio.create_task(self.lanes.lane(workspace_id, result))

        heartbeat = asyncio.create_task(self.claims.heartbeat())
        watching: asyncio.Task[None] | None = None
        try:
            await self.flush()
            result.recovered = await self.recover()
            self.outage.fine()
            # What is due goes out at once; planning (mostly ahead of the slots) runs beside
            # the lanes, and a workspace whose rows fall due meanwhile gets its lane then.
            for workspace_id in await queue.due_workspaces(self.ground):
                start_lane(workspace_id)
            watching = asyncio.create_task(self._watch_due(start_lane))
            # A slot's sends under way and nothing changed that planning ahead reads: the plans
            # ahead wait until the sends are out, so they do not compete with them for the
            # process; what falls due now (a poll opening) is planned beside them at once.
            ahead_later = bool(lanes) and not await self.plans_outdated()
            result.planned = await self.plan(start_lane, due_now_only=ahead_later)
            # While any lane still sends, a workspace with rows due and no lane (it fell due
            # late, or its lane ended on an error) gets one again within half a second.
            await _settle(lanes)
            if ahead_later and not self.ground.stopping:
                result.planned += await self.plan(start_lane)
                await _settle(lanes)
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await asyncio.gather(*lanes.values())
            # Rows planned while their workspace's lane was finishing (none when nothing was
            # planned or sent: an idle tick looks once).
            if not self.ground.stopping and (lanes or result.planned):
                for workspace_id in await queue.due_workspaces(self.ground):
                    start_lane(workspace_id)
                await asyncio.gather(*lanes.values())
            # A poll closed while its message was going out: the message is re-rendered now
            # that the lanes recorded where it went.
            await self.planning.refresh_sent()
            metrics.QUEUE_DEPTH.set(await queue.depth(self.ground))
        except DB_ERRORS as exc:
            # Logged once per outage here; the caller only needs to know the tick did not run.
            self.outage.trouble(exc)
            raise
        except asyncio.CancelledError:
            # Going down hard: a send may never answer, and waiting for it would hold the
            # cancel forever. What was in flight is left in doubt, as a crash leaves it.
            for lane in lanes.values():
                lane.cancel()
            raise
        finally:
            if watching is not None:
                watching.cancel()
            await asyncio.gather(*lanes.values(), return_exceptions=True)
            heartbeat.cancel()
            await asyncio.gather(
                heartbeat, *([watching] if watching else []), return_exceptions=True
            )
        return result

    async def _watch_due(self, start_lane: Callable[[int], None]) -> None:
        """Start a lane for each workspace with rows due and none running, until cancelled."""
        while not self.ground.stopping:
            await asyncio.sleep(WATCH_DUE_SECONDS)
            try:
                due = await queue.due_workspaces(self.ground)
            except DB_ERRORS as exc:
                self.outage.trouble(exc)
                continue
            for workspace_id in due:
                start_lane(workspace_id)

    async def plans_outdated(self) -> bool:
        """Tell whether what the planners plan from changed since their last pass began."""
        return await self.planning.outdated()

    async def send_now(self, delivery_id: int) -> str:
        """Claim and send one delivery straight away (for explicit requests)."""
        result = TickResult()
        ids = await self.claim(only=delivery_id)
        await self.send_claimed(ids, result)
        return result.statuses.get(delivery_id, "not-due")

    def request_stop(self) -> None:
        """Finish the messages in hand, hand the rest back and take no more."""
        self.ground.stopping = True

    def stopping(self) -> bool:
        """Tell whether a stop was requested."""
        return self.ground.stopping

    async def update_message(self, delivery_id: int, message: Message | None = None) -> bool:
        """Re-render a sent delivery in place (after a click); return whether it was updated.

        ``message`` replaces the stored rendering when the caller holds what the store does
        not, such as a poll's answer key from the click itself.
        """
        async with self.db.session() as session:
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None or not delivery.message_ref:
                return False
            person = await session.get(Person, delivery.recipient_id)
            workspace = await session.get(Workspace, delivery.workspace_id)
            assert person is not None and workspace is not None
            if message is None:
                message = await self.compose(session, delivery, workspace, person)
        messenger = self.messengers.get(workspace.platform)
        if message is None or messenger is None:
            return False
        recipient = Recipient(workspace.platform, workspace.external_id, person.external_id)
        try:
            await messenger.update(recipient, MessageRef.decode(delivery.message_ref), message)
        except DeliveryError as exc:
            logger.warning("could not update delivery %s: %s", delivery_id, exc.reason)
            return False
        return True


async def _settle(lanes: Mapping[int, asyncio.Task[None]]) -> None:
    """Wait until no lane runs, counting lanes started while waiting."""
    while running := [lane for lane in lanes.values() if not lane.done()]:
        # A gather, so a cancelled tick cancels its lanes and a lane's error is raised.
        await asyncio.gather(*running)
