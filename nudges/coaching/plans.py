"""Plan every manager's nudges ahead of their slots, and keep that plan in step with the cadence.

A slot's nudges (each with its chosen nudge, partner and reason) are stored as soon as the slot
comes within ``EngineConfig.plan_ahead``, so at the slot only sending remains; what may have
changed meanwhile (a pause, an opt-out, the budget, the content) is checked again when sent.
Each pass also refreshes what it stored before: a planned nudge whose occurrence is no longer
wanted (the cadence changed, the manager paused or left) is dropped, and one whose time moved
is moved, as long as nobody has touched it yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.inputs import planner_inputs
from nudges.coaching.plan_checks import is_plan
from nudges.coaching.planner import Choice, choose
from nudges.content.catalogue import Catalogue
from nudges.delivery import Dispatcher, Planned, idempotency_key
from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.people import directory, workweeks
from nudges.pulse import digest as pulse_digest
from nudges.scheduling.cadences import NUDGE, CadenceBook, OccurrenceMemo
from nudges.scheduling.calendar import Occurrence
from nudges.store.cadence import CadenceRule
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

PLANNED_KINDS = (DeliveryKind.NUDGE.value, DeliveryKind.DIGEST.value)
# Managers looked at between two returns to the event loop: a workspace's pass is a few hundred
# of them, and sends waiting meanwhile would leave in a bunch the platform counts as a burst.
YIELD_EVERY = 25


def choice_payload(choice: Choice) -> dict[str, Any]:
    """Store what the message needs to be rendered again later."""
    return {
        "kind": choice.kind.value,
        "member": choice.subject_external_id,
        "reason_key": choice.reason_key,
        "reason_params": dict(choice.reason_params),
    }


def choice_row(
    *,
    key: str,
    kind: DeliveryKind,
    workspace_id: int,
    recipient_id: int,
    choice: Choice,
    scheduled_at: datetime,
    period_key: str = "",
    explicit: bool = False,
) -> dict[str, Any]:
    """Return the delivery row of a planner choice."""
    payload = choice_payload(choice)
    if explicit:
        payload = {"explicit": True, **payload}
    return {
        "idempotency_key": key,
        "workspace_id": workspace_id,
        "recipient_id": recipient_id,
        "kind": kind.value,
        "content_key": choice.nudge_key,
        "period_key": period_key,
        "subject_id": choice.subject_id,
        "reason": choice.explain("en"),
        "payload": payload,
        "scheduled_at": scheduled_at,
    }


@dataclass(frozen=True)
class _Stored:
    """A planned row nobody has touched yet: it may still be dropped or moved."""

    id: int
    scheduled_at: datetime


class NudgePlanner:
    """Create the nudge deliveries of every manager of a workspace, up to the planning horizon."""

    def __init__(self, dispatcher: Dispatcher, catalogue: Catalogue) -> None:
        self.dispatcher = dispatcher
        self.catalogue = catalogue

    async def inputs_stamp(self, session: AsyncSession) -> Hashable:
        """Say cheaply whether any cadence changed since a pass began (one aggregate query)."""
        enabled = func.sum(case((CadenceRule.enabled.is_(True), 1), else_=0))
        row = (
            await session.execute(
                select(func.count(), enabled, func.max(CadenceRule.updated_at)).where(
                    CadenceRule.purpose == NUDGE
                )
            )
        ).one()
        return tuple(row)

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        """Plan one workspace's nudges (and digests, when they go as messages of their own)."""
        due = await self._due(session, workspace, now)
        stored = await self._untouched(session, workspace.id, now)
        wanted = {
            idempotency_key(kind, manager.id, occ.period_key): occ
            for manager, occ in due.values()
            for kind in (DeliveryKind.NUDGE, DeliveryKind.DIGEST)
        }
        await self._refresh(session, stored, wanted, now)
        existing = await self.dispatcher.existing_keys(session, list(due))
        # The earliest slot first, a chunk at a time: each workspace's first chunk is stored
        # (and can be sent) before any workspace's last, and a pass never holds the store long.
        new = sorted(
            ((key, pair) for key, pair in due.items() if key not in existing),
            key=lambda item: (item[1][1].utc, item[0]),
        )
        chunk = max(1, self.dispatcher.config.plan_chunk)
        planned = tried = 0
        while tried < len(new) and planned < chunk:
            batch, tried = new[tried : tried + chunk - planned], tried + chunk - planned
            planned += await self._plan_batch(session, workspace, batch, now)
        return Planned(planned, more=tried < len(new))

    async def _plan_batch(
        self,
        session: AsyncSession,
        workspace: Workspace,
        batch: list[tuple[str, tuple[Person, Occurrence]]],
        now: datetime,
    ) -> int:
        """Choose and store the nudges of ``batch``; return how many rows were stored."""
        managers = {manager.id: manager for _, (manager, _occ) in batch}
        # Reports are judged working or not on the day each nudge lands, not on the day planned.
        landing = {manager.id: max(occ.utc, now) for _, (manager, occ) in batch}
        inputs = await planner_inputs(session, workspace, list(managers.values()), now, landing)
        rows: list[dict[str, Any]] = []
        for count, (key, (manager, occ)) in enumerate(batch, 1):
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            # Chosen for the occurrence's own day and moment, as the preview shows it.
            moment = max(occ.utc, now)
            inp = replace(inputs[manager.id], today=moment.astimezone(occ.local.tzinfo).date())
            choice = choose(inp, self.catalogue, moment)
            if choice is not None:
                rows.append(
                    choice_row(
                        key=key,
                        kind=DeliveryKind.NUDGE,
                        workspace_id=workspace.id,
                        recipient_id=manager.id,
                        choice=choice,
                        scheduled_at=occ.utc,
                        period_key=occ.period_key,
                    )
                )
        new = await self.dispatcher.insert_deliveries(session, rows)
        planned = len(new)
        if pulse_digest.digest_is_separate(workspace):
            for key, (manager, occ) in batch:
                if key in new:
                    planned += await self._plan_digest(session, workspace, manager, occ)
        return planned

    async def _due(
        self, session: AsyncSession, workspace: Workspace, now: datetime
    ) -> dict[str, tuple[Person, Occurrence]]:
        """Return every occurrence from the lookback to the horizon, by its nudge's key."""
        weeks = await workweeks.WorkweekBook.load(session, workspace)
        book = await CadenceBook.load(session, workspace.id, NUDGE)
        memo = OccurrenceMemo()
        config = self.dispatcher.config
        end = now + max(config.plan_ahead, timedelta(seconds=1))
        due: dict[str, tuple[Person, Occurrence]] = {}
        for count, manager in enumerate(await directory.managers(session, workspace.id), 1):
            if count % YIELD_EVERY == 0:
                # A pass runs while lanes send: it must not hold their sends back for long.
                await asyncio.sleep(0)
            if manager.opted_out or not manager.reachable:
                continue
            spec, _source = book.spec_for(manager.id)
            avail = weeks.availability(manager)
            start = max(now - config.lookback, manager.created_at)
            for occ in memo.between(spec, avail, start, end):
                if manager.paused_until and occ.local.date() <= manager.paused_until:
                    continue
                key = idempotency_key(DeliveryKind.NUDGE, manager.id, occ.period_key)
                due[key] = (manager, occ)
        return due

    async def _untouched(
        self, session: AsyncSession, workspace_id: int, now: datetime
    ) -> dict[str, _Stored]:
        """Return the planned rows still ahead that no send, snooze or request has touched."""
        rows = await session.execute(
            select(
                Delivery.id,
                Delivery.idempotency_key,
                Delivery.kind,
                Delivery.recipient_id,
                Delivery.period_key,
                Delivery.payload,
                Delivery.scheduled_at,
            ).where(
                Delivery.workspace_id == workspace_id,
                Delivery.kind.in_(PLANNED_KINDS),
                Delivery.status == DeliveryStatus.PENDING.value,
                Delivery.attempts == 0,
                Delivery.last_error.is_(None),
                Delivery.next_attempt_at > now,
            )
        )
        # A snooze or an explicit request is not the planner's to change.
        return {
            row.idempotency_key: _Stored(row.id, row.scheduled_at)
            for row in rows.all()
            if is_plan(row)
        }

    async def _refresh(
        self,
        session: AsyncSession,
        stored: dict[str, _Stored],
        wanted: dict[str, Occurrence],
        now: datetime,
    ) -> None:
        """Drop planned rows no longer wanted and move those whose moment moved."""
        untouched = (
            Delivery.status == DeliveryStatus.PENDING.value,
            Delivery.attempts == 0,
            Delivery.next_attempt_at > now,
        )
        gone = [row.id for key, row in stored.items() if key not in wanted]
        for i in range(0, len(gone), 500):
            # Still untouched at the moment of the delete: a row a worker claimed meanwhile
            # is no longer pending and stays.
            await session.execute(
                delete(Delivery)
                .where(Delivery.id.in_(gone[i : i + 500]), *untouched)
                .execution_options(synchronize_session=False)
            )
        for key, row in stored.items():
            occ = wanted.get(key)
            if occ is not None and occ.utc != row.scheduled_at:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == row.id, *untouched)
                    .values(scheduled_at=occ.utc, next_attempt_at=occ.utc)
                    .execution_options(synchronize_session=False)
                )

    async def _plan_digest(
        self, session: AsyncSession, workspace: Workspace, manager: Person, occ: Occurrence
    ) -> int:
        if not await pulse_digest.has_digest(session, workspace, manager):
            return 0
        new_id = await self.dispatcher.insert_delivery(
            session,
            idempotency_key=idempotency_key(DeliveryKind.DIGEST, manager.id, occ.period_key),
            workspace_id=workspace.id,
            recipient_id=manager.id,
            kind=DeliveryKind.DIGEST.value,
            period_key=occ.period_key,
            scheduled_at=occ.utc,
        )
        return int(new_id is not None)
