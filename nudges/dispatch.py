"""Plan due deliveries, claim them, and send each one exactly once.

The database is the source of truth. A delivery row is created with a unique idempotency key
(recipient, item, occurrence), so a retried tick, a restart or a second replica can only ever
insert it once; it is then claimed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) before it is sent,
so only one worker sends it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from nudges import directory
from nudges.cadences import NUDGE, CadenceBook, OccurrenceMemo
from nudges.compose import followup_message, nudge_message
from nudges.content.catalogue import Catalogue
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, NudgeState
from nudges.i18n import t
from nudges.messages import Message
from nudges.planner import Choice, choose
from nudges.ports import Clock, DeliveryError, MessageRef, Messenger, Recipient
from nudges.pulse import answers as pulse_answers
from nudges.pulse import digest as pulse_digest
from nudges.pulse import schedule as pulse_schedule
from nudges.scheduling.calendar import (
    NoAllowedDayError,
    Occurrence,
    is_allowed_day,
    next_allowed_moment,
)
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

# Kinds the weekly budget may hold back; follow-ups answer the manager's own request.
BUDGETED = {
    DeliveryKind.NUDGE,
    DeliveryKind.PULSE,
    DeliveryKind.PULSE_REMINDER,
    DeliveryKind.DIGEST,
}


@dataclass(frozen=True)
class EngineConfig:
    """Tunables of the dispatcher."""

    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    # How far back a tick still plans an occurrence it missed (downtime, a slow tick).
    lookback: timedelta = timedelta(hours=12)
    batch_size: int = 100
    send_rate_per_workspace: float = 1.0
    # A claim older than this belonged to a worker that died mid-send.
    claim_timeout: timedelta = timedelta(minutes=10)


@dataclass
class TickResult:
    """What one tick did."""

    planned: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: int = 0
    statuses: dict[int, str] = field(default_factory=dict)


def idempotency_key(kind: DeliveryKind, recipient_id: int, item: str) -> str:
    """Build the unique key of a delivery: kind, recipient and occurrence."""
    return f"{kind.value}:{recipient_id}:{item}"


class Dispatcher:
    """Turn schedules into deliveries and deliveries into messages."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: Catalogue,
        messengers: Mapping[str, Messenger],
        config: EngineConfig | None = None,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalogue = catalogue
        self.messengers: MutableMapping[str, Messenger] = dict(messengers)
        self.config = config or EngineConfig()
        self.worker_id = worker_id or uuid.uuid4().hex[:12]
        self.rng = rng or random.Random()

    # --- planning -----------------------------------------------------------------

    def key_for(self, kind: DeliveryKind, recipient_id: int, item: str) -> str:
        """Build a delivery's idempotency key, for planners that live outside this module."""
        return idempotency_key(kind, recipient_id, item)

    async def insert_delivery(self, session: AsyncSession, **values: Any) -> int | None:
        """Insert a delivery unless its idempotency key exists; return its id if inserted."""
        values.setdefault("next_attempt_at", values["scheduled_at"])
        values.setdefault("status", DeliveryStatus.PENDING.value)
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

    async def _existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
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

    async def existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
        """Return which of these idempotency keys already have a delivery."""
        return await self._existing_keys(session, keys)

    async def insert_choice(
        self,
        session: AsyncSession,
        *,
        key: str,
        kind: DeliveryKind,
        workspace_id: int,
        recipient_id: int,
        choice: Choice,
        scheduled_at: datetime,
        period_key: str = "",
        explicit: bool = False,
    ) -> int | None:
        """Insert the delivery of a planner choice unless its key exists; return its id if new."""
        payload = self.choice_payload(choice)
        if explicit:
            payload = {"explicit": True, **payload}
        return await self.insert_delivery(
            session,
            idempotency_key=key,
            workspace_id=workspace_id,
            recipient_id=recipient_id,
            kind=kind.value,
            content_key=choice.nudge_key,
            period_key=period_key,
            subject_id=choice.subject_id,
            reason=choice.explain("en"),
            payload=payload,
            scheduled_at=scheduled_at,
        )

    def choice_payload(self, choice: Choice) -> dict[str, Any]:
        """Store what the message needs to be rendered again later."""
        return {
            "kind": choice.kind.value,
            "member": choice.subject_external_id,
            "reason_key": choice.reason_key,
            "reason_params": dict(choice.reason_params),
        }

    async def plan_nudges(self, session: AsyncSession, workspace: Workspace) -> int:
        """Create the nudge deliveries that fell due for every manager of ``workspace``."""
        now = self.clock.now()
        blackouts = await directory.blackout_days(session, workspace.id)
        book = await CadenceBook.load(session, workspace.id, NUDGE)
        memo = OccurrenceMemo()
        due: dict[str, tuple[Person, Occurrence]] = {}
        for manager in await directory.managers(session, workspace.id):
            if manager.opted_out or not manager.reachable:
                continue
            spec, _source = book.spec_for(manager.id)
            avail = directory.availability(workspace, manager, blackouts)
            start = max(now - self.config.lookback, manager.created_at)
            for occ in memo.between(spec, avail, start, now + timedelta(seconds=1)):
                if manager.paused_until and occ.local.date() <= manager.paused_until:
                    continue
                due[idempotency_key(DeliveryKind.NUDGE, manager.id, occ.period_key)] = (
                    manager,
                    occ,
                )
        existing = await self._existing_keys(session, list(due))
        planned = 0
        for key, (manager, occ) in due.items():
            if key in existing:
                continue
            inp = await directory.planner_input(session, workspace, manager, now)
            choice = choose(inp, self.catalogue, now)
            if choice is None:
                continue
            new_id = await self.insert_choice(
                session,
                key=key,
                kind=DeliveryKind.NUDGE,
                workspace_id=workspace.id,
                recipient_id=manager.id,
                choice=choice,
                scheduled_at=occ.utc,
                period_key=occ.period_key,
            )
            planned += new_id is not None
            if new_id is not None and pulse_digest.digest_is_separate(workspace):
                planned += await self.plan_digest(session, workspace, manager, occ)
        return planned

    async def plan_digest(
        self, session: AsyncSession, workspace: Workspace, manager: Person, occ: Occurrence
    ) -> int:
        """Create the pulse digest as its own message beside a manager's nudge."""
        if not await pulse_digest.has_digest(session, workspace, manager):
            return 0
        new_id = await self.insert_delivery(
            session,
            idempotency_key=idempotency_key(DeliveryKind.DIGEST, manager.id, occ.period_key),
            workspace_id=workspace.id,
            recipient_id=manager.id,
            kind=DeliveryKind.DIGEST.value,
            period_key=occ.period_key,
            scheduled_at=occ.utc,
        )
        return int(new_id is not None)

    async def plan_followups(self, session: AsyncSession, workspace: Workspace) -> int:
        """Create "Did it happen?" deliveries for commitments due today or earlier."""
        now = self.clock.now()
        planned = 0
        blackouts = await directory.blackout_days(session, workspace.id)
        rows = (
            await session.execute(
                select(Commitment, Person)
                .join(Person, Person.id == Commitment.manager_id)
                .where(
                    Commitment.workspace_id == workspace.id,
                    Commitment.state.in_([CommitmentState.OPEN.value, CommitmentState.MOVED.value]),
                )
            )
        ).all()
        for commitment, manager in rows:
            if manager.opted_out or not manager.reachable:
                continue
            if commitment.due_on > directory.local_today(workspace, manager, now):
                continue
            key = idempotency_key(
                DeliveryKind.FOLLOWUP, manager.id, f"{commitment.id}:{commitment.due_on}"
            )
            avail = directory.availability(workspace, manager, blackouts)
            zone = directory.zone_of(workspace, manager)
            start = datetime.combine(commitment.due_on, avail.work_start, zone)
            try:
                when = next_allowed_moment(max(start, now.astimezone(zone)), avail)
            except NoAllowedDayError:
                continue
            new_id = await self.insert_delivery(
                session,
                idempotency_key=key,
                workspace_id=workspace.id,
                recipient_id=manager.id,
                kind=DeliveryKind.FOLLOWUP.value,
                content_key=f"commitment:{commitment.id}",
                period_key=commitment.due_on.isoformat(),
                subject_id=commitment.member_id,
                reason=t("en", "planner.reason.followup"),
                payload={"commitment_id": commitment.id},
                scheduled_at=when,
            )
            planned += new_id is not None
        return planned

    async def plan(self) -> int:
        """Create every delivery that fell due, for every workspace on an enabled platform."""
        now = self.clock.now()
        planned = 0
        closed: list[int] = []
        async with self.db.session() as session:
            workspaces = (
                await session.scalars(
                    select(Workspace).where(Workspace.platform.in_(list(self.messengers)))
                )
            ).all()
            for workspace in workspaces:
                planned += await self.plan_nudges(session, workspace)
                planned += await self.plan_followups(session, workspace)
                closed += await pulse_schedule.close_due(session, workspace, now)
                planned += await pulse_schedule.plan_pulses(self, session, workspace, now)
            await session.commit()
        if closed:
            await pulse_answers.scrub(self.db)
        # Only once the closing is committed may the poll messages lose their buttons.
        for delivery_id in closed:
            await self.update_message(delivery_id)
        return planned

    # --- claiming -----------------------------------------------------------------

    async def claim(self, limit: int | None = None, only: int | None = None) -> list[int]:
        """Mark due pending deliveries as ours and return their ids."""
        now = self.clock.now()
        async with self.db.session() as session:
            await self._recover_stale_claims(session, now)
            due = (
                select(Delivery.id)
                .where(
                    Delivery.status == DeliveryStatus.PENDING.value,
                    Delivery.next_attempt_at <= now,
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit or self.config.batch_size)
            )
            if only is not None:
                due = due.where(Delivery.id == only)
            if session.bind and session.bind.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            stmt = (
                update(Delivery)
                .where(
                    Delivery.id.in_(due.scalar_subquery()),
                    Delivery.status == DeliveryStatus.PENDING.value,
                )
                .values(
                    status=DeliveryStatus.SENDING.value,
                    claimed_by=self.worker_id,
                    claimed_at=now,
                    attempts=Delivery.attempts + 1,
                )
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
            ids = list((await session.scalars(stmt)).all())
            await session.commit()
        return sorted(ids)

    async def _recover_stale_claims(self, session: AsyncSession, now: datetime) -> None:
        # A worker died between claiming and recording the result. The message may or may not
        # have gone out; we prefer a missed nudge to a duplicate, so it is failed, not retried.
        await session.execute(
            update(Delivery)
            .where(
                Delivery.status == DeliveryStatus.SENDING.value,
                Delivery.claimed_at < now - self.config.claim_timeout,
            )
            .values(
                status=DeliveryStatus.FAILED.value,
                last_error="interrupted while sending; not retried to avoid a duplicate",
            )
            .execution_options(synchronize_session=False)
        )

    # --- sending ------------------------------------------------------------------

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """Return how long to wait before the next attempt: exponential with jitter."""
        base = self.config.backoff_base * (2 ** max(0, attempts - 1))
        wait: timedelta = min(base, self.config.backoff_cap) * self.rng.uniform(0.5, 1.5)
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait

    async def _finish(self, delivery_id: int, **values: Any) -> None:
        async with self.db.session() as session:
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.status == DeliveryStatus.SENDING.value,
                    Delivery.claimed_by == self.worker_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()

    async def sent_this_week(
        self, session: AsyncSession, workspace: Workspace, person: Person, now: datetime
    ) -> int:
        """Count the messages ``person`` got since Monday 00:00 of their own (ISO) week."""
        zone = directory.zone_of(workspace, person)
        local = now.astimezone(zone)
        monday = datetime.combine(
            local.date() - timedelta(days=local.weekday()), datetime.min.time(), zone
        )
        count = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.recipient_id == person.id,
                Delivery.status == DeliveryStatus.SENT.value,
                Delivery.sent_at >= monday,
            )
        )
        return int(count or 0)

    async def compose(
        self, session: AsyncSession, delivery: Delivery, workspace: Workspace, person: Person
    ) -> Message | None:
        """Render a delivery for its recipient, or None when it can no longer be rendered."""
        locale = directory.locale_of(workspace, person)
        kind = DeliveryKind(delivery.kind)
        payload = delivery.payload or {}
        if kind in (DeliveryKind.NUDGE, DeliveryKind.SAMPLE):
            try:
                nudge = self.catalogue.nudge(delivery.content_key)
            except KeyError:
                return None
            reason_key = payload.get("reason_key")
            reason = t(locale, reason_key, **payload.get("reason_params", {})) if reason_key else ""
            snoozed = payload.get("snoozed_until")
            message = nudge_message(
                delivery_id=delivery.id,
                nudge=nudge,
                locale=locale,
                catalogue=self.catalogue,
                member=payload.get("member"),
                reason=reason,
                outcome=delivery.outcome,
                snoozed_until=date.fromisoformat(snoozed) if snoozed else None,
            )
            weekly = kind is DeliveryKind.NUDGE and "snooze_of" not in payload
            if weekly and not pulse_digest.digest_is_separate(workspace):
                section = await pulse_digest.digest_section(
                    session, workspace, person, locale, self.clock.now(), self.catalogue
                )
                message = replace(message, blocks=(*message.blocks, *section))
            return message
        if kind is DeliveryKind.FOLLOWUP:
            commitment = await session.get(Commitment, payload.get("commitment_id"))
            if commitment is None:
                return None
            member = (
                await session.get(Person, commitment.member_id) if commitment.member_id else None
            )
            state = delivery.outcome or CommitmentState.OPEN.value
            return followup_message(
                delivery_id=delivery.id,
                locale=locale,
                text=commitment.text,
                due_on=commitment.due_on,
                member=member.external_id if member else None,
                state=state,
            )
        if kind in pulse_schedule.PULSE_KINDS:
            return await pulse_schedule.compose(
                session, self.catalogue, delivery, workspace, person, self.clock.now()
            )
        if kind is DeliveryKind.DIGEST:
            return await pulse_digest.digest_message(
                session, workspace, person, locale, self.clock.now(), self.catalogue, delivery.id
            )
        return None

    async def deliver(self, delivery_id: int) -> str:
        """Send one claimed delivery and record the result; return its new status."""
        now = self.clock.now()
        async with self.db.session() as session:
            delivery = await session.get(Delivery, delivery_id)
            if (
                delivery is None
                or delivery.status != DeliveryStatus.SENDING.value
                or delivery.claimed_by != self.worker_id
            ):
                return "not-ours"
            person = await session.get(Person, delivery.recipient_id)
            workspace = await session.get(Workspace, delivery.workspace_id)
            assert person is not None and workspace is not None
            kind = DeliveryKind(delivery.kind)
            explicit = bool((delivery.payload or {}).get("explicit"))
            verdict = await self._hold_back(session, delivery, workspace, person, now, explicit)
            if verdict is not None:
                return await self._apply_verdict(delivery, verdict)
            message = await self.compose(session, delivery, workspace, person)
            recipient = Recipient(workspace.platform, workspace.external_id, person.external_id)
        if message is None:
            await self._finish(
                delivery_id,
                status=DeliveryStatus.FAILED.value,
                last_error="content no longer exists",
            )
            return DeliveryStatus.FAILED.value
        messenger = self.messengers.get(recipient.platform)
        if messenger is None:
            return await self._retry(
                delivery, f"platform {recipient.platform} is not enabled", None
            )
        try:
            ref = await messenger.send(recipient, message, retry=delivery.attempts > 1)
        except DeliveryError as exc:
            if exc.permanent:
                if exc.scope == "recipient":
                    await self._mark_unreachable(person.id, exc.reason)
                    logger.warning("delivery %s failed for good: %s", delivery_id, exc.reason)
                else:
                    logger.error(
                        "delivery %s failed (%s problem in workspace %s): %s",
                        delivery_id,
                        exc.scope,
                        recipient.workspace_external_id,
                        exc.reason,
                    )
                await self._finish(
                    delivery_id, status=DeliveryStatus.FAILED.value, last_error=exc.reason
                )
                return DeliveryStatus.FAILED.value
            return await self._retry(delivery, exc.reason, exc.retry_after)
        except Exception as exc:
            logger.exception("delivery %s: unexpected error while sending", delivery_id)
            return await self._retry(delivery, f"unexpected: {exc}", None)
        await self._finish(
            delivery_id,
            status=DeliveryStatus.SENT.value,
            sent_at=self.clock.now(),
            message_ref=ref.encode(),
            last_error=None,
        )
        logger.info("delivered %s %s to person %s", kind.value, delivery_id, person.id)
        return DeliveryStatus.SENT.value

    async def _hold_back(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
        explicit: bool,
    ) -> tuple[str, str, datetime | None] | None:
        """Say why this delivery must not go out now: (status, reason, new time) or None."""
        kind = DeliveryKind(delivery.kind)
        if person.opted_out:
            return (DeliveryStatus.CANCELLED.value, "recipient opted out", None)
        if not person.reachable:
            return (DeliveryStatus.CANCELLED.value, "recipient unreachable", None)
        pulse_reason = await pulse_schedule.hold_back(session, delivery, now)
        if pulse_reason is not None:
            return (DeliveryStatus.CANCELLED.value, pulse_reason, None)
        if explicit:
            return None
        today = directory.local_today(workspace, person, now)
        blackouts = await directory.blackout_days(session, workspace.id)
        avail = directory.availability(workspace, person, blackouts)
        if person.paused_until and today <= person.paused_until:
            if kind is DeliveryKind.FOLLOWUP:
                resume = datetime.combine(
                    person.paused_until + timedelta(days=1), avail.work_start, avail.timezone
                )
                return (DeliveryStatus.PENDING.value, "paused", next_allowed_moment(resume, avail))
            return (DeliveryStatus.CANCELLED.value, "recipient paused", None)
        local = now.astimezone(avail.timezone)
        in_hours = avail.work_start <= local.time().replace(tzinfo=None) <= avail.work_end
        if not (is_allowed_day(local.date(), avail) and in_hours):
            try:
                return (
                    DeliveryStatus.PENDING.value,
                    "outside working time",
                    next_allowed_moment(local, avail),
                )
            except NoAllowedDayError:
                return (DeliveryStatus.CANCELLED.value, "no allowed day ahead", None)
        if kind in BUDGETED and not (delivery.payload or {}).get("requested"):
            policy = directory.policy_of(workspace)
            if await self.sent_this_week(session, workspace, person, now) >= policy.budget:
                return (DeliveryStatus.CANCELLED.value, "weekly message budget reached", None)
        return None

    async def _apply_verdict(
        self, delivery: Delivery, verdict: tuple[str, str, datetime | None]
    ) -> str:
        status, reason, when = verdict
        values: dict[str, Any] = {"status": status, "last_error": reason}
        if when is not None:
            # Waiting for working time is not a failed attempt.
            values.update(next_attempt_at=when, attempts=delivery.attempts - 1)
        await self._finish(delivery.id, **values)
        return status

    async def _retry(self, delivery: Delivery, reason: str, retry_after: float | None) -> str:
        if delivery.attempts >= self.config.max_attempts:
            await self._finish(
                delivery.id,
                status=DeliveryStatus.FAILED.value,
                last_error=f"gave up after {delivery.attempts} attempts: {reason}",
            )
            return DeliveryStatus.FAILED.value
        await self._finish(
            delivery.id,
            status=DeliveryStatus.PENDING.value,
            last_error=reason,
            next_attempt_at=self.clock.now() + self.backoff(delivery.attempts, retry_after),
        )
        return "retry"

    async def _mark_unreachable(self, person_id: int, reason: str) -> None:
        async with self.db.session() as session:
            person = await session.get(Person, person_id)
            if person is not None:
                person.reachable = False
                person.unreachable_reason = reason[:200]
                await session.commit()

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

    # --- the tick -----------------------------------------------------------------

    async def _send_group(self, ids: Sequence[int], result: TickResult) -> None:
        interval = 1.0 / self.config.send_rate_per_workspace
        for index, delivery_id in enumerate(ids):
            if index:
                await asyncio.sleep(interval)
            status = await self.deliver(delivery_id)
            result.statuses[delivery_id] = status
            if status == DeliveryStatus.SENT.value:
                result.sent += 1
            elif status == DeliveryStatus.FAILED.value:
                result.failed += 1
            elif status == DeliveryStatus.CANCELLED.value:
                result.cancelled += 1
            else:
                result.deferred += 1

    async def send_claimed(self, ids: Sequence[int], result: TickResult) -> None:
        """Send claimed deliveries: one after another per workspace, workspaces concurrently."""
        if not ids:
            return
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.workspace_id).where(Delivery.id.in_(ids))
                )
            ).all()
        groups: dict[int, list[int]] = defaultdict(list)
        for delivery_id, workspace_id in rows:
            groups[workspace_id].append(delivery_id)
        await asyncio.gather(*(self._send_group(sorted(g), result) for g in groups.values()))

    async def tick(self) -> TickResult:
        """Plan what fell due, then claim and send it."""
        result = TickResult()
        result.planned = await self.plan()
        while True:
            ids = await self.claim()
            if not ids:
                break
            await self.send_claimed(ids, result)
            if len(ids) < self.config.batch_size:
                break
        return result

    async def send_now(self, delivery_id: int) -> str:
        """Claim and send one delivery straight away (for explicit requests)."""
        result = TickResult()
        ids = await self.claim(only=delivery_id)
        await self.send_claimed(ids, result)
        return result.statuses.get(delivery_id, "not-due")


def outcome_is_final(outcome: str | None) -> bool:
    """Tell whether a nudge's outcome can no longer change."""
    return outcome in {
        NudgeState.DONE.value,
        NudgeState.SKIPPED.value,
        NudgeState.NOT_RELEVANT.value,
    }
