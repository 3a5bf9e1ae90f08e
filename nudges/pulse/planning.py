"""What planning pulse polls reads once per workspace: people, their weeks, the question bank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.delivery import EngineConfig
from nudges.domain import DeliveryKind
from nudges.people import directory, workweeks
from nudges.policy import WorkspacePolicy
from nudges.pulse.bank import Bank, load_bank
from nudges.pulse.groups import Group
from nudges.scheduling.calendar import Availability
from nudges.scheduling.workweek import majority_week
from nudges.store.org import Person, Workspace


class Dispatcher(Protocol):
    """What planning polls needs from the dispatcher: keys, rows and the catalogue."""

    catalogue: Catalogue
    config: EngineConfig

    def key_for(self, kind: Any, recipient_id: int, item: str) -> str:
        """Build a delivery's idempotency key."""
        ...

    async def insert_delivery(self, session: AsyncSession, **values: Any) -> int | None:
        """Insert a delivery unless its key exists; return its id if inserted."""
        ...

    async def existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
        """Return which of these idempotency keys already have a delivery."""
        ...


def eligible(person: Person) -> bool:
    """Tell whether a person can be asked at all."""
    return person.reachable and not person.opted_out


def poll_item(poll_id: int) -> str:
    """Return the occurrence part of a poll delivery's key and its content key."""
    return f"poll-{poll_id}"


def poll_key(dispatcher: Dispatcher, person_id: int, group_key: str, period_key: str) -> str:
    """Return the idempotency key of a person's poll, known before the poll itself exists."""
    return dispatcher.key_for(DeliveryKind.PULSE, person_id, f"{group_key}@{period_key}")


@dataclass
class PlanContext:
    """What planning one workspace needs, loaded once."""

    workspace: Workspace
    policy: WorkspacePolicy
    people: dict[int, Person]
    weeks: workweeks.WorkweekBook
    catalogue: Catalogue
    bank: Bank | None = None
    avails: dict[int, Availability] = field(default_factory=dict)

    @classmethod
    async def load(
        cls, session: AsyncSession, workspace: Workspace, catalogue: Catalogue
    ) -> PlanContext:
        """Read the workspace's people, their working weeks and the blackout days."""
        people = (
            await session.scalars(select(Person).where(Person.workspace_id == workspace.id))
        ).all()
        return cls(
            workspace=workspace,
            policy=directory.policy_of(workspace),
            people={p.id: p for p in people},
            weeks=await workweeks.WorkweekBook.load(session, workspace),
            catalogue=catalogue,
        )

    def avail(self, person: Person) -> Availability:
        """Return when ``person`` may be messaged: their zone, working week, country and leave."""
        if person.id not in self.avails:
            self.avails[person.id] = self.weeks.availability(person)
        return self.avails[person.id]

    def majority_days(self, members: Sequence[Person]) -> frozenset[int]:
        """Return the working days most of these members share."""
        return majority_week(self.weeks.week_for(m.id)[0].days for m in members)

    def members(self, group: Group) -> list[Person]:
        """Return the group's members who can be asked."""
        return [
            self.people[i]
            for i in group.member_ids
            if i in self.people and eligible(self.people[i])
        ]

    async def question_bank(self, session: AsyncSession) -> Bank:
        """Return the workspace's bank, read once."""
        if self.bank is None:
            self.bank = await load_bank(session, self.workspace.id, self.catalogue)
        return self.bank
