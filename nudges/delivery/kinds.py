"""Let each kind of message tell delivery how it is planned, held back and composed.

Delivery knows no kind of message: nudges, follow-ups, polls and digests register a handler
under their kind name, and planners that create delivery rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.messages import Message
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace


@dataclass(frozen=True)
class KindRules:
    """What the shared checks do with this kind."""

    # The weekly budget may hold it back (unless the delivery was explicitly requested).
    budgeted: bool = False
    # A paused recipient gets it after the pause instead of never.
    deferred_while_paused: bool = False


class KindHandler(Protocol):
    """Hold back and compose the deliveries of one or more kinds."""

    rules: KindRules

    async def hold_back(
        self, session: AsyncSession, delivery: Delivery, now: datetime
    ) -> str | None:
        """Return why this delivery must be cancelled for good, or None when it may go."""
        ...

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message | None:
        """Render the delivery for its recipient, or None when it can no longer be rendered."""
        ...


class NoHoldBack:
    """Give a kind of message that has no reason of its own to hold a delivery back."""

    async def hold_back(
        self, session: AsyncSession, delivery: Delivery, now: datetime
    ) -> str | None:
        """Never hold a delivery back for reasons of its own (the shared checks still apply)."""
        return None


@dataclass
class Planned:
    """What a planner did for one workspace."""

    count: int = 0
    # Sent deliveries whose messages must be rendered again once the planning is committed.
    refresh: list[int] = field(default_factory=list)
    # Work that may only run once the planning is committed (each runs once per tick).
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # The planner stopped at a chunk and has more to store: it is asked again, after every
    # other workspace had its turn.
    more: bool = False


class Planner(Protocol):
    """Create the delivery rows of one product area that fell due in a workspace."""

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        """Insert what fell due (idempotently) and say what was done."""
        ...


@runtime_checkable
class Stamped(Protocol):
    """A planner that can tell cheaply whether what it plans from changed (a cadence, say).

    Planners plan ahead; when a stamp differs from the one taken when the last pass began,
    the plan is refreshed at once instead of at the next regular tick.
    """

    async def inputs_stamp(self, session: AsyncSession) -> Hashable:
        """Return a value that changes whenever the planner's inputs change."""
        ...
