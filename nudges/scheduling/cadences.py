"""Resolve cadences in bulk: one workspace's rules and team memberships, loaded once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import Frequency, Scope
from nudges.scheduling.calendar import (
    DEFAULT_NUDGE_CADENCE,
    DEFAULT_PULSE_CADENCE,
    Availability,
    CadenceSpec,
    Occurrence,
    occurrences_between,
)
from nudges.store import read_once
from nudges.store.cadence import CadenceRule
from nudges.store.org import ReportingLine

NUDGE = "nudge"
PULSE = "pulse"


def spec_of(rule: CadenceRule) -> CadenceSpec:
    """Turn a stored rule into a cadence spec."""
    return CadenceSpec(
        frequency=Frequency(rule.frequency),
        weekday=rule.weekday,
        at=time.fromisoformat(rule.at_time),
        ordinal=rule.ordinal,
    )


async def enabled_rules(
    session: AsyncSession, workspace_id: int, purpose: str
) -> dict[str, CadenceRule]:
    """Return a workspace's enabled rules of one purpose, by scope key."""

    async def load() -> dict[str, dict[str, CadenceRule]]:
        # Every purpose in one query: a planning pass asks for each of them.
        rows = await session.scalars(
            select(CadenceRule).where(
                CadenceRule.workspace_id == workspace_id, CadenceRule.enabled.is_(True)
            )
        )
        by_purpose: dict[str, dict[str, CadenceRule]] = defaultdict(dict)
        for rule in rows.all():
            by_purpose[rule.purpose][rule.scope_key] = rule
        return by_purpose

    everything = await read_once.remembered(session, ("cadence_rules", workspace_id), load)
    return dict(everything.get(purpose, {}))


async def find_or_add_rule(
    session: AsyncSession,
    *,
    workspace_id: int,
    purpose: str,
    scope: Scope,
    key: str,
    team: str | None = None,
    person_id: int | None = None,
) -> tuple[CadenceRule, bool]:
    """Return the rule of one scope, adding an empty one when there is none; say if it is new."""
    rule = await session.scalar(
        select(CadenceRule).where(
            CadenceRule.workspace_id == workspace_id,
            CadenceRule.purpose == purpose,
            CadenceRule.scope_key == key,
        )
    )
    if rule is not None:
        return rule, False
    rule = CadenceRule(
        workspace_id=workspace_id,
        purpose=purpose,
        scope=scope.value,
        scope_key=key,
        team=team,
        person_id=person_id,
    )
    session.add(rule)
    return rule, True


def apply_spec(rule: CadenceRule, spec: CadenceSpec, when: datetime) -> None:
    """Make ``rule`` say ``spec`` and switch it on."""
    rule.frequency = spec.frequency.value
    rule.weekday = spec.weekday
    rule.ordinal = spec.ordinal
    rule.at_time = spec.at.strftime("%H:%M")
    rule.enabled = True
    rule.updated_at = when


async def team_memberships(
    session: AsyncSession, workspace_id: int
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Return which teams each person leads and which they belong to, in one query."""
    led: dict[int, set[str]] = defaultdict(set)
    member_of: dict[int, set[str]] = defaultdict(set)
    lines = await session.execute(
        select(ReportingLine.manager_id, ReportingLine.member_id, ReportingLine.team).where(
            ReportingLine.workspace_id == workspace_id, ReportingLine.team != ""
        )
    )
    for manager_id, member_id, team in lines:
        led[manager_id].add(team)
        member_of[member_id].add(team)
    return dict(led), dict(member_of)


def ordered_teams(
    led: dict[int, set[str]], member_of: dict[int, set[str]], person_id: int
) -> list[str]:
    """Return the teams a person leads, then those they belong to, each sorted."""
    leading = sorted(led.get(person_id, ()))
    return leading + sorted(member_of.get(person_id, set()) - set(leading))


@dataclass
class CadenceBook:
    """Every enabled rule of one purpose in a workspace, and who leads or belongs to which team."""

    purpose: str
    rules: dict[str, CadenceRule]
    led: dict[int, set[str]] = field(default_factory=dict)
    member_of: dict[int, set[str]] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession, workspace_id: int, purpose: str) -> CadenceBook:
        """Read the rules and team memberships with two queries."""
        rules = await enabled_rules(session, workspace_id, purpose)
        if not any(key.startswith("team:") for key in rules):
            return cls(purpose, rules)
        led, member_of = await team_memberships(session, workspace_id)
        return cls(purpose, rules, led, member_of)

    def teams_of(self, person_id: int) -> list[str]:
        """Return the teams a person leads, then those they belong to, each sorted."""
        return ordered_teams(self.led, self.member_of, person_id)

    def spec_for(self, person_id: int) -> tuple[CadenceSpec, str]:
        """Return the most specific cadence (person > team > workspace > default) and its source."""
        rule = self.rules.get(f"person:{person_id}")
        if rule is not None:
            return spec_of(rule), "person"
        for team in self.teams_of(person_id):
            rule = self.rules.get(f"team:{team}")
            if rule is not None:
                return spec_of(rule), f"team:{team}"
        rule = self.rules.get("workspace")
        if rule is not None:
            return spec_of(rule), "workspace"
        return (
            DEFAULT_NUDGE_CADENCE if self.purpose == NUDGE else DEFAULT_PULSE_CADENCE
        ), "default"


class OccurrenceMemo:
    """Compute each (cadence, availability, window) once: most people share all three."""

    def __init__(self) -> None:
        self._seen: dict[
            tuple[CadenceSpec, Availability, datetime, datetime], list[Occurrence]
        ] = {}

    def between(
        self, spec: CadenceSpec, avail: Availability, start: datetime, end: datetime
    ) -> list[Occurrence]:
        """Return the occurrences in ``[start, end)``."""
        key = (spec, avail, start, end)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = occurrences_between(spec, avail, start, end)
        return found
