"""Planning passes: every planner over each workspace, one commit per workspace."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import Planned
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.nudges.delivery.world import NOW, PING, LookingMessenger, make_dispatcher, rows, seed


class OnePerWorkspace:
    """Plan one ping per workspace; fail on the workspace named ``broken``."""

    def __init__(self, broken: str | None = None) -> None:
        self.broken = broken
        self.dispatcher = None
        self.after: list[str] = []

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        if workspace.external_id == self.broken:
            raise ValueError("bad data")
        assert self.dispatcher is not None
        new = await self.dispatcher.insert_delivery(
            session,
            idempotency_key=f"{PING}:planned:{workspace.id}",
            workspace_id=workspace.id,
            recipient_id=await _someone(session, workspace),
            kind=PING,
            payload={"explicit": True},
            scheduled_at=now - timedelta(seconds=1),
        )
        return Planned(int(new is not None), after_commit=[self.after_commit])

    async def after_commit(self) -> None:
        self.after.append("once")


async def _someone(session: AsyncSession, workspace: Workspace) -> int:
    from sqlalchemy import select

    from nudges.store.org import Person

    found = await session.scalar(select(Person.id).where(Person.workspace_id == workspace.id))
    assert found is not None
    return found


async def test_a_broken_workspace_does_not_stop_the_others_and_each_is_announced(
    db: Database,
) -> None:
    await seed(db, {"T1": 1, "T2": 1, "T3": 1})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    planner = OnePerWorkspace(broken="T2")
    planner.dispatcher = dispatcher  # type: ignore[assignment]
    dispatcher.add_planner(planner)
    announced: list[int] = []
    assert await dispatcher.planning.plan(announced.append) == 2
    assert len(announced) == 2
    # Work after the commit runs once per pass, however many workspaces asked for it.
    assert planner.after == ["once"]
    # Planning twice inserts nothing twice.
    assert await dispatcher.planning.plan() == 0
    assert len(await rows(db)) == 5


async def test_a_stop_ends_the_pass_before_the_next_workspace(db: Database) -> None:
    await seed(db, {"T1": 1, "T2": 1})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    planner = OnePerWorkspace()
    planner.dispatcher = dispatcher  # type: ignore[assignment]
    dispatcher.add_planner(planner)
    dispatcher.request_stop()
    assert await dispatcher.planning.plan() == 0


class InChunks:
    """Plan ``per_workspace`` rows a chunk of one at a time, saying when more is left."""

    def __init__(self, per_workspace: int) -> None:
        self.left: dict[int, int] = {}
        self.per_workspace = per_workspace

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        left = self.left.setdefault(workspace.id, self.per_workspace)
        if not left:
            return Planned(0)
        self.left[workspace.id] = left - 1
        return Planned(1, more=left > 1)


async def test_a_planner_that_stops_at_a_chunk_gets_its_turns_in_rounds(db: Database) -> None:
    await seed(db, {"T1": 1, "T2": 1})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    dispatcher.add_planner(InChunks(per_workspace=3))
    announced: list[int] = []
    assert await dispatcher.planning.plan(announced.append) == 6
    first, second = sorted(set(announced))
    # Every workspace has a turn before any has its next one: no workspace waits for all.
    assert announced == [first, second] * 3
