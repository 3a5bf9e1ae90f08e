"""Say who is asked one poll together: a named team, or a manager's reports without a team name.

A group is what a result describes, so it is also what the anonymity threshold counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import String, case, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from nudges.domain import Scope
from nudges.people.directory import scope_key, spec_of
from nudges.scheduling.cadences import PULSE, enabled_rules
from nudges.scheduling.calendar import DEFAULT_PULSE_CADENCE, CadenceSpec
from nudges.store.cadence import CadenceRule
from nudges.store.org import Person, ReportingLine

TEAM_PREFIX = "team:"
MANAGER_PREFIX = "manager:"


@dataclass(frozen=True)
class Group:
    """The people one poll goes to and the managers who see its result."""

    key: str
    team: str
    manager_ids: tuple[int, ...]
    member_ids: tuple[int, ...]


def group_key(manager_id: int, team: str) -> str:
    """Return the key of the group a reporting line belongs to."""
    return f"{TEAM_PREFIX}{team}" if team else f"{MANAGER_PREFIX}{manager_id}"


def manager_of_key(key: str) -> int | None:
    """Return the manager id of a ``manager:<id>`` group key, else None."""
    if key.startswith(MANAGER_PREFIX):
        try:
            return int(key[len(MANAGER_PREFIX) :])
        except ValueError:
            return None
    return None


async def groups_of_workspace(session: AsyncSession, workspace_id: int) -> list[Group]:
    """Return every group of the workspace, ordered by key."""
    rows = await session.execute(
        select(ReportingLine.manager_id, ReportingLine.member_id, ReportingLine.team)
        .where(ReportingLine.workspace_id == workspace_id)
        .order_by(ReportingLine.id)
    )
    managers: dict[str, set[int]] = defaultdict(set)
    members: dict[str, set[int]] = defaultdict(set)
    teams: dict[str, str] = {}
    for manager_id, member_id, team in rows:
        key = group_key(manager_id, team)
        managers[key].add(manager_id)
        # Nobody answers about their own leadership: a manager in their own team is not asked.
        if member_id != manager_id:
            members[key].add(member_id)
        teams[key] = team
    return [
        Group(key, teams[key], tuple(sorted(managers[key])), tuple(sorted(members[key])))
        for key in sorted(managers)
    ]


def keys_led_by(manager_id: int) -> ScalarSelect[str]:
    """Return, as a subquery, the keys of the groups whose result a manager sees."""
    key = case(
        (ReportingLine.team != "", literal(TEAM_PREFIX) + ReportingLine.team),
        else_=literal(MANAGER_PREFIX) + cast(ReportingLine.manager_id, String),
    )
    return select(key).where(ReportingLine.manager_id == manager_id).distinct().scalar_subquery()


async def group_keys_led_by(session: AsyncSession, manager: Person) -> list[str]:
    """Return the keys of the groups whose result ``manager`` sees."""
    teams = await session.scalars(
        select(ReportingLine.team).where(ReportingLine.manager_id == manager.id).distinct()
    )
    return sorted({group_key(manager.id, team) for team in teams.all()})


async def groups_led_by(session: AsyncSession, manager: Person) -> list[Group]:
    """Return the groups whose result ``manager`` sees."""
    return [
        g
        for g in await groups_of_workspace(session, manager.workspace_id)
        if manager.id in g.manager_ids
    ]


async def groups_of_team(session: AsyncSession, workspace_id: int, team: str) -> list[Group]:
    """Return the group of a named team (compared without regard to case), if it exists."""
    wanted = team.casefold()
    return [
        g
        for g in await groups_of_workspace(session, workspace_id)
        if g.team and g.team.casefold() == wanted
    ]


@dataclass(frozen=True)
class PulseCadences:
    """A workspace's enabled pulse cadence rules, by scope key."""

    rules: dict[str, CadenceRule]

    @classmethod
    async def load(cls, session: AsyncSession, workspace_id: int) -> PulseCadences:
        """Read the rules with one query."""
        return cls(await enabled_rules(session, workspace_id, PULSE))

    def specs(self) -> set[CadenceSpec]:
        """Return every cadence a group can have: each team rule, and the workspace's."""
        found = {spec_of(rule) for key, rule in self.rules.items() if key.startswith(TEAM_PREFIX)}
        workspace = self.rules.get(scope_key(Scope.WORKSPACE))
        found.add(spec_of(workspace) if workspace is not None else DEFAULT_PULSE_CADENCE)
        return found

    def spec_for(self, group: Group) -> tuple[CadenceSpec, str]:
        """Return the group's cadence (team rule > workspace rule > default) and its source.

        The whole group answers one poll per period, so the cadence is the group's, not each
        member's: a member who also leads another team must not move this team's poll.
        """
        if group.team:
            key = scope_key(Scope.TEAM, team=group.team)
            rule = self.rules.get(key)
            if rule is not None:
                return spec_of(rule), key
        rule = self.rules.get(scope_key(Scope.WORKSPACE))
        if rule is not None:
            return spec_of(rule), "workspace"
        return DEFAULT_PULSE_CADENCE, "default"
