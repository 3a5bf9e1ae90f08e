"""Run the registered planners over every workspace this worker serves, one commit each."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence

from sqlalchemy import select

from nudges.delivery.ground import Ground
from nudges.delivery.kinds import Planned, Planner, Stamped
from nudges.delivery.outage import DB_ERRORS
from nudges.store import read_once
from nudges.store.org import Workspace

logger = logging.getLogger(__name__)


class Planning:
    """Planning passes: all planners over one workspace per transaction, in turn."""

    def __init__(
        self,
        ground: Ground,
        planners: Sequence[Planner],
        update_message: Callable[[int], Awaitable[bool]],
    ) -> None:
        self.ground = ground
        self.planners = planners
        self.update_message = update_message
        # The planners' stamps when the last complete pass began (None: no pass yet).
        self._stamps: list[Hashable] | None = None
        # Messages to re-render that were still being sent: tried again once the sends are out.
        self._unrefreshed: dict[int, None] = {}

    async def refresh_sent(self) -> None:
        """Re-render the messages a pass could not, as they were still being sent then."""
        waiting, self._unrefreshed = list(self._unrefreshed), {}
        for delivery_id in waiting:
            await self.update_message(delivery_id)

    async def _take_stamps(self) -> list[Hashable]:
        async with self.ground.db.session() as session:
            return [
                await planner.inputs_stamp(session)
                for planner in self.planners
                if isinstance(planner, Stamped)
            ]

    async def outdated(self) -> bool:
        """Tell whether a planner's inputs changed since the last pass began (or none ran)."""
        if self._stamps is None:
            return True
        return await self._take_stamps() != self._stamps

    async def workspaces(self) -> list[Workspace]:
        """Return the workspaces of the platforms this worker serves."""
        async with self.ground.db.session() as session:
            rows = await session.scalars(
                select(Workspace)
                .where(Workspace.platform.in_(self.ground.platforms()))
                .order_by(Workspace.id)
            )
            return list(rows.all())

    async def plan_workspace(
        self, workspace: Workspace, planners: Sequence[Planner] | None = None
    ) -> Planned:
        """Run every planner (or ``planners``) over one workspace and commit what they planned."""
        total = Planned()
        # On SQLite the pass holds this process's writers back: it reads, then writes, and a
        # transaction that read cannot write once another writer committed meanwhile.
        async with self.ground.writing(), self.ground.db.session() as session:
            # Planners only read blackout days and cadence rules: each is read once here.
            read_once.mark(session)
            now = self.ground.clock.now()
            for planner in self.planners if planners is None else planners:
                done = await planner.plan(session, workspace, now)
                total.count += done.count
                total.refresh += done.refresh
                total.after_commit += done.after_commit
                total.more = total.more or done.more
            await session.commit()
        return total

    async def plan(
        self, on_planned: Callable[[int], None] | None = None, *, due_now_only: bool = False
    ) -> int:
        """Create every delivery that fell due, workspace by workspace, each committed at once.

        ``due_now_only`` leaves out the planners that plan ahead (``Stamped``): their pass may
        wait, since what they store is not due for a while yet.
        """
        planners = [p for p in self.planners if not (due_now_only and isinstance(p, Stamped))]
        if not planners:
            return 0
        planned = 0
        refresh: list[int] = []
        after_commit: dict[Callable[[], Awaitable[None]], None] = {}
        stamps = await self._take_stamps()
        complete = True
        # In rounds: a workspace whose planners stopped at a chunk gets its next turn after
        # every other one had its own, so no workspace waits for all the others' planning.
        turn = await self.workspaces()
        while turn:
            later: list[Workspace] = []
            for workspace in turn:
                if self.ground.stopping:
                    complete = False
                    break
                try:
                    done = await self.plan_workspace(workspace, planners)
                except DB_ERRORS:
                    raise
                except Exception:
                    # One workspace's bad data must not stop the others from being planned.
                    logger.exception("planning workspace %s failed", workspace.id)
                    continue
                planned += done.count
                refresh += done.refresh
                after_commit.update(dict.fromkeys(done.after_commit))
                if on_planned is not None:
                    on_planned(workspace.id)
                if done.more and done.count:
                    later.append(workspace)
            turn = later
        if complete and not due_now_only:
            self._stamps = stamps
        # Only once the planning is committed may sent messages change (a closed poll, say).
        for delivery_id in refresh:
            if not await self.update_message(delivery_id):
                self._unrefreshed[delivery_id] = None
        for work in after_commit:
            await work()
        return planned
