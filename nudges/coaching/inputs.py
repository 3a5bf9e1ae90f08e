"""Gather what the nudge planner needs to know about a manager."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.planner import PastNudge, PlannerInput, ReportInfo
from nudges.domain import DeliveryKind, DeliveryStatus, Kind
from nudges.people import directory, workweeks
from nudges.people.directory import zone_of
from nudges.pulse.signals import signals_for
from nudges.scheduling.calendar import blocked_reason
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace


async def working_on(
    session: AsyncSession, workspace: Workspace, people: Sequence[Person], moment: datetime
) -> dict[int, bool]:
    """Tell, per person id, whether ``moment`` falls on one of their working days."""
    weeks = await workweeks.WorkweekBook.load(session, workspace)
    return {
        p.id: blocked_reason(moment.astimezone(zone_of(workspace, p)).date(), weeks.availability(p))
        is None
        for p in people
    }


async def planner_input(
    session: AsyncSession, workspace: Workspace, manager: Person, now: datetime
) -> PlannerInput:
    """Gather what the planner needs about ``manager``."""
    reports = [
        p for p in await directory.reports_of(session, manager) if p.reachable and not p.opted_out
    ]
    sent = [DeliveryStatus.SENT.value]
    last: dict[int, datetime] = {
        subject: sent_at
        for subject, sent_at in (
            await session.execute(
                select(Delivery.subject_id, func.max(Delivery.sent_at))
                .where(
                    Delivery.recipient_id == manager.id,
                    Delivery.kind == DeliveryKind.NUDGE.value,
                    Delivery.status.in_(sent),
                    Delivery.subject_id.is_not(None),
                )
                .group_by(Delivery.subject_id)
            )
        ).all()
        if subject is not None and sent_at is not None
    }
    history_rows = (
        await session.execute(
            select(Delivery.content_key, Delivery.payload, Delivery.sent_at, Delivery.outcome)
            .where(
                Delivery.recipient_id == manager.id,
                Delivery.kind == DeliveryKind.NUDGE.value,
                Delivery.status.in_(sent),
            )
            .order_by(Delivery.sent_at)
        )
    ).all()
    history = [
        PastNudge(key, Kind(payload["kind"]), sent_at, outcome)
        for key, payload, sent_at, outcome in history_rows
        if sent_at is not None and payload.get("kind") in Kind.__members__.values()
    ]
    working = await working_on(session, workspace, reports, now)
    kinds = (
        frozenset(Kind(k) for k in manager.enabled_kinds if k in Kind.__members__.values())
        if manager.enabled_kinds
        else None
    )
    return PlannerInput(
        manager_id=manager.id,
        today=directory.local_today(workspace, manager, now),
        reports=[ReportInfo(p.id, p.external_id, last.get(p.id), working[p.id]) for p in reports],
        history=history,
        enabled_kinds=kinds,
        programme=manager.programme,
        programme_started_on=manager.programme_started_on,
        repeat_window_weeks=directory.policy_of(workspace).repeat_window_weeks,
        signals=await signals_for(session, workspace, manager, now),
    )
