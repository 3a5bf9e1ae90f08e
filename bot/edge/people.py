"""Learn who is asking from their platform profile and file them in the directory."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.edge.profile import Profile, ProfileSource
from nudges.domain import DEFAULT_LOCALE
from nudges.people import directory
from nudges.services import Services
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

# Past this many remembered people, the least recently seen are forgotten.
PEOPLE_MEMORY = 10_000
V = TypeVar("V")


@dataclass(frozen=True)
class Known:
    """What the bot knows about the person behind a request."""

    locale: str
    platform_admin: bool


class People:
    """File the people who talk to the bot on one platform, and remember what was filed."""

    def __init__(
        self,
        services: Services,
        platform: str,
        profiles: ProfileSource,
        *,
        workspace_defaults: Mapping[str, str] | None = None,
        admins: frozenset[str] = frozenset(),
        memory: int = PEOPLE_MEMORY,
    ) -> None:
        self.services = services
        self.platform = platform
        self.profiles = profiles
        # New workspaces start from the service's defaults (DEFAULT_LOCALE and friends).
        self.workspace_defaults = dict(workspace_defaults or {})
        # Admins in every workspace whatever the platform says (NUDGEBOT_ADMINS).
        self.admins = admins
        self._memory = memory
        # The profile last stored per person, so an unchanged profile is not written again.
        self._filed: OrderedDict[tuple[str, str], Profile | None] = OrderedDict()
        self._known: OrderedDict[tuple[str, str], Known] = OrderedDict()

    async def know(self, workspace_id: str, user_id: str) -> Known:
        """Learn the person's profile (zone, language, admin rights) and store what changed."""
        profile = await self.profile(workspace_id, user_id)
        async with self.services.db.session() as session:
            workspace, person = await self.ensure(session, workspace_id, user_id, profile)
            locale = directory.locale_of(workspace, person)
            await session.commit()
        key = (workspace_id, user_id)
        admin = user_id in self.admins or bool(profile and profile.is_platform_admin)
        known = Known(locale=locale, platform_admin=admin)
        self._remember(self._filed, key, profile)
        self._remember(self._known, key, known)
        return known

    async def file(self, workspace_id: str, user_id: str) -> None:
        """Make sure the person is filed with their current profile; free when nothing changed."""
        key = (workspace_id, user_id)
        if key in self._filed:
            profile = await self.profile(workspace_id, user_id)
            if self._filed.get(key) == profile:
                self._filed.move_to_end(key)
                return
        await self.know(workspace_id, user_id)

    async def stored_locale(self, workspace_id: str, user_id: str) -> str:
        """Return the person's language without asking the platform, even with the store down."""
        known = self._known.get((workspace_id, user_id))
        if known is not None:
            return known.locale
        fallback = str(self.workspace_defaults.get("default_locale", DEFAULT_LOCALE))
        try:
            async with self.services.db.session() as session:
                workspace = await directory.find_workspace(session, self.platform, workspace_id)
                if workspace is None:
                    return fallback
                person = await directory.find_person(session, workspace.id, user_id)
                return directory.locale_of(workspace, person)
        except Exception as exc:
            logger.warning("reading the language of a %s user failed: %s", self.platform, exc)
            return fallback

    async def profile(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return the platform profile, or None when the platform cannot say now."""
        try:
            return await self.profiles.get(workspace_id, user_id)
        except Exception as exc:
            # Without a profile the person is treated as a non-admin in the workspace's language.
            logger.warning("%s profile of user=%s unavailable: %s", self.platform, user_id, exc)
            return None

    async def ensure_workspace(self, session: AsyncSession, workspace_id: str) -> Workspace:
        """Return the workspace, creating it with the service's defaults when new."""
        return await directory.ensure_workspace(
            session, self.platform, workspace_id, defaults=dict(self.workspace_defaults)
        )

    async def ensure(
        self,
        session: AsyncSession,
        workspace_id: str,
        user_id: str,
        profile: Profile | None = None,
    ) -> tuple[Workspace, Person]:
        """Return the workspace and person, creating them (and storing ``profile``) as needed."""
        if not workspace_id or not user_id:
            # E.g. an org-wide (Enterprise Grid) request names no workspace: nobody to file.
            raise ValueError(f"a {self.platform} request without a workspace or user id")
        for attempt in (1, 2):
            try:
                workspace = await self.ensure_workspace(session, workspace_id)
                key = (workspace_id, user_id)
                if profile is not None and self._filed.get(key) != profile:
                    person = await directory.record_profile(
                        session,
                        workspace,
                        user_id,
                        timezone=profile.timezone,
                        locale=profile.locale,
                        deleted=profile.deleted,
                        display_name=profile.display_name,
                    )
                    await session.flush()
                else:
                    person = await directory.ensure_person(session, workspace, user_id)
                return workspace, person
            except IntegrityError:
                # Two first requests from one workspace raced to create it; the other won.
                await session.rollback()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _remember(
        self, memory: OrderedDict[tuple[str, str], V], key: tuple[str, str], value: V
    ) -> None:
        memory[key] = value
        memory.move_to_end(key)
        while len(memory) > self._memory:
            memory.popitem(last=False)
