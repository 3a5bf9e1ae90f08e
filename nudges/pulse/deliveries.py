"""Register polls, reminders and the digest with delivery: how they are planned and composed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.delivery import Dispatcher, KindRules, NoHoldBack, Planned
from nudges.domain import DeliveryKind
from nudges.messages import Message
from nudges.people import directory
from nudges.pulse import answers, closing, composing, digest, planning, schedule
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

# Polls, reminders and digests all count towards the weekly budget.
BUDGETED = KindRules(budgeted=True)


class PollHandler:
    """Hold back polls and reminders of closed polls; render them with a fresh answer key."""

    rules = BUDGETED

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def hold_back(
        self, session: AsyncSession, delivery: Delivery, now: datetime
    ) -> str | None:
        """Return why the poll or reminder may no longer go out."""
        return await closing.hold_back(session, delivery, now)

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message | None:
        """Render the poll or reminder."""
        return await composing.compose(session, self.catalogue, delivery, workspace, person, now)


class DigestHandler(NoHoldBack):
    """Render the pulse digest as a message of its own."""

    rules = BUDGETED

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message | None:
        """Render the digest, or None when there is nothing to report."""
        locale = directory.locale_of(workspace, person)
        return await digest.digest_message(
            session, workspace, person, locale, now, self.catalogue, delivery.id
        )


class PulsePlanner:
    """Close polls whose window ended, then plan the polls and reminders that fell due."""

    def __init__(self, dispatcher: planning.Dispatcher, db: Database) -> None:
        self.dispatcher = dispatcher
        self.db = db

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        """Close and plan one workspace's polls."""
        closed = await closing.close_due(session, workspace, now)
        planned = await schedule.plan_pulses(self.dispatcher, session, workspace, now)
        # What closing left behind of the sealed answers is cleared once the close is committed.
        after: list[Callable[[], Awaitable[None]]] = [self.scrub] if closed else []
        return Planned(planned, closed, after)

    async def scrub(self) -> None:
        """Clear the sealed answers' old row versions (vacuum, WAL checkpoint)."""
        await answers.scrub(self.db)


def register(dispatcher: Dispatcher, planning: planning.Dispatcher, catalogue: Catalogue) -> None:
    """Teach ``dispatcher`` the pulse's kinds of message and its planner."""
    polls = PollHandler(catalogue)
    dispatcher.register_kind(DeliveryKind.PULSE.value, polls)
    dispatcher.register_kind(DeliveryKind.PULSE_REMINDER.value, polls)
    dispatcher.register_kind(DeliveryKind.DIGEST.value, DigestHandler(catalogue))
    dispatcher.add_planner(PulsePlanner(planning, dispatcher.db))
