"""Move the sandbox clock and let the real dispatcher tick along the way."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from bot.sandbox import PLATFORM
from bot.sandbox.clock import SandboxClock
from nudges.domain import DeliveryStatus
from nudges.people import workweeks
from nudges.pulse.groups import PulseCadences
from nudges.scheduling.cadences import NUDGE, CadenceBook, OccurrenceMemo
from nudges.services.dispatch import Dispatcher, TickResult
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulsePoll

logger = logging.getLogger(__name__)

# The dispatcher plans occurrences up to twelve hours late; smaller steps never skip one.
STEP = timedelta(hours=8)
TUESDAY = 1
NUDGE_HOUR = time(10, 0)


def next_weekday_at(now_local: datetime, weekday: int, at: time) -> datetime:
    """Return the next moment after ``now_local`` that falls on ``weekday`` at ``at``."""
    days = (weekday - now_local.weekday()) % 7
    candidate = datetime.combine(now_local.date() + timedelta(days=days), at, now_local.tzinfo)
    if candidate <= now_local:
        candidate += timedelta(days=7)
    return candidate


class TimeTravel:
    """Jump the clock forward in steps, ticking at each step and whenever something falls due.

    Every delivery goes out when the product would send it, so weekends, holidays, working
    hours, budgets and thresholds play out exactly as they would over real days.
    """

    def __init__(self, clock: SandboxClock, dispatcher: Dispatcher) -> None:
        self.clock = clock
        self.dispatcher = dispatcher

    async def _next_due(self, after: datetime, until: datetime) -> datetime | None:
        """Return the first moment in ``(after, until)`` when something falls due, if any.

        That is a pending delivery, a poll closing, or a nudge or pulse cadence slot of someone
        in a sandbox workspace, so each goes out at its own minute, as with a ticking scheduler.
        """
        moments: list[datetime] = []
        async with self.dispatcher.db.session() as session:
            for moment in (
                await session.scalar(
                    select(func.min(Delivery.next_attempt_at)).where(
                        Delivery.status == DeliveryStatus.PENDING.value,
                        Delivery.next_attempt_at > after,
                    )
                ),
                await session.scalar(
                    select(func.min(PulsePoll.closes_at)).where(
                        PulsePoll.closed.is_(False), PulsePoll.closes_at > after
                    )
                ),
            ):
                if moment is not None:
                    moments.append(moment)
            workspaces = (
                await session.scalars(select(Workspace).where(Workspace.platform == PLATFORM))
            ).all()
            memo = OccurrenceMemo()
            start = after + timedelta(seconds=1)
            for workspace in workspaces:
                weeks = await workweeks.WorkweekBook.load(session, workspace)
                nudges = await CadenceBook.load(session, workspace.id, NUDGE)
                pulses = (await PulseCadences.load(session, workspace.id)).specs()
                people = (
                    await session.scalars(select(Person).where(Person.workspace_id == workspace.id))
                ).all()
                for person in people:
                    avail = weeks.availability(person)
                    for spec in {nudges.spec_for(person.id)[0], *pulses}:
                        slots = memo.between(spec, avail, start, until)
                        if slots:
                            moments.append(slots[0].utc)
        return min(moments) if moments else None

    async def to(self, target: datetime, *, most: timedelta = STEP) -> TickResult:
        """Move to ``target``, ticking on the way; return what the ticks did in total.

        ``most`` is the longest step between two ticks when nothing falls due in between.
        """
        total = TickResult()
        while (now := self.clock.now()) < target:
            step = min(target, now + most)
            due = await self._next_due(now, step)
            if due is not None and due < step:
                step = due
            self.clock.set(step)
            result = await self.dispatcher.tick()
            total.planned += result.planned
            total.sent += result.sent
            total.failed += result.failed
            total.deferred += result.deferred
            total.cancelled += result.cancelled
        return total

    async def first_closing(self, workspace: Workspace) -> datetime | None:
        """Return when the earliest open poll of ``workspace`` closes, if one is open."""
        async with self.dispatcher.db.session() as session:
            moment: datetime | None = await session.scalar(
                select(func.min(PulsePoll.closes_at)).where(
                    PulsePoll.workspace_id == workspace.id, PulsePoll.closed.is_(False)
                )
            )
        return moment
