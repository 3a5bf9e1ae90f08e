"""Close pulse polls whose window ended, and hold back polls and reminders that may no longer go."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.people import directory
from nudges.pulse.answers import forget_lost, is_open, seal
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll

logger = logging.getLogger(__name__)

PULSE_KINDS = frozenset({DeliveryKind.PULSE, DeliveryKind.PULSE_REMINDER})


async def close_due(session: AsyncSession, workspace: Workspace, now: datetime) -> list[int]:
    """Close the workspace's polls whose window ended; return the poll messages to re-render.

    Answers lost with a key this process does not hold are dropped first, and their people's
    poll messages re-rendered to take an answer again.
    """
    refresh = await forget_lost(session, workspace.id)
    polls = (
        await session.scalars(
            select(PulsePoll).where(
                PulsePoll.workspace_id == workspace.id,
                PulsePoll.closed.is_(False),
                PulsePoll.closes_at <= now,
            )
        )
    ).all()
    for poll in polls:
        if not await seal(session, poll):
            continue
        # Also the messages being sent now: composed before the close, they go out with the
        # answer buttons, and are re-rendered once their send is recorded.
        shown = (DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value)
        ids = await session.scalars(
            select(PulseParticipation.delivery_id)
            .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
            .where(PulseParticipation.poll_id == poll.id, Delivery.status.in_(shown))
            .order_by(PulseParticipation.delivery_id)
        )
        refresh.extend(i for i in ids.all() if i is not None)
        logger.info("closed pulse poll %s", poll.id)
    return refresh


async def hold_back(session: AsyncSession, delivery: Delivery, now: datetime) -> str | None:
    """Say why a poll or reminder must not go out any more, or None when it may."""
    if DeliveryKind(delivery.kind) not in PULSE_KINDS:
        return None
    poll = await session.get(PulsePoll, (delivery.payload or {}).get("poll_id"))
    if poll is None:
        return "the poll no longer exists"
    if not is_open(poll, now):
        return "the poll has closed"
    workspace = await session.get(Workspace, poll.workspace_id)
    if workspace is None or not directory.policy_of(workspace).pulse_enabled:
        return "pulse polls are off"
    if delivery.kind == DeliveryKind.PULSE_REMINDER.value:
        answered = await session.scalar(
            select(PulseParticipation.answered).where(
                PulseParticipation.poll_id == poll.id,
                PulseParticipation.person_id == delivery.recipient_id,
            )
        )
        if answered:
            return "already answered"
    return None
