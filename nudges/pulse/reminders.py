"""Remind people who have not answered an open pulse poll: two reminders at most, in the window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.pulse.planning import Dispatcher, PlanContext, eligible, poll_item
from nudges.pulse.workdays import add_working_days, reminder_offsets
from nudges.scheduling.calendar import (
    NoAllowedDayError,
    next_allowed_moment,
)
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll


async def reminder_rows(
    session: AsyncSession, workspace: Workspace, now: datetime, count: int
) -> list[Any]:
    """Return (participation, poll, poll sent at) of people who may still need a reminder."""
    rows = await session.execute(
        select(PulseParticipation, PulsePoll, Delivery.sent_at)
        .join(PulsePoll, PulsePoll.id == PulseParticipation.poll_id)
        .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
        .where(
            PulsePoll.workspace_id == workspace.id,
            PulsePoll.closed.is_(False),
            PulsePoll.closes_at > now,
            PulseParticipation.answered.is_(False),
            PulseParticipation.reminders_sent < count,
            Delivery.status == DeliveryStatus.SENT.value,
        )
        .order_by(PulseParticipation.id)
    )
    return list(rows.all())


async def plan_reminders(
    dispatcher: Dispatcher,
    session: AsyncSession,
    ctx: PlanContext,
    now: datetime,
    rows: Sequence[Any],
) -> int:
    """Create the reminders that fell due for people who have not answered an open poll."""
    offsets = reminder_offsets(ctx.policy.pulse_window_days)
    planned = 0
    for participation, poll, sent_at in rows:
        person = ctx.people.get(participation.person_id)
        if person is None or not eligible(person) or sent_at is None:
            continue
        avail = ctx.avail(person)
        number = participation.reminders_sent
        try:
            target = add_working_days(sent_at.astimezone(avail.timezone), offsets[number], avail)
            when = next_allowed_moment(target, avail)
        except NoAllowedDayError:
            continue
        if when > now or when >= poll.closes_at:
            continue
        # Count the reminder before it exists, and only once, even with two dispatchers.
        claimed = await session.scalar(
            update(PulseParticipation)
            .where(
                PulseParticipation.id == participation.id,
                PulseParticipation.reminders_sent == number,
            )
            .values(reminders_sent=number + 1)
            .returning(PulseParticipation.id)
            .execution_options(synchronize_session=False)
        )
        if claimed is None:
            continue
        new_id = await dispatcher.insert_delivery(
            session,
            idempotency_key=dispatcher.key_for(
                DeliveryKind.PULSE_REMINDER, person.id, f"{poll_item(poll.id)}:{number + 1}"
            ),
            workspace_id=ctx.workspace.id,
            recipient_id=person.id,
            kind=DeliveryKind.PULSE_REMINDER.value,
            content_key=poll_item(poll.id),
            period_key=poll.period_key[:32],
            payload={"poll_id": poll.id, "reminder": number + 1},
            scheduled_at=when,
        )
        planned += new_id is not None
    return planned
