"""Count polls' answers and invitations, and freeze closed polls' counts before their rows go."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryStatus
from nudges.store.deliveries import Delivery
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll
from nudges.store.rights import PollTotals


async def freeze_polls(session: AsyncSession, poll_ids: list[int], now: datetime) -> int:
    """Store the counts of closed polls before the rows they come from go; return how many."""
    if not poll_ids:
        return 0
    frozen = set(
        (
            await session.scalars(
                select(PollTotals.poll_id).where(PollTotals.poll_id.in_(poll_ids))
            )
        ).all()
    )
    closed = (
        await session.scalars(
            select(PulsePoll.id).where(PulsePoll.id.in_(poll_ids), PulsePoll.closed.is_(True))
        )
    ).all()
    todo = [poll_id for poll_id in closed if poll_id not in frozen]
    if not todo:
        return 0
    answered = await answered_counts(session, todo)
    invited = await invited_counts(session, todo)
    sums = await answer_sums(session, todo)
    for poll_id in todo:
        count, total = sums.get(poll_id, (0, 0))
        session.add(
            PollTotals(
                poll_id=poll_id,
                answered=int(answered.get(poll_id, 0)),
                invited=max(int(invited.get(poll_id, 0)), int(answered.get(poll_id, 0))),
                answers=count,
                answer_sum=total,
                frozen_at=now,
            )
        )
    await session.flush()
    return len(todo)


async def answered_counts(session: AsyncSession, poll_ids: Collection[int]) -> dict[int, int]:
    """Return how many people answered each poll, by poll id (polls without answers left out)."""
    rows = await session.execute(
        select(PulseParticipation.poll_id, func.count())
        .where(PulseParticipation.poll_id.in_(poll_ids), PulseParticipation.answered.is_(True))
        .group_by(PulseParticipation.poll_id)
    )
    return {poll_id: int(count) for poll_id, count in rows.all()}


async def invited_counts(session: AsyncSession, poll_ids: Collection[int]) -> dict[int, int]:
    """Return how many people each poll actually reached (its delivery was sent), by poll id."""
    rows = await session.execute(
        select(PulseParticipation.poll_id, func.count())
        .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
        .where(
            PulseParticipation.poll_id.in_(poll_ids),
            Delivery.status == DeliveryStatus.SENT.value,
        )
        .group_by(PulseParticipation.poll_id)
    )
    return {poll_id: int(count) for poll_id, count in rows.all()}


async def answer_sums(
    session: AsyncSession, poll_ids: Collection[int]
) -> dict[int, tuple[int, int]]:
    """Return each poll's number of sealed answers and their sum, by poll id."""
    rows = await session.execute(
        select(PulseAnswer.poll_id, func.count(), func.sum(PulseAnswer.value))
        .where(PulseAnswer.poll_id.in_(poll_ids))
        .group_by(PulseAnswer.poll_id)
    )
    return {poll_id: (int(count), int(total or 0)) for poll_id, count, total in rows.all()}
