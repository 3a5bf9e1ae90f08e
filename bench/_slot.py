"""The realistic weekly slot of bench/dispatch.py: an org whose admins set a cadence just before.

Nothing here reaches into the service: the org is stored as an import would store it, each
workspace's admin sets the cadence with a signed `/nudges cadence` command (the real command
path), and what happened is read afterwards from the fake Slack and the store.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import func, select

from nudges.store.cadence import CadenceRule
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from tests.bot.slack.app_harness import form_body, signed_headers
from tests.fault.harness import SECRET, team_id

# Monday is 0: the slot must fall on one of these in the workspaces' zone.
WEEKDAYS = range(5)


def admin_of(workspace: int) -> str:
    """Return the user id of a workspace's admin: its first manager (see build_org)."""
    return f"UM{workspace:03d}{0:06d}"


def managers_of(workspace: int, managers: int) -> list[str]:
    """Return the user ids of a workspace's managers, as build_org stores them."""
    return [f"UM{workspace:03d}{m:06d}" for m in range(managers)]


def weekday_zone(slot: datetime) -> str:
    """Return a fixed-offset zone where ``slot`` falls on a weekday, in office hours if it can.

    A `weekdays` cadence never fires on a Saturday or Sunday, so on a UTC weekend the org
    lives where it is already Monday (or still Friday). UTC and small offsets come first.
    """
    # The Etc zones count the other way round: Etc/GMT-14 is fourteen hours ahead of UTC.
    zones = [
        "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
        for hours in sorted(range(-12, 15), key=lambda hours: (abs(hours), -hours))
    ]
    local = {name: slot.astimezone(ZoneInfo(name)) for name in zones}
    weekday = [name for name in zones if local[name].weekday() in WEEKDAYS]
    office = [name for name in weekday if 9 <= local[name].hour < 17]
    if office or weekday:
        return (office or weekday)[0]
    raise SystemExit(
        f"{slot:%A %H:%M} UTC is a weekend everywhere, so no `weekdays` cadence can fire; "
        "run the realistic mode between Sunday 10:00 and Saturday 12:00 UTC"
    )


def next_slot(lead: float, now: datetime | None = None) -> datetime:
    """Return the first whole minute at least ``lead`` seconds (plus a margin) from now."""
    now = now or datetime.now(UTC)
    earliest = now + timedelta(seconds=lead + 3)
    minute = earliest.replace(second=0, microsecond=0)
    return minute if minute == earliest else minute + timedelta(minutes=1)


async def slash_command(base: str, api_root: str, workspace: int, text: str) -> tuple[int, str]:
    """Send ``/nudges <text>`` signed as Slack does, from the workspace's admin."""
    team = team_id(workspace)
    fields = {
        "token": "x",
        "team_id": team,
        "team_domain": f"bench{workspace}",
        "user_id": admin_of(workspace),
        "user_name": "admin",
        "channel_id": f"D0ADM{workspace:04d}",
        "channel_name": "directmessage",
        "command": "/nudges",
        "text": text,
        "api_app_id": "A0FAULT",
        "response_url": f"{api_root}/hooks/commands/{team}/bench",
        "trigger_id": "1.2.3",
    }
    body = form_body(fields)
    headers = {
        **signed_headers(body, secret=SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/slack/events", data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def set_cadences(
    base: str, api_root: str, workspaces: int, zone: str, slot: datetime
) -> list[tuple[int, str]]:
    """Have every workspace's admin set `cadence workspace weekdays HH:MM` for the slot."""
    at = slot.astimezone(ZoneInfo(zone))
    text = f"cadence workspace weekdays {at:%H:%M}"
    return list(
        await asyncio.gather(*(slash_command(base, api_root, w, text) for w in range(workspaces)))
    )


async def cadences_stored(url: str, at: str) -> int:
    """Count the workspaces whose workspace-wide nudge cadence says ``at``."""
    db = Database(url)
    try:
        async with db.session() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(CadenceRule)
                .where(
                    CadenceRule.purpose == "nudge",
                    CadenceRule.scope_key == "workspace",
                    CadenceRule.frequency == "weekdays",
                    CadenceRule.at_time == at,
                    CadenceRule.enabled.is_(True),
                )
            )
            return int(found or 0)
    finally:
        await db.dispose()


@dataclass(frozen=True)
class Planning:
    """When the store got the slot's deliveries, relative to the slot, per workspace."""

    rows: int
    before_slot: int
    # Per workspace (by team id): seconds from the slot to its first and last row stored.
    spans: dict[str, tuple[float, float]]

    @property
    def done_after(self) -> float:
        """Seconds from the slot until the last row was stored (0 when all were ahead)."""
        return max((max(0.0, last) for _first, last in self.spans.values()), default=math.nan)


async def planning(url: str, slot: datetime) -> Planning:
    """Read when the deliveries that fell due at the slot were stored (their created_at)."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(
                        Workspace.external_id,
                        func.count(),
                        func.min(Delivery.created_at),
                        func.max(Delivery.created_at),
                    )
                    .join(Workspace, Workspace.id == Delivery.workspace_id)
                    .where(Delivery.scheduled_at <= slot + timedelta(seconds=1))
                    .group_by(Workspace.external_id)
                )
            ).all()
            ahead = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.scheduled_at <= slot + timedelta(seconds=1),
                    Delivery.created_at < slot,
                )
            )
    finally:
        await db.dispose()
    spans = {
        str(team): ((first - slot).total_seconds(), (last - slot).total_seconds())
        for team, _n, first, last in rows
    }
    return Planning(sum(int(n) for _t, n, _f, _l in rows), int(ahead or 0), spans)


async def due_statuses(url: str, slot: datetime) -> dict[str, int]:
    """Count by status the deliveries that fell due at or before the slot (not later ones)."""
    db = Database(url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.scheduled_at <= slot + timedelta(seconds=1))
                .group_by(Delivery.status)
            )
            return {str(status): int(n) for status, n in rows.all()}
    finally:
        await db.dispose()


def spread(values: Sequence[float]) -> str:
    """Render the smallest, median and largest of ``values``."""
    if not values:
        return "–"
    ordered = sorted(values)
    middle = ordered[len(ordered) // 2]
    return f"{ordered[0]:.1f} / {middle:.1f} / {ordered[-1]:.1f} s"
