"""Answer questions about a workspace's people: zones, languages, cadences, managers, reports."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DEFAULT_TIMEZONE, Scope
from nudges.i18n import resolve_locale
from nudges.policy import WorkspacePolicy
from nudges.scheduling.cadences import NUDGE, PULSE, CadenceBook, spec_of
from nudges.scheduling.calendar import (
    Availability,
    CadenceSpec,
)
from nudges.scheduling.workweek import WorkWeek
from nudges.store import read_once
from nudges.store.blackouts import BlackoutDate
from nudges.store.cadence import CadenceRule
from nudges.store.org import Person, ReportingLine, Workspace

__all__ = ["NUDGE", "PULSE", "spec_of"]

DEACTIVATED = "deactivated on the platform"


def zone_of(workspace: Workspace, person: Person | None = None) -> ZoneInfo:
    """Return the person's zone, else the workspace default, else the product default."""
    for name in (person.timezone if person else None, workspace.default_timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(DEFAULT_TIMEZONE)


def locale_of(workspace: Workspace, person: Person | None = None) -> str:
    """Return the person's language, else the workspace default."""
    return resolve_locale(person.locale if person else None, workspace.default_locale)


def policy_of(workspace: Workspace) -> WorkspacePolicy:
    """Return the workspace's policy."""
    return WorkspacePolicy.from_settings(workspace.settings)


def local_today(workspace: Workspace, person: Person, now: datetime) -> date:
    """Return the person's calendar date at ``now``."""
    return now.astimezone(zone_of(workspace, person)).date()


async def blackout_days(session: AsyncSession, workspace_id: int) -> frozenset[date]:
    """Return the workspace's blackout dates."""

    async def load() -> frozenset[date]:
        rows = await session.scalars(
            select(BlackoutDate.day).where(BlackoutDate.workspace_id == workspace_id)
        )
        return frozenset(rows.all())

    return await read_once.remembered(session, ("blackout_days", workspace_id), load)


def default_week(workspace: Workspace) -> WorkWeek:
    """Return the week nobody chose: Monday to Friday in the workspace's working hours."""
    policy = policy_of(workspace)
    return WorkWeek(frozenset(range(5)), policy.work_start, policy.work_end)


def availability(
    workspace: Workspace,
    person: Person,
    blackouts: frozenset[date],
    *,
    week: WorkWeek | None = None,
    time_off: frozenset[date] = frozenset(),
) -> Availability:
    """Say when ``person`` may receive messages, in ``week`` (else the workspace's hours)."""
    week = week or default_week(workspace)
    return Availability(
        timezone=zone_of(workspace, person),
        country=person.country or workspace.country or None,
        blackout=blackouts,
        work_start=week.start,
        work_end=week.end,
        weekend=week.weekend,
        time_off=time_off,
    )


def scope_key(scope: Scope, *, team: str | None = None, person_id: int | None = None) -> str:
    """Build the unique key of a cadence rule's scope."""
    if scope is Scope.PERSON:
        return f"person:{person_id}"
    if scope is Scope.TEAM:
        return f"team:{team}"
    return "workspace"


async def teams_of(session: AsyncSession, person: Person) -> list[str]:
    """Return the team names a person leads or belongs to, leading first, sorted."""
    led = await session.scalars(
        select(ReportingLine.team)
        .where(ReportingLine.manager_id == person.id, ReportingLine.team != "")
        .distinct()
    )
    member = await session.scalars(
        select(ReportingLine.team)
        .where(ReportingLine.member_id == person.id, ReportingLine.team != "")
        .distinct()
    )
    led_list = sorted(set(led.all()))
    return led_list + sorted(set(member.all()) - set(led_list))


async def effective_cadence(
    session: AsyncSession, workspace: Workspace, person: Person, purpose: str = NUDGE
) -> tuple[CadenceSpec, str]:
    """Return the most specific cadence (person > team > workspace > default) and its source."""
    book = await CadenceBook.load(session, workspace.id, purpose)
    return book.spec_for(person.id)


async def managers(session: AsyncSession, workspace_id: int) -> Sequence[Person]:
    """Return who gets nudges: people with reports, a cadence of their own, or a programme."""
    with_reports = select(ReportingLine.manager_id).where(
        ReportingLine.workspace_id == workspace_id
    )
    with_rule = select(CadenceRule.person_id).where(
        CadenceRule.workspace_id == workspace_id,
        CadenceRule.purpose == NUDGE,
        CadenceRule.person_id.is_not(None),
    )
    rows = await session.scalars(
        select(Person)
        .where(
            Person.workspace_id == workspace_id,
            or_(
                Person.id.in_(with_reports),
                Person.id.in_(with_rule),
                Person.programme.is_not(None),
            ),
        )
        .order_by(Person.id)
    )
    return rows.all()


async def reports_of(session: AsyncSession, manager: Person) -> list[Person]:
    """Return the people who report to ``manager``."""
    rows = await session.scalars(
        select(Person)
        .join(ReportingLine, ReportingLine.member_id == Person.id)
        .where(ReportingLine.manager_id == manager.id)
        .order_by(Person.id)
    )
    return list(rows.all())


async def find_person(session: AsyncSession, workspace_id: int, external_id: str) -> Person | None:
    """Return the person with this platform id in the workspace, if known."""
    found: Person | None = await session.scalar(
        select(Person).where(Person.workspace_id == workspace_id, Person.external_id == external_id)
    )
    return found


async def ensure_person(session: AsyncSession, workspace: Workspace, external_id: str) -> Person:
    """Return the person with this platform id, creating them when new."""
    person = await find_person(session, workspace.id, external_id)
    if person is None:
        person = Person(workspace_id=workspace.id, external_id=external_id)
        session.add(person)
        await session.flush()
    return person


async def find_workspace(
    session: AsyncSession, platform: str, external_id: str
) -> Workspace | None:
    """Return the workspace with this platform id, if known."""
    found: Workspace | None = await session.scalar(
        select(Workspace).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    return found


class WorkspaceLookupError(LookupError):
    """Raised when a workspace id names no workspace, or one on several platforms."""


async def workspace_by_external_id(
    session: AsyncSession, external_id: str, platform: str | None = None
) -> Workspace:
    """Return the workspace with this platform id, across platforms unless one is given."""
    query = select(Workspace).where(Workspace.external_id == external_id)
    if platform:
        query = query.where(Workspace.platform == platform)
    found = (await session.scalars(query)).all()
    if not found:
        raise WorkspaceLookupError(f"no workspace {external_id!r} (import the org chart first)")
    if len(found) > 1:
        raise WorkspaceLookupError(
            f"workspace {external_id!r} exists on several platforms: add --platform"
        )
    return found[0]


async def ensure_workspace(
    session: AsyncSession,
    platform: str,
    external_id: str,
    *,
    defaults: dict[str, str] | None = None,
) -> Workspace:
    """Return the workspace with this platform id, creating it with ``defaults`` when new."""
    workspace = await find_workspace(session, platform, external_id)
    if workspace is None:
        workspace = Workspace(platform=platform, external_id=external_id, **(defaults or {}))
        session.add(workspace)
        await session.flush()
    return workspace


DISPLAY_NAME_MAX = 200


def workspace_label(workspace: Workspace) -> str:
    """Say which workspace, for people: its name (else its platform id) and its platform."""
    return f"{workspace.name or workspace.external_id} ({workspace.platform})"


async def record_profile(
    session: AsyncSession,
    workspace: Workspace,
    external_id: str,
    *,
    timezone: str | None,
    locale: str | None,
    deleted: bool = False,
    display_name: str | None = None,
) -> Person:
    """Store what the platform says about a person: name, zone, language, whether they exist."""
    person = await ensure_person(session, workspace, external_id)
    # The platform's name always wins: people rename themselves, and the bot only shows it.
    name = " ".join((display_name or "").split())[:DISPLAY_NAME_MAX]
    if name and person.display_name != name:
        person.display_name = name
    # Like the language, the platform's zone only fills a gap: an admin's `timezone` choice wins.
    if timezone and person.timezone is None:
        try:
            ZoneInfo(timezone)
            person.timezone = timezone
            person.timezone_source = "platform"
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    lang = resolve_locale(locale, None) if locale else None
    if lang and person.locale is None:
        # An explicit `language` choice wins over the platform's locale, so only fill a gap.
        person.locale = lang
    if deleted and person.reachable:
        person.reachable = False
        person.unreachable_reason = DEACTIVATED
    elif not deleted and not person.reachable and person.unreachable_reason == DEACTIVATED:
        # Reactivated on the platform: they get messages again.
        person.reachable = True
        person.unreachable_reason = None
    return person
