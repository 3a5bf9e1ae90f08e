"""A small organisation with pulse polls on a fake clock, driven through the real dispatcher."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from nudges.coaching.interactions import ActionResult, Actor, Interactions
from nudges.commands.service import CommandReply, CommandService
from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryKind, Dimension
from nudges.messages import Action, Actions, Button, Message
from nudges.ports import FakeClock
from nudges.pulse.groups import groups_of_workspace
from nudges.pulse.opening import Opened, open_now
from nudges.services.dispatch import Dispatcher, EngineConfig, TickResult
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulsePoll, PulseRetiredQuestion
from tests.fakes.memory_messenger import InMemoryMessenger, Sent
from tests.nudges.orgs import make_org

# Monday 1 February 2027, 08:00 UTC (09:00 in Amsterdam). Thursday is 4 February.
MONDAY = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
FAST = EngineConfig(send_rate_per_workspace=1000, initial_rate=1000)


def members(n: int, prefix: str = "U") -> list[str]:
    return [f"{prefix}{i}" for i in range(1, n + 1)]


def answer_buttons(message: Message) -> list[Button]:
    return [
        b
        for block in message.blocks
        if isinstance(block, Actions)
        for b in block.buttons
        if b.action_id == Action.PULSE_ANSWER
    ]


def text_of(message: Message) -> str:
    return "\n".join(str(getattr(b, "text", "")) for b in message.blocks)


@dataclass
class World:
    db: Database
    clock: FakeClock
    messenger: InMemoryMessenger
    dispatcher: Dispatcher
    interactions: Interactions
    ids: dict[str, int]
    ticks: list[TickResult] = field(default_factory=list)

    @property
    def workspace_id(self) -> int:
        return self.ids["__workspace__"]

    async def tick(self) -> TickResult:
        result = await self.dispatcher.tick()
        self.ticks.append(result)
        return result

    async def run_until(self, when: datetime, step: timedelta = timedelta(hours=1)) -> None:
        """Tick every ``step`` up to and including ``when``."""
        while self.clock.now() + step <= when:
            self.clock.advance(step)
            await self.tick()
        if self.clock.now() < when:
            self.clock.set(when)
            await self.tick()

    async def settings(self, **values: Any) -> None:
        async with self.db.session() as s:
            ws = await s.get(Workspace, self.workspace_id)
            assert ws is not None
            ws.settings = {**(ws.settings or {}), **values}
            await s.commit()

    async def only_dimension(self, dimension: Dimension) -> None:
        """Retire every shipped question outside ``dimension`` so polls always ask about it."""
        async with self.db.session() as s:
            for q in default_catalogue().questions:
                if q.dimension is not dimension:
                    s.add(PulseRetiredQuestion(workspace_id=self.workspace_id, question_key=q.key))
            await s.commit()

    async def open_now(self, team: str = "") -> Opened:
        async with self.db.session() as s:
            ws = await s.get(Workspace, self.workspace_id)
            assert ws is not None
            groups = [g for g in await groups_of_workspace(s, ws.id) if not team or g.team == team]
            opened = await open_now(self.dispatcher, s, ws, groups, self.clock.now())
            await s.commit()
        return opened

    def polls_to(self, user: str) -> list[Sent]:
        """Return the poll messages a person received (with buttons or not), in order."""
        return [
            s
            for s in self.messenger.to(user)
            if s.message.blocks
            and "pulse" in s.message.fallback.lower()
            and not s.message.fallback.lower().startswith("reminder")
        ]

    def reminders_to(self, user: str) -> list[Sent]:
        return [s for s in self.messenger.to(user) if s.message.fallback.startswith("Reminder")]

    async def click(
        self, user: str, value: int, sent: Sent | None = None, *, original: bool = False
    ) -> ActionResult:
        """Click emoji ``value`` in a person's poll message, as last rendered or as first sent."""
        sent = sent or self.polls_to(user)[-1]
        current = sent.updates[-1] if sent.updates and not original else sent.message
        (button,) = [b for b in answer_buttons(current) if b.value.endswith(f":{value}")]
        return await self.interactions.on_action(
            Actor("slack", "T1", user), Action.PULSE_ANSWER, button.value
        )

    async def command(self, text: str, user: str = "UADMIN") -> CommandReply:
        """Run an admin command; the admin is created on first use."""
        if user not in self.ids:
            async with self.db.session() as s:
                admin = Person(
                    workspace_id=self.workspace_id,
                    external_id=user,
                    is_admin=True,
                    created_at=self.clock.now() - timedelta(days=7),
                )
                s.add(admin)
                await s.commit()
                self.ids[user] = admin.id
        service = CommandService(self.dispatcher)
        return await service.run(Actor("slack", "T1", user), text, prefix="/nudges ")

    async def deliveries(self, kind: DeliveryKind | None = None) -> list[Delivery]:
        async with self.db.session() as s:
            query = select(Delivery).order_by(Delivery.id)
            if kind is not None:
                query = query.where(Delivery.kind == kind.value)
            return list((await s.scalars(query)).all())

    async def polls(self) -> list[PulsePoll]:
        async with self.db.session() as s:
            return list((await s.scalars(select(PulsePoll).order_by(PulsePoll.id))).all())

    async def run_poll(self, values: dict[str, int], team: str = "") -> PulsePoll:
        """Open a poll now, send it, let the given people answer, and close it."""
        opened = await self.open_now(team)
        assert opened.polls, opened.skipped
        await self.tick()
        for user, value in values.items():
            result = await self.click(user, value)
            assert result.changed, result.notice
        poll = opened.polls[0]
        await self.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=12))
        # The next poll opens on a later day, so polls line up one after another.
        return poll


async def make_world(
    db: Database,
    *,
    teams: dict[str, list[str]] | None = None,
    start: datetime = MONDAY,
    tz: dict[str, str] | None = None,
    team_names: dict[str, str] | None = None,
) -> World:
    """Create managers with reports; ``team_names`` names a manager's team (default: none)."""
    teams = teams or {"UMGR": members(6)}
    ids = await make_org(
        db,
        created=start - timedelta(days=7),
        managers=teams,
        tz=tz,
        team=team_names or {},
    )
    clock = FakeClock(start)
    messenger = InMemoryMessenger()
    dispatcher = Dispatcher(
        db, clock, default_catalogue(), {"slack": messenger}, FAST, rng=random.Random(7)
    )
    return World(
        db, clock, messenger, dispatcher, Interactions(dispatcher, dispatcher.catalogue), ids
    )
