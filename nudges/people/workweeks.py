"""Resolve each person's working week (person > team > workspace), country and time off.

One ``WorkweekBook`` holds a workspace's patterns, team memberships, leave and blackout days,
read once per marked session; ``availability_of`` is the one place a person's ``Availability``
comes from, so every planner, reminder and the delivery engine see the same working time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.i18n import format_day, format_moment, t
from nudges.people import directory
from nudges.scheduling.cadences import ordered_teams, team_memberships
from nudges.scheduling.calendar import Availability, MoveReason, Occurrence, blocked_reason
from nudges.scheduling.workweek import (
    WorkWeek,
    decode_days,
    encode_days,
    expand_time_off,
    week_began,
)
from nudges.store import read_once
from nudges.store.org import Person, Workspace
from nudges.store.workweeks import TimeOff, WorkPattern

__all__ = [
    "WorkweekBook",
    "availability_of",
    "budget_week_began",
    "moved_words",
    "pattern_of",
    "set_pattern",
]


def pattern_of(row: WorkPattern) -> WorkWeek:
    """Turn a stored pattern into a working week."""
    return WorkWeek(
        decode_days(row.days), time.fromisoformat(row.start_time), time.fromisoformat(row.end_time)
    )


@dataclass
class WorkweekBook:
    """A workspace's working weeks, who is in which team, leave and blackout days."""

    workspace: Workspace
    patterns: dict[str, WorkPattern]
    blackouts: frozenset[date]
    leave: dict[int, list[tuple[date, date]]] = field(default_factory=dict)
    led: dict[int, set[str]] = field(default_factory=dict)
    member_of: dict[int, set[str]] = field(default_factory=dict)
    parsed: dict[str, WorkWeek] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession, workspace: Workspace) -> WorkweekBook:
        """Read everything with at most three queries, once per marked session."""
        return await read_once.remembered(
            session, ("workweek_book", workspace.id), lambda: cls.read(session, workspace)
        )

    @classmethod
    async def read(cls, session: AsyncSession, workspace: Workspace) -> WorkweekBook:
        """Read everything with at most three queries, now."""
        rows = await session.scalars(
            select(WorkPattern).where(WorkPattern.workspace_id == workspace.id)
        )
        patterns = {row.scope_key: row for row in rows.all()}
        leave: dict[int, list[tuple[date, date]]] = defaultdict(list)
        stretches = await session.execute(
            select(TimeOff.person_id, TimeOff.first_day, TimeOff.last_day).where(
                TimeOff.workspace_id == workspace.id
            )
        )
        for person_id, first, last in stretches:
            leave[person_id].append((first, last))
        book = cls(workspace, patterns, await directory.blackout_days(session, workspace.id), leave)
        if any(key.startswith("team:") for key in patterns):
            book.led, book.member_of = await team_memberships(session, workspace.id)
        return book

    def week_for(self, person_id: int) -> tuple[WorkWeek, str]:
        """Return the most specific week (person > team > workspace > default) and its source."""
        keys = [f"person:{person_id}"]
        keys += [f"team:{team}" for team in ordered_teams(self.led, self.member_of, person_id)]
        keys.append("workspace")
        for key in keys:
            row = self.patterns.get(key)
            if row is not None:
                if key not in self.parsed:
                    self.parsed[key] = pattern_of(row)
                return self.parsed[key], "outlook" if row.source == "outlook" else key.split(":")[0]
        return directory.default_week(self.workspace), "default"

    def people_with_their_own(self) -> set[int]:
        """Return who has a week (their own or a team's) or leave that differs from the rest."""
        found = {row.person_id for row in self.patterns.values() if row.person_id is not None}
        found |= set(self.leave)
        teams = {key.split(":", 1)[1] for key in self.patterns if key.startswith("team:")}
        for by_person in (self.led, self.member_of):
            found |= {person for person, names in by_person.items() if names & teams}
        return found

    def leave_of(self, person_id: int) -> list[tuple[date, date]]:
        """Return a person's stretches of leave, earliest first."""
        return sorted(self.leave.get(person_id, ()))

    def availability(self, person: Person) -> Availability:
        """Say when ``person`` may receive messages: their zone, week, country and leave."""
        week, _source = self.week_for(person.id)
        return directory.availability(
            self.workspace,
            person,
            self.blackouts,
            week=week,
            time_off=expand_time_off(self.leave_of(person.id)),
        )

    def off_reason(self, person: Person, day: date) -> MoveReason | None:
        """Say why ``day`` is not a working day for ``person``, or None when it is."""
        return blocked_reason(day, self.availability(person))


async def availability_of(
    session: AsyncSession, workspace: Workspace, person: Person
) -> Availability:
    """Say when ``person`` may receive messages."""
    return (await WorkweekBook.load(session, workspace)).availability(person)


async def budget_week_began(
    session: AsyncSession, workspace: Workspace, person: Person, now: datetime
) -> datetime:
    """Return when the person's own working week (the one the budget counts in) began."""
    book = await WorkweekBook.load(session, workspace)
    week, _source = book.week_for(person.id)
    return week_began(now, directory.zone_of(workspace, person), week.days)


async def set_pattern(
    session: AsyncSession,
    workspace: Workspace,
    key: str,
    week: WorkWeek | None,
    *,
    source: str,
    team: str | None = None,
    person_id: int | None = None,
) -> WorkPattern | None:
    """Store (or with None, remove) one scope's working week; return the previous row's copy."""
    row = await session.scalar(
        select(WorkPattern).where(
            WorkPattern.workspace_id == workspace.id, WorkPattern.scope_key == key
        )
    )
    previous = None
    if row is not None:
        previous = WorkPattern(days=row.days, start_time=row.start_time, end_time=row.end_time)
    if week is None:
        if row is not None:
            await session.delete(row)
        return previous
    if row is None:
        row = WorkPattern(
            workspace_id=workspace.id,
            scope=key.split(":", 1)[0],
            scope_key=key,
            team=team,
            person_id=person_id,
        )
        session.add(row)
    row.days = encode_days(week.days)
    row.start_time = week.start.strftime("%H:%M")
    row.end_time = week.end.strftime("%H:%M")
    row.source = source
    return previous


def moved_words(locale: str, person: Person, occurrence: Occurrence) -> str | None:
    """Say why a slot moved, like "Friday is @lars's day off → Monday 09:00", or None."""
    if occurrence.moved is None:
        return None
    # Indented under the "next nudge" line it explains.
    return "  " + t(
        locale,
        f"replies.status.moved.{occurrence.moved.value}",
        person=person.external_id,
        day=format_day(locale, occurrence.nominal_local.date()),
        moment=format_moment(locale, occurrence.local),
    )
