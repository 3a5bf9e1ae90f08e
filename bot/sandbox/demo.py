"""Seed the sandbox's demo organisation: an admin, two managers and eight team members.

Lars Hoekstra works Monday to Thursday; Sofie Claes works from Belgium, with its holidays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select, update

from bot.sandbox import PLATFORM
from nudges.coaching.interactions import Actor
from nudges.commands.service import CommandService
from nudges.content.catalogue import Catalogue
from nudges.domain import Dimension
from nudges.people import directory
from nudges.people.org_file import OrgRow
from nudges.people.org_import import apply_org
from nudges.services import Services
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

WORKSPACE = "SANDBOX"
WORKSPACE_NAME = "Nudgebot sandbox"
Role = Literal["admin", "manager", "member"]


@dataclass(frozen=True)
class DemoPerson:
    """A made-up person of the demo organisation, with the platform id the store knows."""

    id: str
    name: str
    role: Role
    team: str = ""
    manager: str = ""


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("sb-admin", "Noor Vermeulen", "admin"),
    DemoPerson("sb-sam", "Sam Okafor", "manager", "Harbour"),
    DemoPerson("sb-ilse", "Ilse Brandsma", "manager", "Lighthouse"),
    DemoPerson("sb-lars", "Lars Hoekstra", "member", "Harbour", "sb-sam"),
    DemoPerson("sb-fenna", "Fenna Dijkman", "member", "Harbour", "sb-sam"),
    DemoPerson("sb-omar", "Omar Benali", "member", "Harbour", "sb-sam"),
    DemoPerson("sb-julia", "Julia Kowalczyk", "member", "Harbour", "sb-sam"),
    DemoPerson("sb-daan", "Daan Mulder", "member", "Lighthouse", "sb-ilse"),
    DemoPerson("sb-mei", "Mei Tanaka", "member", "Lighthouse", "sb-ilse"),
    DemoPerson("sb-tobias", "Tobias Wagner", "member", "Lighthouse", "sb-ilse"),
    DemoPerson("sb-sofie", "Sofie Claes", "member", "Lighthouse", "sb-ilse"),
)
BY_ID = {p.id: p for p in PEOPLE}
ADMIN = PEOPLE[0].id
# Teams of four would never see a result at the default threshold of five. Lars works
# Monday to Thursday and Sofie in Belgium, so moving the clock shows days off and holidays.
DEMO_SETUP = (
    "pulse threshold 3",
    "workweek <@sb-lars> mon-thu 09:00-17:00",
    "timezone <@sb-sofie> Europe/Brussels",
    "country <@sb-sofie> BE",
)
# The demo's pulse asks about three themes only, so a few weeks of past give each a trend.
DEMO_THEMES = frozenset({Dimension.HEARD, Dimension.CLARITY, Dimension.WORKLOAD})


def setup_commands(catalogue: Catalogue) -> tuple[str, ...]:
    """Return the admin commands that set the demo up: threshold, themes, days off, country."""
    retire = tuple(
        f"pulse retire {q.key}" for q in catalogue.questions if q.dimension not in DEMO_THEMES
    )
    return DEMO_SETUP + retire


def name_of(external_id: str) -> str:
    """Name a demo person, or fall back to the plain id for anyone else."""
    person = BY_ID.get(external_id)
    return person.name if person else external_id


async def sandbox_workspace(services: Services) -> Workspace | None:
    """Return the sandbox workspace, if it was seeded."""
    async with services.db.session() as session:
        return await directory.find_workspace(session, PLATFORM, WORKSPACE)


async def seed(services: Services, *, locale: str = "en", replace: bool = False) -> bool:
    """Create the demo organisation unless it exists; with ``replace``, start it afresh.

    Returns whether anything was written. Only the sandbox workspace is touched: its rows go
    with it (the store deletes them in cascade), other workspaces are left alone.
    """
    async with services.db.session() as session:
        existing = await directory.find_workspace(session, PLATFORM, WORKSPACE)
        if existing is not None and not replace:
            return False
        if existing is not None:
            await session.execute(delete(Workspace).where(Workspace.id == existing.id))
            await session.flush()
        rows = [
            OrgRow(i, PLATFORM, WORKSPACE, p.manager, p.id, p.team)
            for i, p in enumerate(PEOPLE, start=1)
            if p.role == "member"
        ]
        await apply_org(session, rows, dry_run=False)
        workspace = await session.scalar(
            select(Workspace).where(
                Workspace.platform == PLATFORM, Workspace.external_id == WORKSPACE
            )
        )
        assert workspace is not None
        workspace.name = WORKSPACE_NAME
        workspace.default_locale = locale
        # The demo exists from the sandbox clock's now on, so nothing before it is owed.
        now = services.clock.now()
        workspace.created_at = now
        for person in PEOPLE:
            found = await directory.ensure_person(session, workspace, person.id)
            found.is_admin = person.role == "admin"
            found.created_at = now
        await session.commit()
    commands = CommandService(services.dispatcher)
    for text in setup_commands(services.catalogue):
        # The same command an admin would type, so the demo is set up the way a real one is.
        reply = await commands.run(Actor(PLATFORM, WORKSPACE, ADMIN), text, prefix="/nudges ")
        if not reply.ok:
            logger.warning("sandbox set-up command %r failed", text)
    logger.info("sandbox: demo organisation ready (%d people)", len(PEOPLE))
    return True


async def set_language(services: Services, locale: str) -> None:
    """Make ``locale`` the demo's language: the workspace default, for everyone who set none."""
    async with services.db.session() as session:
        workspace = await directory.find_workspace(session, PLATFORM, WORKSPACE)
        if workspace is None:
            return
        workspace.default_locale = locale
        # Someone who typed `me language` would otherwise keep theirs; the switch is for all.
        await session.execute(
            update(Person).where(Person.workspace_id == workspace.id).values(locale=None)
        )
        await session.commit()
