"""Expire raw pulse answers and deliveries past a workspace's retention, keeping the totals."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryStatus
from nudges.people.poll_totals import freeze_polls
from nudges.store.audit import audit_entry
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll

logger = logging.getLogger(__name__)

RETENTION_ANSWERS = "retention_answers_months"
RETENTION_DELIVERIES = "retention_deliveries_months"
RETENTION_KEYS = {"answers": RETENTION_ANSWERS, "deliveries": RETENTION_DELIVERIES}
# Rows still waiting to be sent are work, not history: retention never touches them.
_UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)


def months_ago(now: datetime, months: int) -> datetime:
    """Return the same moment ``months`` calendar months earlier (clamped to the month's end)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, _days_in(year, month + 1))
    return now.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_next - timedelta(days=1)).day


def retention_of(workspace: Workspace) -> dict[str, int | None]:
    """Return the workspace's retention in months per kind of row; None keeps them."""
    settings = workspace.settings or {}
    out: dict[str, int | None] = {}
    for kind, key in RETENTION_KEYS.items():
        value = settings.get(key)
        out[kind] = value if isinstance(value, int) and value > 0 else None
    return out


@dataclass(frozen=True)
class Expired:
    """Say what one retention run deleted in one workspace."""

    polls: int
    answers: int
    participation: int
    deliveries: int

    @property
    def anything(self) -> bool:
        """Tell whether anything was deleted."""
        return bool(self.answers or self.participation or self.deliveries)


async def apply_retention(session: AsyncSession, workspace: Workspace, now: datetime) -> Expired:
    """Delete raw answers and old deliveries past the workspace's retention, keeping totals."""
    keep = retention_of(workspace)
    polls = answers = participation = deliveries = 0
    if keep["answers"] is not None:
        cutoff = months_ago(now, keep["answers"])
        old = list(
            (
                await session.scalars(
                    select(PulsePoll.id).where(
                        PulsePoll.workspace_id == workspace.id,
                        PulsePoll.closed.is_(True),
                        PulsePoll.closes_at < cutoff,
                    )
                )
            ).all()
        )
        if old:
            polls = await freeze_polls(session, old, now)
            answers = _count(
                await session.execute(delete(PulseAnswer).where(PulseAnswer.poll_id.in_(old)))
            )
            participation = _count(
                await session.execute(
                    delete(PulseParticipation).where(PulseParticipation.poll_id.in_(old))
                )
            )
    if keep["deliveries"] is not None:
        cutoff = months_ago(now, keep["deliveries"])
        expiring = (
            select(Delivery.id)
            .where(
                Delivery.workspace_id == workspace.id,
                Delivery.scheduled_at < cutoff,
                Delivery.status.not_in(_UNFINISHED),
            )
            .scalar_subquery()
        )
        # A poll's invited count is read through its deliveries: freeze it before they go.
        touched = (
            await session.scalars(
                select(PulseParticipation.poll_id)
                .where(PulseParticipation.delivery_id.in_(expiring))
                .distinct()
            )
        ).all()
        polls += await freeze_polls(session, list(touched), now)
        await session.execute(
            update(PulseParticipation)
            .where(PulseParticipation.delivery_id.in_(expiring))
            .values(delivery_id=None)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Commitment)
            .where(Commitment.source_delivery_id.in_(expiring))
            .values(source_delivery_id=None)
            .execution_options(synchronize_session=False)
        )
        deliveries = _count(
            await session.execute(
                delete(Delivery)
                .where(
                    Delivery.workspace_id == workspace.id,
                    Delivery.scheduled_at < cutoff,
                    Delivery.status.not_in(_UNFINISHED),
                )
                .execution_options(synchronize_session=False)
            )
        )
    expired = Expired(polls, answers, participation, deliveries)
    if expired.anything:
        session.add(
            audit_entry(
                workspace_id=workspace.id,
                actor_id=None,
                action="retention.expire",
                target="workspace",
                details={
                    "answers": answers,
                    "participation": participation,
                    "deliveries": deliveries,
                    "polls_frozen": polls,
                },
                when=now,
            )
        )
    return expired


def _count(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def run_retention(db: Database, now: datetime) -> dict[int, Expired]:
    """Apply retention in every workspace that has it set, one transaction each."""
    async with db.session() as session:
        workspaces = (await session.scalars(select(Workspace.id))).all()
    done: dict[int, Expired] = {}
    for workspace_id in workspaces:
        async with db.session() as session:
            workspace = await session.get(Workspace, workspace_id)
            if workspace is None or not any(retention_of(workspace).values()):
                continue
            done[workspace_id] = await apply_retention(session, workspace, now)
            await session.commit()
        if done[workspace_id].anything:
            logger.info(
                "retention in workspace %s: %d answers, %d participation rows, %d deliveries",
                workspace_id,
                done[workspace_id].answers,
                done[workspace_id].participation,
                done[workspace_id].deliveries,
            )
    return done
