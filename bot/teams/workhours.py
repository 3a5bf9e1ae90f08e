"""Take people's working days, hours and zone from their Outlook working hours (Microsoft Graph).

Needs the Graph application permission ``MailboxSettings.Read`` with an admin's consent in each
tenant. Each person is read when they install the app, and everyone once a day (the first sweep a
minute after start-up) by one replica of the deployment, whichever takes the day's turn in the
store first; a tenant that refuses (no permission, no consent) or throttles (429) is
skipped for the rest of that sweep. Whatever a person or an admin set explicitly wins
(``nudges.people.platform_week``). Outlook names zones the Windows way ("W. Europe Standard
Time"); CLDR's mapping, shipped with Babel, turns them into IANA names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
from babel.core import get_global
from sqlalchemy import and_, select

from bot.teams.graph import GraphClient, GraphError
from nudges.domain import Platform
from nudges.people import directory
from nudges.people.platform_week import OUTLOOK, Adopted, adopt_platform_week
from nudges.scheduling.workweek import WorkWeek, WorkWeekError
from nudges.services import Services
from nudges.store import marks
from nudges.store.org import Person, Workspace
from nudges.store.workweeks import WorkPattern

logger = logging.getLogger(__name__)

PERMISSION = "MailboxSettings.Read"
REFRESH_SECONDS = 24 * 3600.0
FIRST_REFRESH_SECONDS = 60.0
# Graph throttles per app and tenant; a few people at a time is plenty for a daily sweep.
CONCURRENCY = 4
# The shared mark whose holder sweeps; held for most of an interval, so of replicas started at
# different times each day's sweep is one replica's.
SWEEP_MARK = "outlook-sweep"
TURN_SHARE = 0.9
_WEEKDAYS = {
    name: number
    for number, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_CLOCK = re.compile(r"^(\d{2}):(\d{2})")


@dataclass(frozen=True)
class OutlookHours:
    """A person's working week and its zone as Outlook has them (None: not given or unusable)."""

    week: WorkWeek | None
    zone: str | None


def iana_zone(name: str | None) -> str | None:
    """Return the IANA name of an Outlook zone (Windows or IANA spelling), or None."""
    if not name:
        return None
    candidate = name if "/" in name else get_global("windows_zone_mapping").get(name)
    if not candidate:
        return None
    try:
        return ZoneInfo(candidate).key
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _clock(raw: Any) -> time | None:
    found = _CLOCK.match(raw) if isinstance(raw, str) else None
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    return time(hour, minute) if hour < 24 and minute < 60 else None


def working_hours_of(hours: dict[str, Any]) -> OutlookHours:
    """Read a ``workingHours`` answer: days, hours and the zone the hours are in."""
    zone_field = hours.get("timeZone")
    zone = iana_zone(zone_field.get("name") if isinstance(zone_field, dict) else None)
    names = hours.get("daysOfWeek")
    days = frozenset(
        _WEEKDAYS[str(name).lower()]
        for name in (names if isinstance(names, list) else [])
        if str(name).lower() in _WEEKDAYS
    )
    start, end = _clock(hours.get("startTime")), _clock(hours.get("endTime"))
    if start is not None and end == time(0, 0) and start > end:
        # Outlook writes a day that runs to midnight as ending at 00:00.
        end = time(23, 59)
    week = None
    if days and start is not None and end is not None:
        with contextlib.suppress(WorkWeekError):
            # Hours that run past midnight do not fit a working week; the person's stay as is.
            week = WorkWeek(days, start, end)
    return OutlookHours(week, zone)


async def read_working_hours(
    graph: GraphClient, tenant_id: str, aad_object_id: str
) -> OutlookHours:
    """Ask Graph for one person's working hours; raise ``GraphError`` when it refuses."""
    # Only the working hours: the rest of the settings holds the out-of-office message.
    path = f"users/{quote(aad_object_id, safe='')}/mailboxSettings/workingHours"
    return working_hours_of(await graph.get(tenant_id, path))


class OutlookWeeks:
    """Keep the working weeks of a platform's people in step with their Outlook working hours."""

    def __init__(
        self,
        services: Services,
        graph: GraphClient,
        *,
        platform: str = Platform.TEAMS.value,
        first_refresh: float = FIRST_REFRESH_SECONDS,
        interval: float = REFRESH_SECONDS,
    ) -> None:
        self.services = services
        self.graph = graph
        self.platform = platform
        self.first_refresh = first_refresh
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def refresh_person(self, tenant_id: str, aad_object_id: str) -> Adopted | None:
        """Take one person's week from Outlook; None when they have no mailbox or are unknown."""
        try:
            hours = await read_working_hours(self.graph, tenant_id, aad_object_id)
        except GraphError as exc:
            if exc.status == 404:
                # No Exchange Online mailbox (or not yet): nothing to take.
                return None
            raise
        async with self.services.db.session() as session:
            workspace = await directory.find_workspace(session, self.platform, tenant_id)
            if workspace is None:
                return None
            person = await directory.find_person(session, workspace.id, aad_object_id)
            if person is None:
                return None
            adopted = await adopt_platform_week(
                session, workspace, person, hours.week, hours.zone, source=OUTLOOK
            )
            await session.commit()
        return adopted

    async def refresh_quietly(self, tenant_id: str, aad_object_id: str) -> None:
        """Refresh one person, logging (not raising) what went wrong."""
        try:
            await self.refresh_person(tenant_id, aad_object_id)
        except GraphError as exc:
            level = logging.INFO if exc.denied else logging.WARNING
            logger.log(level, "teams: outlook working hours not read tenant=%s: %s", tenant_id, exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            logger.warning("teams: outlook working hours not read: %s", type(exc).__name__)

    async def refresh_all(self) -> Counter[str]:
        """Refresh everyone reachable whose week or zone Outlook may set; count the outcomes."""
        counts: Counter[str] = Counter()
        for tenant_id, people in await self._candidates():
            await self._refresh_tenant(tenant_id, people, counts)
        return counts

    async def _candidates(self) -> list[tuple[str, list[str]]]:
        """List each tenant's people whose week or zone was not chosen explicitly."""
        found: dict[str, list[str]] = {}
        async with self.services.db.session() as session:
            rows = await session.execute(
                select(Workspace.external_id, Person.external_id, Person, WorkPattern.source)
                .join(Person, Person.workspace_id == Workspace.id)
                .outerjoin(
                    WorkPattern,
                    and_(WorkPattern.person_id == Person.id, WorkPattern.scope == "person"),
                )
                .where(Workspace.platform == self.platform, Person.reachable.is_(True))
                .order_by(Workspace.id, Person.id)
            )
            for tenant_id, user_id, person, source in rows:
                week_chosen = source is not None and source != OUTLOOK
                zone_chosen = person.timezone is not None and person.timezone_source is None
                if not (week_chosen and zone_chosen):
                    found.setdefault(tenant_id, []).append(user_id)
        return list(found.items())

    async def _refresh_tenant(
        self, tenant_id: str, people: list[str], counts: Counter[str]
    ) -> None:
        for first in range(0, len(people), CONCURRENCY):
            batch = people[first : first + CONCURRENCY]
            results = await asyncio.gather(
                *(self.refresh_person(tenant_id, user) for user in batch), return_exceptions=True
            )
            denied = throttled = None
            for result in results:
                if isinstance(result, GraphError) and result.denied:
                    denied = result
                elif isinstance(result, GraphError) and result.status == 429:
                    throttled = result
                elif isinstance(result, BaseException):
                    counts["failed"] += 1
                    logger.warning("teams: outlook working hours failed: %s", result)
                elif result is None:
                    counts["no mailbox"] += 1
                else:
                    counts["updated" if result.week or result.zone else "unchanged"] += 1
            if denied is not None:
                counts["tenants refused"] += 1
                logger.warning(
                    "teams: tenant=%s refused Outlook working hours (%s); grant the app the "
                    "Microsoft Graph application permission %s to use them",
                    tenant_id,
                    denied,
                    PERMISSION,
                )
                return
            if throttled is not None:
                # Asking on would only lengthen the wait Graph imposes; tomorrow's sweep goes on.
                counts["tenants throttled"] += 1
                logger.warning("teams: tenant=%s throttled Outlook working hours", tenant_id)
                return

    async def sweep(self) -> Counter[str] | None:
        """Refresh everyone if this replica takes the sweep's turn; None when another has it."""
        now = self.services.clock.now()
        until = now + timedelta(seconds=self.interval * TURN_SHARE)
        async with self.services.db.session() as session:
            mine = await marks.claim(session, f"{SWEEP_MARK}:{self.platform}", until, now)
            await session.commit()
        if not mine:
            logger.info("teams: outlook working hours already swept by another replica")
            return None
        return await self.refresh_all()

    def start(self) -> None:
        """Sweep a minute after start-up, then once a day."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sweeping."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        await asyncio.sleep(self.first_refresh)
        while True:
            try:
                counts = await self.sweep()
                if counts is not None:
                    logger.info("teams: outlook working hours refreshed: %s", dict(counts))
            except Exception:
                logger.exception("teams: refreshing outlook working hours failed")
            await asyncio.sleep(self.interval)


__all__ = [
    "PERMISSION",
    "OutlookHours",
    "OutlookWeeks",
    "iana_zone",
    "read_working_hours",
    "working_hours_of",
]
