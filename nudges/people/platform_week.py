"""Take a person's working week and zone from their platform, unless someone chose them.

An adapter that can read a person's working hours (Teams, from Outlook) hands them here. What a
person or an admin set explicitly always wins: a week of their own stored with another source, or
a zone set by ``timezone``/``me timezone``. What the platform said before is replaced, and a week
the platform no longer gives is removed, so the team's or workspace's week applies again.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.people import workweeks
from nudges.scheduling.workweek import WorkWeek
from nudges.store.org import Person, Workspace
from nudges.store.workweeks import WorkPattern

__all__ = ["CLIENT", "OUTLOOK", "Adopted", "adopt_platform_week"]

# Sources a platform writes; anything else was chosen by someone.
OUTLOOK = "outlook"
CLIENT = "platform"


@dataclass(frozen=True)
class Adopted:
    """What taking the platform's week changed, and what an explicit choice kept."""

    week: bool = False
    zone: bool = False
    week_kept: bool = False
    zone_kept: bool = False


def _zone_or_none(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return ZoneInfo(name).key
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


async def adopt_platform_week(
    session: AsyncSession,
    workspace: Workspace,
    person: Person,
    week: WorkWeek | None,
    zone: str | None,
    *,
    source: str = OUTLOOK,
) -> Adopted:
    """Set ``person``'s week and zone from the platform, unless they were set explicitly.

    ``week`` None means the platform gives no working hours (any it gave before are dropped);
    ``zone`` None or unknown leaves the person's zone as it is.
    """
    key = f"person:{person.id}"
    row = await session.scalar(
        select(WorkPattern).where(
            WorkPattern.workspace_id == workspace.id, WorkPattern.scope_key == key
        )
    )
    week_kept = row is not None and row.source != source
    week_changed = False
    if not week_kept:
        current = workweeks.pattern_of(row) if row is not None else None
        if current != week:
            await workweeks.set_pattern(
                session, workspace, key, week, source=source, person_id=person.id
            )
            week_changed = True
    zone_changed = False
    zone_kept = False
    name = _zone_or_none(zone)
    if name is not None and name != person.timezone:
        # A zone the chat client filled in, or one this source set before, may be replaced.
        if person.timezone is None or person.timezone_source in (CLIENT, source):
            person.timezone = name
            person.timezone_source = source
            zone_changed = True
        else:
            zone_kept = True
    return Adopted(week_changed, zone_changed, week_kept, zone_kept)
