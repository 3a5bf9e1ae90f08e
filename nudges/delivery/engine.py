"""Claim due deliveries, pace them per workspace and send each exactly once.

The database is the source of truth. A delivery row is unique by its idempotency key, so a
retried tick, a restart or a second replica can only ever insert it once. A worker claims a
batch as a short lease that its heartbeat renews, and commits ``send_started_at`` before the
platform call. When a lease lapses (the worker died or lost the database), a row whose send
never started goes straight back to pending; a row whose send started is in doubt and is sent
again with ``retry=True``, so the messenger first looks for the message it may already have
posted. Nothing is failed blindly and nothing is posted blind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import metrics
from nudges.delivery.context import current_delivery
from nudges.delivery.keys import idempotency_key
from nudges.delivery.kinds import KindHandler, Planned, Planner
from nudges.delivery.pacing import Pacer
from nudges.delivery.shared_pace import shared_pace
from nudges.domain import DeliveryStatus
from nudges.messages import Message
from nudges.people import directory, workweeks
from nudges.ports import Clock, DeliveryError, MessageRef, Messenger, Recipient
from nudges.scheduling.calendar import NoAllowedDayError, is_allowed_day, next_allowed_moment
from nudges.store import read_once
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

PENDING = DeliveryStatus.PENDING.value
SENDING = DeliveryStatus.SENDING.value
SENT = DeliveryStatus.SENT.value
FAILED = DeliveryStatus.FAILED.value
CANCELLED = DeliveryStatus.CANCELLED.value

# Messages composed between two looks at the event loop (see ``_compose_batch``).
COMPOSE_SLICE = 4

LAPSED_IN_DOUBT = "claim lapsed while sending; will look for the message first"

# What a lost database connection looks like, whichever driver raised it.
DB_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, ConnectionError)


@dataclass(frozen=True)
class EngineConfig:
    """Tunables of the dispatcher."""

    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    # How far back a tick still plans an occurrence it missed (downtime, a slow tick).
    lookback: timedelta = timedelta(hours=12)
    batch_size: int = 100
    # A ceiling per workspace: sends go at the pace the platform answers, never above this.
    send_rate_per_workspace: float = 20.0
    # Where the pace starts (None: at the ceiling); it halves on "too many" and creeps back.
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
class _Job:
    """A claimed delivery, composed and ready for the platform."""

    delivery_id: int
    kind: str
    recipient: Recipient
    person_id: int
    message: Message
    attempts: int
    # An earlier attempt may have reached the platform: look before posting.
    in_doubt: bool


@dataclass
class _Outcome:
    """The result of one delivery, waiting to be written."""

    delivery_id: int
    status: str
    values: dict[str, Any]
    unreachable: tuple[int, str] | None = None


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
        self.db = db
        self.clock = clock
        self.messengers: MutableMapping[str, Messenger] = dict(messengers)
        self.config = config or EngineConfig()
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self.rng = rng or random.Random()
        self.handlers: dict[str, KindHandler] = {}
        self.planners: list[Planner] = []
        self._pacers: dict[int, Pacer] = {}
        self._in_hand: set[int] = set()
        self._unrecorded: list[_Outcome] = []
        self._unreleased: list[tuple[int, bool]] = []
        self._flush_lock = asyncio.Lock()
        self._sqlite_writes = asyncio.Lock()
        self._stopping = False
        self._db_down = False

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Hold this process's writers in turn on SQLite; on PostgreSQL let them overlap.

        SQLite has one write lock, and a writer that finds it taken sleeps in growing steps
        (up to a tenth of a second) before it looks again: twenty lanes contending for it lose
        whole seconds, and under load one can starve past the busy timeout. Queued here they
        take it one after another without sleeping.
        """
        if self.db.engine.dialect.name == "sqlite":
            return self._sqlite_writes
        return contextlib.nullcontext()

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
        values.setdefault("next_attempt_at", values["scheduled_at"])
        values.setdefault("status", PENDING)
        values.setdefault("attempts", 0)
        values.setdefault("payload", {})
        values.setdefault("reason", "")
        values.setdefault("content_key", "")
        values.setdefault("period_key", "")
        values.setdefault("created_at", self.clock.now())
        dialect = session.bind.dialect.name if session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(Delivery)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(Delivery.id)
        )
        new_id: int | None = (await session.execute(stmt)).scalar_one_or_none()
        return new_id

    async def existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
        """Return which of these idempotency keys already have a delivery."""
        found: set[str] = set()
        # Chunked so the IN list stays within every backend's parameter limit.
        for i in range(0, len(keys), 500):
            rows = await session.scalars(
                select(Delivery.idempotency_key).where(
                    Delivery.idempotency_key.in_(keys[i : i + 500])
                )
            )
            found.update(rows.all())
        return found

    # --- planning -----------------------------------------------------------------

    async def _workspaces(self) -> list[Workspace]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Workspace)
                .where(Workspace.platform.in_(list(self.messengers)))
                .order_by(Workspace.id)
            )
            return list(rows.all())

    async def _plan_workspace(self, workspace: Workspace) -> Planned:
        total = Planned()
        async with self.db.session() as session:
            # Planners only read blackout days and cadence rules: each is read once here.
            read_once.mark(session)
            now = self.clock.now()
            for planner in self.planners:
                done = await planner.plan(session, workspace, now)
                total.count += done.count
                total.refresh += done.refresh
                total.after_commit += done.after_commit
            await session.commit()
        return total

    async def plan(self, on_planned: Callable[[int], None] | None = None) -> int:
        """Create every delivery that fell due, workspace by workspace, each committed at once."""
        planned = 0
        refresh: list[int] = []
        after_commit: dict[Callable[[], Awaitable[None]], None] = {}
        for workspace in await self._workspaces():
            if self._stopping:
                break
            try:
                done = await self._plan_workspace(workspace)
            except DB_ERRORS:
                raise
            except Exception:
                # One workspace's bad data must not stop the others from being planned.
                logger.exception("planning workspace %s failed", workspace.id)
                continue
            planned += done.count
            refresh += done.refresh
            after_commit.update(dict.fromkeys(done.after_commit))
            if on_planned is not None:
                on_planned(workspace.id)
        # Only once the planning is committed may sent messages change (a closed poll, say).
        for delivery_id in refresh:
            await self.update_message(delivery_id)
        for work in after_commit:
            await work()
        return planned

    # --- claims -------------------------------------------------------------------

    async def claim(
        self, limit: int | None = None, only: int | None = None, workspace_id: int | None = None
    ) -> list[int]:
        """Lease exactly ``limit`` due pending deliveries (at most), fairly across workspaces."""
        now = self.clock.now()
        conditions = [Delivery.status == PENDING, Delivery.next_attempt_at <= now]
        if only is not None:
            conditions.append(Delivery.id == only)
        if workspace_id is not None:
            conditions.append(Delivery.workspace_id == workspace_id)
        # Each workspace's oldest first, taken in turns, so no workspace hogs a batch.
        turn = (
            func.row_number()
            .over(
                partition_by=Delivery.workspace_id,
                order_by=(Delivery.next_attempt_at, Delivery.id),
            )
            .label("turn")
        )
        ranked = select(Delivery.id, turn).where(*conditions).subquery()
        limit = limit or self.config.batch_size
        claim = {
            "status": SENDING,
            "claimed_by": self.worker_id,
            "claimed_at": now,
            "attempts": Delivery.attempts + 1,
        }
        async with self._writing(), self.db.session() as session:
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                # Lock exactly the chosen rows in a statement of their own (an IN-subquery with
                # FOR UPDATE is planned as a semi-join that takes the whole backlog); rows another
                # worker holds are skipped, so two claimers each get a full batch.
                chosen = (
                    select(Delivery.id)
                    .join(ranked, ranked.c.id == Delivery.id)
                    .where(Delivery.status == PENDING)
                    .order_by(ranked.c.turn, Delivery.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=Delivery)
                )
                ids = list((await session.scalars(chosen)).all())
                target = Delivery.id.in_(ids)
            else:
                # SQLite takes the write lock when this one statement starts, so choosing and
                # taking the rows cannot interleave with another claimer.
                ids = [0]
                target = Delivery.id.in_(
                    select(ranked.c.id).order_by(ranked.c.turn, ranked.c.id).limit(limit)
                )
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
        self._in_hand.update(claimed)
        return sorted(claimed)

    async def recover(self) -> int:
        """Hand back claims that lapsed: to pending at once, or in doubt when a send had started."""
        now = self.clock.now()
        mine = Delivery.claimed_by == self.worker_id
        if self._in_hand:
            mine = and_(mine, Delivery.id.not_in(list(self._in_hand)))
        lapsed = and_(
            Delivery.status == SENDING,
            or_(mine, Delivery.claimed_at < now - self.config.lease),
        )
        started = Delivery.send_started_at.is_not(None)
        async with self._writing(), self.db.session() as session:
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

    async def _renew(self) -> None:
        async with self._writing(), self.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.claimed_by == self.worker_id, Delivery.status == SENDING)
                .values(claimed_at=self.clock.now())
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def _heartbeat(self) -> None:
        interval = max(self.config.lease.total_seconds() / 4, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._renew()
            except DB_ERRORS as exc:
                self._database_trouble(exc)

    def _database_trouble(self, exc: BaseException) -> None:
        if not self._db_down:
            logger.error("database unreachable (%s); holding results until it is back", exc)
        self._db_down = True

    def _database_fine(self) -> None:
        if self._db_down:
            logger.warning("database reachable again")
        self._db_down = False

    # --- composing ----------------------------------------------------------------

    async def compose(
        self, session: AsyncSession, delivery: Delivery, workspace: Workspace, person: Person
    ) -> Message | None:
        """Render a delivery for its recipient, or None when it can no longer be rendered."""
        handler = self.handlers.get(delivery.kind)
        if handler is None:
            return None
        return await handler.compose(session, delivery, workspace, person, self.clock.now())

    async def _sent_this_week(
        self,
        session: AsyncSession,
        workspace: Workspace,
        people: Iterable[Person],
        now: datetime,
    ) -> dict[int, int]:
        """Count each person's messages since their own working week began, in one query."""
        mondays: dict[int, datetime] = {}
        for person in people:
            mondays[person.id] = await workweeks.budget_week_began(session, workspace, person, now)
        if not mondays:
            return {}
        rows = await session.execute(
            select(Delivery.recipient_id, Delivery.sent_at).where(
                Delivery.recipient_id.in_(list(mondays)),
                Delivery.status == SENT,
                Delivery.sent_at >= min(mondays.values()),
            )
        )
        counts: dict[int, int] = defaultdict(int)
        for recipient_id, sent_at in rows.all():
            if sent_at is not None and sent_at >= mondays[recipient_id]:
                counts[recipient_id] += 1
        return counts

    async def _hold_back(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
        sent_this_week: MutableMapping[int, int],
    ) -> tuple[str, str, datetime | None] | None:
        """Say why this delivery must not go out now: (status, reason, new time) or None."""
        handler = self.handlers.get(delivery.kind)
        if handler is None:
            return (FAILED, f"no handler for kind {delivery.kind!r}", None)
        if person.opted_out:
            return (CANCELLED, "recipient opted out", None)
        if not person.reachable:
            return (CANCELLED, "recipient unreachable", None)
        reason = await handler.hold_back(session, delivery, now)
        if reason is not None:
            return (CANCELLED, reason, None)
        payload = delivery.payload or {}
        if payload.get("explicit"):
            return None
        today = directory.local_today(workspace, person, now)
        avail = await workweeks.availability_of(session, workspace, person)
        if person.paused_until and today <= person.paused_until:
            if handler.rules.deferred_while_paused:
                resume = datetime.combine(
                    person.paused_until + timedelta(days=1), avail.work_start, avail.timezone
                )
                return (PENDING, "paused", next_allowed_moment(resume, avail))
            return (CANCELLED, "recipient paused", None)
        if today in avail.time_off and not handler.rules.deferred_while_paused:
            # Like a pause: what falls due during leave lapses instead of piling up after it.
            return (CANCELLED, "recipient on time off", None)
        local = now.astimezone(avail.timezone)
        in_hours = avail.work_start <= local.time().replace(tzinfo=None) <= avail.work_end
        if not (is_allowed_day(local.date(), avail) and in_hours):
            try:
                return (PENDING, "outside working time", next_allowed_moment(local, avail))
            except NoAllowedDayError:
                return (CANCELLED, "no allowed day ahead", None)
        if handler.rules.budgeted and not payload.get("requested"):
            budget = directory.policy_of(workspace).budget
            if sent_this_week.get(person.id, 0) >= budget:
                return (CANCELLED, "weekly message budget reached", None)
            # Counted now, so a second message in the same batch sees this one.
            sent_this_week[person.id] = sent_this_week.get(person.id, 0) + 1
        return None

    # --- sending ------------------------------------------------------------------

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """Return how long to wait before the next attempt: exponential with jitter."""
        base = self.config.backoff_base * (2 ** max(0, attempts - 1))
        wait: timedelta = min(base, self.config.backoff_cap) * self.rng.uniform(0.5, 1.5)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait

    def _retry(
        self, delivery_id: int, attempts: int, reason: str, retry_after: float | None
    ) -> _Outcome:
        if attempts >= self.config.max_attempts:
            logger.error("delivery %s failed after %d attempts: %s", delivery_id, attempts, reason)
            return _Outcome(
                delivery_id,
                FAILED,
                {"status": FAILED, "last_error": f"gave up after {attempts} attempts: {reason}"},
            )
        logger.info("delivery %s will be tried again: %s", delivery_id, reason)
        return _Outcome(
            delivery_id,
            "retry",
            {
                "status": PENDING,
                "last_error": reason,
                "next_attempt_at": self.clock.now() + self.backoff(attempts, retry_after),
            },
        )

    async def _prepare(self, ids: Sequence[int], result: TickResult) -> list[_Job]:
        """Load, check and compose a claimed batch, then say its sends started; return the jobs."""
        jobs, settled = await self._compose_batch(ids, result)
        await self._start(jobs, settled, result)
        return jobs

    async def _compose_batch(
        self, ids: Sequence[int], result: TickResult
    ) -> tuple[list[_Job], list[tuple[_Outcome, str, str]]]:
        """Load, check and compose a claimed batch in one read transaction.

        Returns the jobs to send and the outcomes of those that will not go (with their
        platform and kind), still to be written.
        """
        now = self.clock.now()
        jobs: list[_Job] = []
        settled: list[tuple[_Outcome, str, str]] = []
        async with self.db.session() as session:
            # Only reads: each workspace's blackout days are read once for the whole batch.
            read_once.mark(session)
            deliveries = list(
                (
                    await session.scalars(
                        select(Delivery)
                        .where(
                            Delivery.id.in_(list(ids)),
                            Delivery.status == SENDING,
                            Delivery.claimed_by == self.worker_id,
                        )
                        .order_by(Delivery.id)
                    )
                ).all()
            )
            for missing in set(ids) - {d.id for d in deliveries}:
                result.count(missing, "not-ours")
            people = {
                p.id: p
                for p in (
                    await session.scalars(
                        select(Person).where(Person.id.in_({d.recipient_id for d in deliveries}))
                    )
                ).all()
            }
            workspaces = {
                w.id: w
                for w in (
                    await session.scalars(
                        select(Workspace).where(
                            Workspace.id.in_({d.workspace_id for d in deliveries})
                        )
                    )
                ).all()
            }
            counts: dict[int, int] = {}
            for workspace in workspaces.values():
                counts.update(
                    await self._sent_this_week(
                        session,
                        workspace,
                        [p for p in people.values() if p.workspace_id == workspace.id],
                        now,
                    )
                )
            for number, delivery in enumerate(deliveries, 1):
                if number % COMPOSE_SLICE == 0:
                    # Composing a chunk is CPU work that never waits: let the sends that are due
                    # go out meanwhile, or they leave late and reach the platform bunched.
                    await asyncio.sleep(0)
                token = current_delivery.set(delivery.id)
                try:
                    person = people[delivery.recipient_id]
                    workspace = workspaces[delivery.workspace_id]
                    outcome, job = await self._check_and_compose(
                        session, delivery, workspace, person, now, counts
                    )
                except Exception as exc:
                    logger.exception("delivery %s could not be prepared", delivery.id)
                    outcome, job = (
                        self._retry(delivery.id, delivery.attempts, f"unexpected: {exc}", None),
                        None,
                    )
                finally:
                    current_delivery.reset(token)
                if job is not None:
                    jobs.append(job)
                elif outcome is not None:
                    platform = workspaces[delivery.workspace_id].platform
                    settled.append((outcome, platform, delivery.kind))
            # Reads end here: on SQLite a transaction that read and then writes fails at once
            # when another writer committed meanwhile, so the writes get a transaction of their own.
            await session.commit()
        return jobs, settled

    async def _start(
        self, jobs: Sequence[_Job], settled: Sequence[tuple[_Outcome, str, str]], result: TickResult
    ) -> None:
        """Write what will not go, and commit ``send_started_at`` of the jobs before any send."""
        if jobs or settled:
            async with self._writing(), self.db.session() as session:
                await self._write(session, [outcome for outcome, _, _ in settled])
                if jobs:
                    # From here on a lapsed claim is in doubt.
                    await session.execute(
                        update(Delivery)
                        .where(
                            Delivery.id.in_([job.delivery_id for job in jobs]),
                            Delivery.claimed_by == self.worker_id,
                        )
                        .values(send_started_at=self.clock.now())
                        .execution_options(synchronize_session=False)
                    )
                await session.commit()
        for outcome, platform, kind in settled:
            result.count(outcome.delivery_id, outcome.status)
            metrics.DELIVERIES.labels(platform, kind, outcome.status).inc()

    async def _check_and_compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
        counts: MutableMapping[int, int],
    ) -> tuple[_Outcome | None, _Job | None]:
        verdict = await self._hold_back(session, delivery, workspace, person, now, counts)
        if verdict is not None:
            status, reason, when = verdict
            values: dict[str, Any] = {"status": status, "last_error": reason}
            if when is not None:
                # Waiting for working time is not a failed attempt.
                values.update(next_attempt_at=when, attempts=delivery.attempts - 1)
            logger.info("delivery %s held back (%s): %s", delivery.id, status, reason)
            return _Outcome(delivery.id, status, values), None
        message = await self.compose(session, delivery, workspace, person)
        if message is None:
            logger.warning("delivery %s failed: its content no longer exists", delivery.id)
            return _Outcome(
                delivery.id, FAILED, {"status": FAILED, "last_error": "content no longer exists"}
            ), None
        recipient = Recipient(workspace.platform, workspace.external_id, person.external_id)
        return None, _Job(
            delivery_id=delivery.id,
            kind=delivery.kind,
            recipient=recipient,
            person_id=person.id,
            message=message,
            attempts=delivery.attempts,
            in_doubt=delivery.send_started_at is not None,
        )

    async def _send(self, job: _Job, pacer: Pacer) -> _Outcome:
        """Send one job, waiting out "too many requests" in place; never raise."""
        token = current_delivery.set(job.delivery_id)
        platform = job.recipient.platform
        try:
            messenger = self.messengers.get(platform)
            if messenger is None:
                return self._retry(
                    job.delivery_id, job.attempts, f"platform {platform} is not enabled", None
                )
            limited = 0
            while True:
                started = time.perf_counter()
                try:
                    ref = await messenger.send(job.recipient, job.message, retry=job.in_doubt)
                except DeliveryError as exc:
                    if exc.permanent:
                        return self._permanent(job, exc)
                    metrics.RETRIES.labels(platform).inc()
                    if exc.retry_after is not None:
                        metrics.RATE_LIMITED.labels(platform).inc()
                        pacer.on_rate_limited(min(exc.retry_after, self.config.max_pause))
                        limited += 1
                        short = exc.retry_after <= self.config.rate_limit_wait
                        if (
                            short
                            and limited <= self.config.rate_limit_retries
                            and await pacer.acquire(self.stopping)
                        ):
                            continue
                    if exc.retry_after is not None:
                        return self._rate_limited(job, exc.retry_after)
                    return self._retry(job.delivery_id, job.attempts, exc.reason, None)
                except Exception as exc:
                    logger.exception("delivery %s: unexpected error while sending", job.delivery_id)
                    return self._retry(job.delivery_id, job.attempts, f"unexpected: {exc}", None)
                metrics.SEND_SECONDS.labels(platform).observe(time.perf_counter() - started)
                pacer.on_success()
                logger.info(
                    "delivered %s %s to person %s", job.kind, job.delivery_id, job.person_id
                )
                return _Outcome(
                    job.delivery_id,
                    SENT,
                    {
                        "status": SENT,
                        "sent_at": self.clock.now(),
                        "message_ref": ref.encode(),
                        "last_error": None,
                    },
                )
        finally:
            current_delivery.reset(token)

    def _rate_limited(self, job: _Job, retry_after: float) -> _Outcome:
        """Queue a rate-limited send again after Retry-After; being refused is no failed attempt."""
        wait = timedelta(seconds=retry_after * self.rng.uniform(1.0, 1.5))
        logger.info("delivery %s rate-limited; queued again in %s", job.delivery_id, wait)
        return _Outcome(
            job.delivery_id,
            "retry",
            {
                "status": PENDING,
                "last_error": "ratelimited",
                "attempts": job.attempts - 1,
                "next_attempt_at": self.clock.now() + wait,
            },
        )

    def _permanent(self, job: _Job, exc: DeliveryError) -> _Outcome:
        values = {"status": FAILED, "last_error": exc.reason}
        if exc.scope == "recipient":
            logger.warning("delivery %s failed for good: %s", job.delivery_id, exc.reason)
            return _Outcome(job.delivery_id, FAILED, values, (job.person_id, exc.reason))
        logger.error(
            "delivery %s failed (%s problem in workspace %s): %s",
            job.delivery_id,
            exc.scope,
            job.recipient.workspace_external_id,
            exc.reason,
        )
        return _Outcome(job.delivery_id, FAILED, values)

    async def _write(self, session: AsyncSession, outcomes: Sequence[_Outcome]) -> None:
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
                    table.c.claimed_by == self.worker_id,
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

    async def _release(self, session: AsyncSession, rows: Sequence[tuple[int, bool]]) -> None:
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
                    Delivery.claimed_by == self.worker_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    async def _record(
        self, outcomes: Sequence[_Outcome], release: Sequence[tuple[int, bool]]
    ) -> None:
        """Write a batch's outcomes in one transaction, or keep them until the database is back."""
        self._unrecorded.extend(outcomes)
        self._unreleased.extend(release)
        await self.flush()

    async def flush(self) -> None:
        """Write held outcomes and releases; on a database error keep them for the next try.

        One flush at a time: whoever waits finds the outcomes the lanes added meanwhile and
        writes them all in one transaction, and only what was written leaves the lists.
        """
        async with self._flush_lock:
            if not self._unrecorded and not self._unreleased:
                return
            outcomes, release = list(self._unrecorded), list(self._unreleased)
            try:
                async with self._writing(), self.db.session() as session:
                    await self._write(session, outcomes)
                    await self._release(session, release)
                    await session.commit()
            except DB_ERRORS as exc:
                self._database_trouble(exc)
                return
            self._database_fine()
            # Only appends happened while the lock was held, so the written ones lead the lists.
            del self._unrecorded[: len(outcomes)]
            del self._unreleased[: len(release)]
        if release:
            logger.info("handed %d claimed deliveries back to the queue", len(release))

    def pacer(self, workspace_id: int) -> Pacer:
        """Return the workspace's pacer, made on first use."""
        pacer = self._pacers.get(workspace_id)
        if pacer is None:
            pacer = Pacer(
                self.config.send_rate_per_workspace,
                start=self.config.initial_rate,
                shared=shared_pace(self.db, workspace_id),
            )
            self._pacers[workspace_id] = pacer
        return pacer

    async def _send_batch(self, ids: Sequence[int], pacer: Pacer, result: TickResult) -> None:
        self._in_hand.update(ids)
        try:
            jobs = await self._prepare(ids, result)
            in_flight = asyncio.Semaphore(self.config.max_in_flight)
            tasks, untried = await self._start_sends(jobs, pacer, in_flight)
            await self._finish(jobs, tasks, untried, result)
        finally:
            self._in_hand.difference_update(ids)

    async def _start_sends(
        self,
        jobs: Sequence[_Job],
        pacer: Pacer,
        in_flight: asyncio.Semaphore,
        nearly_done: asyncio.Event | None = None,
        margin: int = 0,
        halfway: asyncio.Event | None = None,
    ) -> tuple[list[asyncio.Task[_Outcome]], list[_Job]]:
        """Start each job's send at the pacer's pace; return the sends and the jobs not started.

        ``nearly_done`` is set once at most ``margin`` jobs are left to start, ``halfway`` once
        half of them started.
        """
        tasks: list[asyncio.Task[_Outcome]] = []

        async def send(job: _Job) -> _Outcome:
            try:
                return await self._send(job, pacer)
            finally:
                in_flight.release()

        for index, job in enumerate(jobs):
            if halfway is not None and index >= len(jobs) // 2:
                halfway.set()
            if nearly_done is not None and len(jobs) - index <= margin:
                nearly_done.set()
            if not await pacer.acquire(self.stopping):
                return tasks, list(jobs[index:])
            await in_flight.acquire()
            tasks.append(asyncio.create_task(send(job)))
        for event in (halfway, nearly_done):
            if event is not None:
                event.set()
        return tasks, []

    async def _finish(
        self,
        jobs: Sequence[_Job],
        tasks: Sequence[asyncio.Task[_Outcome]],
        untried: Sequence[_Job],
        result: TickResult,
    ) -> None:
        """Wait for a batch's sends, then write their outcomes and hand the untried back."""
        outcomes = list(await asyncio.gather(*tasks))
        platforms = {job.delivery_id: (job.recipient.platform, job.kind) for job in jobs}
        for outcome in outcomes:
            result.count(outcome.delivery_id, outcome.status)
            platform, kind = platforms[outcome.delivery_id]
            metrics.DELIVERIES.labels(platform, kind, outcome.status).inc()
        await self._record(outcomes, [(job.delivery_id, job.in_doubt) for job in untried])

    def _chunk(self, pacer: Pacer) -> int:
        # About two seconds of sending: big enough to amortise the queries, small enough that a
        # stop or a crash hands little back.
        return max(5, min(self.config.batch_size, int(pacer.rate * 2)))

    async def _claim_ahead(
        self,
        workspace_id: int,
        pacer: Pacer,
        result: TickResult,
        claim: asyncio.Event,
        go: asyncio.Event,
    ) -> tuple[list[int], list[_Job]] | None:
        """Claim a workspace's next chunk once ``claim`` is set; say it started once ``go`` is.

        Claiming and composing overlap the sending of the chunk before, so the pacer does not
        wait for the database; ``send_started_at`` is still written only just before the chunk
        is sent, so a crash leaves no more rows in doubt than before.
        """
        await claim.wait()
        if self._stopping:
            return None
        ids = await self.claim(limit=self._chunk(pacer), workspace_id=workspace_id)
        if not ids:
            return None
        try:
            jobs, settled = await self._compose_batch(ids, result)
            await go.wait()
            # Stopping, the chunk goes back untried: it must not be marked as being sent.
            await self._start([] if self._stopping else jobs, settled, result)
        except BaseException:
            # Not in hand any more: the next tick's recovery hands the claim back.
            self._in_hand.difference_update(ids)
            raise
        return ids, jobs

    async def _lane(self, workspace_id: int, result: TickResult) -> None:
        """Claim and send one workspace's due deliveries until none are left or we stop.

        While one chunk is sent the next is claimed and composed, and each chunk's outcomes are
        written while the next is sent: the workspace's pace never waits for the database.
        """
        pacer = self.pacer(workspace_id)
        in_flight = asyncio.Semaphore(self.config.max_in_flight)
        finishing: list[asyncio.Task[None]] = []
        go = halfway = asyncio.Event()
        go.set()
        ahead: asyncio.Task[tuple[list[int], list[_Job]] | None] | None = asyncio.create_task(
            self._claim_ahead(workspace_id, pacer, result, halfway, go)
        )
        try:
            while ahead is not None:
                chunk, ahead = await ahead, None
                if chunk is None:
                    break
                ids, jobs = chunk
                go, halfway = asyncio.Event(), asyncio.Event()
                if not self._stopping:
                    ahead = asyncio.create_task(
                        self._claim_ahead(workspace_id, pacer, result, halfway, go)
                    )
                # The next chunk is claimed once half of this one went out (so the lanes' database
                # work spreads out instead of coming all at once), and its "started" write gets
                # about half a second before it is needed.
                margin = max(1, int(pacer.rate / 2))
                tasks, untried = await self._start_sends(
                    jobs, pacer, in_flight, go, margin, halfway
                )
                finishing.append(
                    asyncio.create_task(self._finish_chunk(ids, jobs, tasks, untried, result))
                )
                if untried and ahead is not None:
                    # Stopping: the chunk claimed ahead goes back untried as well.
                    break
        except DB_ERRORS as exc:
            # What was claimed and not started is handed back by the next tick's recovery.
            self._database_trouble(exc)
        finally:
            if ahead is not None:
                halfway.set()
                go.set()
                try:
                    chunk = await ahead
                except DB_ERRORS as exc:
                    self._database_trouble(exc)
                    chunk = None
                except Exception:
                    # Already raised from the loop above; its claim is left to the recovery.
                    chunk = None
                if chunk is not None:
                    ids, jobs = chunk
                    finishing.append(
                        asyncio.create_task(self._finish_chunk(ids, jobs, [], jobs, result))
                    )
            await asyncio.gather(*finishing)

    async def _finish_chunk(
        self,
        ids: Sequence[int],
        jobs: Sequence[_Job],
        tasks: Sequence[asyncio.Task[_Outcome]],
        untried: Sequence[_Job],
        result: TickResult,
    ) -> None:
        try:
            await self._finish(jobs, tasks, untried, result)
        finally:
            self._in_hand.difference_update(ids)

    async def send_claimed(self, ids: Sequence[int], result: TickResult) -> None:
        """Send already claimed deliveries: paced per workspace, workspaces concurrently."""
        if not ids:
            return
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.workspace_id).where(Delivery.id.in_(list(ids)))
                )
            ).all()
        groups: dict[int, list[int]] = defaultdict(list)
        for delivery_id, workspace_id in rows:
            groups[workspace_id].append(delivery_id)
        await asyncio.gather(
            *(self._send_batch(sorted(g), self.pacer(w), result) for w, g in groups.items())
        )

    async def _due_workspaces(self) -> list[int]:
        async with self.db.session() as session:
            # Only workspaces of a platform this process serves: another platform's rows wait
            # for a process that has its messenger instead of burning their attempts here.
            rows = await session.scalars(
                select(Delivery.workspace_id)
                .join(Workspace, Workspace.id == Delivery.workspace_id)
                .where(
                    Delivery.status == PENDING,
                    Delivery.next_attempt_at <= self.clock.now(),
                    Workspace.platform.in_(list(self.messengers)),
                )
                .distinct()
            )
            return list(rows.all())

    async def next_due(self) -> datetime | None:
        """Return when the earliest pending delivery falls due, if any."""
        async with self.db.session() as session:
            when: datetime | None = await session.scalar(
                select(func.min(Delivery.next_attempt_at))
                .join(Workspace, Workspace.id == Delivery.workspace_id)
                .where(Delivery.status == PENDING, Workspace.platform.in_(list(self.messengers)))
            )
        return when

    async def _queue_depth(self) -> None:
        async with self.db.session() as session:
            depth = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.status.in_([PENDING, SENDING]),
                    Delivery.next_attempt_at <= self.clock.now(),
                )
            )
        metrics.QUEUE_DEPTH.set(int(depth or 0))

    async def tick(self) -> TickResult:
        """Recover lapsed claims, then plan and send at once: a workspace sends once planned."""
        result = TickResult()
        if self._stopping:
            return result
        lanes: dict[int, asyncio.Task[None]] = {}

        def start_lane(workspace_id: int) -> None:
            lane = lanes.get(workspace_id)
            if lane is None or lane.done():
                lanes[workspace_id] = asyncio.create_task(self._lane(workspace_id, result))

        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self.flush()
            result.recovered = await self.recover()
            self._database_fine()
            if self.db.engine.dialect.name == "sqlite":
                # One writer at a time: planning (which reads, then writes) goes first.
                result.planned = await self.plan()
                for workspace_id in await self._due_workspaces():
                    start_lane(workspace_id)
            else:
                for workspace_id in await self._due_workspaces():
                    start_lane(workspace_id)
                result.planned = await self.plan(start_lane)
            await asyncio.gather(*lanes.values())
            # Rows planned while their workspace's lane was finishing (none when nothing was
            # planned or sent: an idle tick looks once).
            if not self._stopping and (lanes or result.planned):
                for workspace_id in await self._due_workspaces():
                    start_lane(workspace_id)
                await asyncio.gather(*lanes.values())
            await self._queue_depth()
        except DB_ERRORS as exc:
            # Logged once per outage here; the caller only needs to know the tick did not run.
            self._database_trouble(exc)
            raise
        finally:
            await asyncio.gather(*lanes.values(), return_exceptions=True)
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        return result

    async def send_now(self, delivery_id: int) -> str:
        """Claim and send one delivery straight away (for explicit requests)."""
        result = TickResult()
        ids = await self.claim(only=delivery_id)
        await self.send_claimed(ids, result)
        return result.statuses.get(delivery_id, "not-due")

    def request_stop(self) -> None:
        """Finish the messages in hand, hand the rest back and take no more."""
        self._stopping = True

    def stopping(self) -> bool:
        """Tell whether a stop was requested."""
        return self._stopping

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
