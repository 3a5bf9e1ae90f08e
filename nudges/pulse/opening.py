"""Open pulse polls: on their cadence for each member, or at once on an admin's request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryKind
from nudges.pulse.bank import choose_question
from nudges.pulse.groups import Group, PulseCadences, groups_of_workspace
from nudges.pulse.planning import Dispatcher, PlanContext, poll_item, poll_key
from nudges.pulse.workdays import closing_time
from nudges.scheduling.cadences import OccurrenceMemo
from nudges.scheduling.calendar import (
    Availability,
    NoAllowedDayError,
    Occurrence,
    next_allowed_moment,
)
from nudges.scheduling.workweek import encode_days
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll


async def _insert_poll(session: AsyncSession, **values: Any) -> PulsePoll | None:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(PulsePoll)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "group_key", "period_key"])
    )
    found: PulsePoll | None = await session.scalar(
        select(PulsePoll).where(
            PulsePoll.workspace_id == values["workspace_id"],
            PulsePoll.group_key == values["group_key"],
            PulsePoll.period_key == values["period_key"],
        )
    )
    return found


async def open_poll_of(
    session: AsyncSession, workspace_id: int, group_key: str, now: datetime
) -> PulsePoll | None:
    """Return the group's poll that is open now, if any."""
    found: PulsePoll | None = await session.scalar(
        select(PulsePoll)
        .where(
            PulsePoll.workspace_id == workspace_id,
            PulsePoll.group_key == group_key,
            PulsePoll.closed.is_(False),
            PulsePoll.closes_at > now,
        )
        .order_by(PulsePoll.id)
        .limit(1)
    )
    return found


async def _create_poll(
    session: AsyncSession,
    ctx: PlanContext,
    group: Group,
    members: Sequence[Person],
    period_key: str,
    opens: Sequence[tuple[datetime, Availability]],
    now: datetime,
    *,
    requested: bool,
) -> PulsePoll | None:
    bank = await ctx.question_bank(session)
    question = await choose_question(
        session, bank, ctx.workspace.id, group.key, [m.id for m in members]
    )
    if question is None:
        return None
    days = ctx.majority_days(members)
    try:
        closes_at = closing_time(opens, ctx.policy.pulse_window_days, days)
    except NoAllowedDayError:
        return None
    return await _insert_poll(
        session,
        workspace_id=ctx.workspace.id,
        group_key=group.key,
        team=group.team,
        period_key=period_key,
        dimension=question.dimension.value if question.dimension else None,
        question_key=question.key,
        threshold=ctx.policy.anonymity_threshold,
        opened_at=now,
        closes_at=closes_at,
        closed=False,
        requested=requested,
        working_days=encode_days(days),
    )


async def _invite(
    dispatcher: Dispatcher,
    session: AsyncSession,
    poll: PulsePoll,
    member: Person,
    when: datetime,
) -> int:
    delivery_id = await dispatcher.insert_delivery(
        session,
        idempotency_key=poll_key(dispatcher, member.id, poll.group_key, poll.period_key),
        workspace_id=poll.workspace_id,
        recipient_id=member.id,
        kind=DeliveryKind.PULSE.value,
        content_key=poll_item(poll.id),
        period_key=poll.period_key[:32],
        payload={"poll_id": poll.id},
        scheduled_at=when,
    )
    if delivery_id is None:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(PulseParticipation)
        .values(poll_id=poll.id, person_id=member.id, delivery_id=delivery_id)
        .on_conflict_do_nothing(index_elements=["poll_id", "person_id"])
    )
    return 1


async def _scheduled_poll(
    session: AsyncSession,
    ctx: PlanContext,
    group: Group,
    members: Sequence[Person],
    occurrence: Occurrence,
    now: datetime,
) -> PulsePoll | None:
    existing: PulsePoll | None = await session.scalar(
        select(PulsePoll).where(
            PulsePoll.workspace_id == ctx.workspace.id,
            PulsePoll.group_key == group.key,
            PulsePoll.period_key == occurrence.period_key,
        )
    )
    if existing is not None:
        return existing
    # One open poll per group: a poll opened on request takes this period's place.
    if await open_poll_of(session, ctx.workspace.id, group.key, now) is not None:
        return None
    # Every member gets the same wall-clock moment in their own zone.
    local = occurrence.local.replace(tzinfo=None)
    opens = [(local.replace(tzinfo=ctx.avail(m).timezone), ctx.avail(m)) for m in members]
    return await _create_poll(
        session, ctx, group, members, occurrence.period_key, opens, now, requested=False
    )


async def plan_polls(
    dispatcher: Dispatcher,
    session: AsyncSession,
    ctx: PlanContext,
    now: datetime,
    cadences: PulseCadences,
    memo: OccurrenceMemo,
) -> int:
    """Create the poll deliveries that fell due in one workspace."""
    due: dict[str, tuple[Group, list[Person], Person, Occurrence]] = {}
    for group in await groups_of_workspace(session, ctx.workspace.id):
        members = ctx.members(group)
        # A group smaller than the threshold could never see a result; asking it wastes time.
        if len(members) < ctx.policy.anonymity_threshold:
            continue
        spec, _source = cadences.spec_for(group)
        for member in members:
            start = max(now - dispatcher.config.lookback, member.created_at)
            end = now + timedelta(seconds=1)
            for occurrence in memo.between(spec, ctx.avail(member), start, end):
                key = poll_key(dispatcher, member.id, group.key, occurrence.period_key)
                due[key] = (group, members, member, occurrence)
    existing = await dispatcher.existing_keys(session, list(due))
    planned = 0
    for key, (group, members, member, occurrence) in due.items():
        if key in existing:
            continue
        poll = await _scheduled_poll(session, ctx, group, members, occurrence, now)
        if poll is None or poll.closed or occurrence.utc >= poll.closes_at:
            continue
        planned += await _invite(dispatcher, session, poll, member, occurrence.utc)
    return planned


@dataclass
class Opened:
    """What ``pulse now`` did: polls opened, people asked, and why other groups were skipped."""

    polls: list[PulsePoll] = field(default_factory=list)
    people: int = 0
    # (group, reason, params) with reason one of already_open, too_small, no_question.
    skipped: list[tuple[Group, str, dict[str, Any]]] = field(default_factory=list)


async def open_now(
    dispatcher: Dispatcher,
    session: AsyncSession,
    workspace: Workspace,
    groups: Sequence[Group],
    now: datetime,
) -> Opened:
    """Open a poll for each group at once; each member gets it at their next working moment."""
    ctx = await PlanContext.load(session, workspace, dispatcher.catalogue)
    result = Opened()
    for group in groups:
        current = await open_poll_of(session, workspace.id, group.key, now)
        if current is not None:
            result.skipped.append((group, "already_open", {"closes_at": current.closes_at}))
            continue
        members = ctx.members(group)
        if len(members) < ctx.policy.anonymity_threshold:
            result.skipped.append((group, "too_small", {"count": len(members)}))
            continue
        moments: list[tuple[Person, datetime]] = []
        for member in members:
            avail = ctx.avail(member)
            try:
                moments.append((member, next_allowed_moment(now.astimezone(avail.timezone), avail)))
            except NoAllowedDayError:
                continue
        period = f"now-{now.astimezone(UTC):%Y%m%dT%H%M%S}"
        opens = [(moment, ctx.avail(member)) for member, moment in moments]
        poll = await _create_poll(session, ctx, group, members, period, opens, now, requested=True)
        if poll is None:
            result.skipped.append((group, "no_question", {}))
            continue
        for member, moment in moments:
            result.people += await _invite(
                dispatcher, session, poll, member, moment.astimezone(UTC)
            )
        result.polls.append(poll)
    return result
