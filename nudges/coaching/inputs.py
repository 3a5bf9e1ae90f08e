"""Gather what the nudge planner needs to know about managers: one at a time or a whole slot."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.planner import PastNudge, PlannerInput, ReportInfo
from nudges.domain import DeliveryKind, DeliveryStatus, Kind
from nudges.people import directory, workweeks
from nudges.people.directory import zone_of
from nudges.pulse.signals import signals_for
from nudges.scheduling.calendar import blocked_reason
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.pulse import PulsePoll

# Managers read per query: the IN lists stay within every backend's parameter limit.
CHUNK = 500


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
    return (await planner_inputs(session, workspace, [manager], now))[manager.id]


async def planner_inputs(
    session: AsyncSession,
    workspace: Workspace,
    managers: Sequence[Person],
    now: datetime,
    landing: Mapping[int, datetime] | None = None,
) -> dict[int, PlannerInput]:
    """Gather what the planner needs about each of ``managers``, three queries per 500.

    ``landing`` says, per manager id, when their nudge lands (default ``now``): a report counts
    as working when that moment falls on one of their working days.
    """
    found: dict[int, PlannerInput] = {}
    for i in range(0, len(managers), CHUNK):
        part = managers[i : i + CHUNK]
        found.update(await _inputs(session, workspace, part, now, landing or {}))
    return found


async def _inputs(
    session: AsyncSession,
    workspace: Workspace,
    managers: Sequence[Person],
    now: datetime,
    landing: Mapping[int, datetime],
) -> dict[int, PlannerInput]:
    ids = [m.id for m in managers]
    reports: dict[int, list[Person]] = defaultdict(list)
    for manager_id, person in (
        await session.execute(
            select(ReportingLine.manager_id, Person)
            .join(Person, Person.id == ReportingLine.member_id)
            .where(ReportingLine.manager_id.in_(ids))
            .order_by(Person.id)
        )
    ).all():
        if person.reachable and not person.opted_out:
            reports[manager_id].append(person)
    sent = [DeliveryStatus.SENT.value]
    last: dict[int, dict[int, datetime]] = defaultdict(dict)
    for manager_id, subject, sent_at in (
        await session.execute(
            select(Delivery.recipient_id, Delivery.subject_id, func.max(Delivery.sent_at))
            .where(
                Delivery.recipient_id.in_(ids),
                Delivery.kind == DeliveryKind.NUDGE.value,
                Delivery.status.in_(sent),
                Delivery.subject_id.is_not(None),
            )
            .group_by(Delivery.recipient_id, Delivery.subject_id)
        )
    ).all():
        if subject is not None and sent_at is not None:
            last[manager_id][subject] = sent_at
    history: dict[int, list[PastNudge]] = defaultdict(list)
    for manager_id, key, payload, sent_at, outcome in (
        await session.execute(
            select(
                Delivery.recipient_id,
                Delivery.content_key,
                Delivery.payload,
                Delivery.sent_at,
                Delivery.outcome,
            )
            .where(
                Delivery.recipient_id.in_(ids),
                Delivery.kind == DeliveryKind.NUDGE.value,
                Delivery.status.in_(sent),
            )
            .order_by(Delivery.sent_at)
        )
    ).all():
        past = _past(key, payload, sent_at, outcome)
        if past is not None:
            history[manager_id].append(past)
    window = directory.policy_of(workspace).repeat_window_weeks
    # Signals come from the pulse of a manager's teams: none without a single poll, and a
    # workspace with none (most of a first slot) is asked once instead of per manager.
    polled = await session.scalar(
        select(PulsePoll.id).where(PulsePoll.workspace_id == workspace.id).limit(1)
    )
    working = {
        manager.id: await working_on(
            session, workspace, reports[manager.id], landing.get(manager.id, now)
        )
        for manager in managers
    }
    return {
        manager.id: PlannerInput(
            manager_id=manager.id,
            today=directory.local_today(workspace, manager, now),
            reports=[
                ReportInfo(
                    p.id, p.external_id, last[manager.id].get(p.id), working[manager.id][p.id]
                )
                for p in reports[manager.id]
            ],
            history=history[manager.id],
            enabled_kinds=_kinds(manager),
            programme=manager.programme,
            programme_started_on=manager.programme_started_on,
            repeat_window_weeks=window,
            signals=await signals_for(session, workspace, manager, now) if polled else [],
        )
        for manager in managers
    }


def _past(
    key: str, payload: Any, sent_at: datetime | None, outcome: str | None
) -> PastNudge | None:
    if sent_at is None or payload.get("kind") not in Kind.__members__.values():
        return None
    return PastNudge(key, Kind(payload["kind"]), sent_at, outcome)


def _kinds(manager: Person) -> frozenset[Kind] | None:
    if not manager.enabled_kinds:
        return None
    return frozenset(Kind(k) for k in manager.enabled_kinds if k in Kind.__members__.values())
