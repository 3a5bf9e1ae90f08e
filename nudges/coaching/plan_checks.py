"""Check at send time that a nudge planned ahead is still wanted as it was planned.

What every delivery passes (opt-outs, pauses, working time, the budget, content that still
exists) is delivery's own; these checks are the planner's: a plan whose slot passed unsent
long ago, or whose occurrence the recipient's cadence no longer has, does not go out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import idempotency_key
from nudges.people import workweeks
from nudges.scheduling.cadences import NUDGE, CadenceBook
from nudges.scheduling.calendar import occurrences_between
from nudges.store import read_once
from nudges.store.cadence import CadenceRule
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace


class _Row(Protocol):
    """The columns that say whose row it is: a loaded delivery or a row of just those."""

    idempotency_key: str
    kind: str
    recipient_id: int
    period_key: str
    payload: dict[str, Any]


def is_plan(delivery: _Row) -> bool:
    """Tell whether a row is a planner's own occurrence, not a snooze or an explicit request."""
    payload = delivery.payload or {}
    planned_key = idempotency_key(delivery.kind, delivery.recipient_id, delivery.period_key)
    return delivery.idempotency_key == planned_key and not set(payload) & {"explicit", "requested"}


def missed_its_slot(delivery: Delivery, since: datetime) -> bool:
    """Tell whether a plan, never tried, was due before ``since`` (the planner's lookback).

    An occurrence missed by longer than the lookback is not planned any more; one planned ahead
    and left unsent (the service was down) is dropped the same way instead of going out late.
    """
    return (
        delivery.scheduled_at < since
        and delivery.last_error is None
        and delivery.attempts <= 1
        and is_plan(delivery)
    )


async def still_in_cadence(session: AsyncSession, delivery: Delivery) -> bool:
    """Tell whether a plan still matches its recipient's cadence, cheaply when nothing changed.

    Only when a cadence of the workspace changed after the plan was stored is the occurrence
    worked out again; the refresh of the next planning pass normally got there first.
    """

    async def load() -> datetime | None:
        changed: datetime | None = await session.scalar(
            select(func.max(CadenceRule.updated_at)).where(
                CadenceRule.workspace_id == delivery.workspace_id, CadenceRule.purpose == NUDGE
            )
        )
        return changed

    key = ("nudge_cadence_changed", delivery.workspace_id)
    changed = await read_once.remembered(session, key, load)
    if changed is None or changed <= delivery.created_at:
        return True
    workspace = await session.get(Workspace, delivery.workspace_id)
    person = await session.get(Person, delivery.recipient_id)
    if workspace is None or person is None:
        return False
    spec, _source = (await CadenceBook.load(session, workspace.id, NUDGE)).spec_for(person.id)
    avail = await workweeks.availability_of(session, workspace, person)
    around = timedelta(minutes=1)
    return any(
        occ.period_key == delivery.period_key and occ.utc == delivery.scheduled_at
        for occ in occurrences_between(
            spec, avail, delivery.scheduled_at - around, delivery.scheduled_at + around
        )
    )
