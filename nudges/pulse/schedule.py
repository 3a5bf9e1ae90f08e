"""Plan one workspace's pulse polls and reminders each tick, reading little when nothing is due.

A poll belongs to a group and a period. Each member gets it at the cadence's wall-clock time in
their own zone, through the dispatcher like every other message (same idempotency, claims,
working hours and weekly budget). A poll stays open for a number of working days counted from
the latest zone it reached, and at most two reminders go to people who have not answered.
Opening lives in ``opening``, reminders in ``reminders``, closing in ``closing``, rendering
in ``composing`` and the working-day counting in ``workdays``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.people import directory, workweeks
from nudges.pulse.groups import PulseCadences
from nudges.pulse.opening import plan_polls
from nudges.pulse.planning import Dispatcher, PlanContext
from nudges.pulse.reminders import plan_reminders, reminder_rows
from nudges.pulse.workdays import reminder_offsets
from nudges.scheduling.cadences import OccurrenceMemo
from nudges.store.org import Person, Workspace


async def _may_be_due(
    session: AsyncSession,
    workspace: Workspace,
    cadences: PulseCadences,
    memo: OccurrenceMemo,
    start: datetime,
    end: datetime,
) -> bool:
    """Tell cheaply whether any cadence in use has a slot in ``[start, end)`` for anyone."""
    weeks = await workweeks.WorkweekBook.load(session, workspace)
    # Most people share a zone and country and follow the workspace's week: one stand-in for
    # each such mix, plus everyone with a week, a team week or leave of their own.
    mixes = await session.execute(
        select(Person.timezone, Person.country)
        .where(Person.workspace_id == workspace.id)
        .distinct()
    )
    stand_ins = [Person(id=0, timezone=zone, country=country) for zone, country in mixes]
    own = weeks.people_with_their_own()
    if own:
        stand_ins += (
            await session.scalars(
                select(Person).where(Person.workspace_id == workspace.id, Person.id.in_(own))
            )
        ).all()
    for avail in {weeks.availability(person) for person in stand_ins}:
        if any(memo.between(spec, avail, start, end) for spec in cadences.specs()):
            return True
    return False


async def plan_pulses(
    dispatcher: Dispatcher, session: AsyncSession, workspace: Workspace, now: datetime
) -> int:
    """Plan one workspace's polls and reminders that fell due.

    Most ticks have nothing to do, so people and groups are read only when a slot or a
    reminder may be due.
    """
    policy = directory.policy_of(workspace)
    if not policy.pulse_enabled:
        return 0
    planned = 0
    ctx: PlanContext | None = None
    cadences = await PulseCadences.load(session, workspace.id)
    memo = OccurrenceMemo()
    start, end = now - dispatcher.config.lookback, now + timedelta(seconds=1)
    if await _may_be_due(session, workspace, cadences, memo, start, end):
        ctx = await PlanContext.load(session, workspace, dispatcher.catalogue)
        planned += await plan_polls(dispatcher, session, ctx, now, cadences, memo)
    offsets = reminder_offsets(policy.pulse_window_days)
    rows = await reminder_rows(session, workspace, now, len(offsets)) if offsets else []
    if rows:
        ctx = ctx or await PlanContext.load(session, workspace, dispatcher.catalogue)
        planned += await plan_reminders(dispatcher, session, ctx, now, rows)
    return planned
