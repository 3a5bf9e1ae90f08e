"""Assemble the Teams edge from the settings: the front door at /api/messages and the handler.

Teams is on with ``MICROSOFT_APP_ID`` (every request then needs a valid Bot Framework token), or
with ``TEAMS_ENABLED=true`` and no app id: local use with the Bot Framework Emulator, without
authentication, which the start-up log warns about.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from bot.edge import EdgeCore, EdgeOptions
from bot.settings import Settings
from bot.teams.adapter import MESSAGES_PATH, AuthConfig, TeamsFrontDoor, auth_config
from bot.teams.downloads import Downloads
from bot.teams.graph import GraphClient, graph_client
from bot.teams.handler import ActivityProfiles, TeamsHandler
from bot.teams.in_doubt import graph_from_settings
from bot.teams.messenger import TeamsMessenger
from bot.teams.references import ConversationStore
from bot.teams.workhours import OutlookWeeks
from nudges.domain import Platform
from nudges.services import Services

logger = logging.getLogger(__name__)

# How long shutdown waits for commands and clicks already being handled.
SHUTDOWN_GRACE_SECONDS = 10.0
# Expired downloads are swept this often (and whenever a new file is kept).
SWEEP_SECONDS = 60.0


class TeamsEdge:
    """The Teams platform, mounted in the shared aiohttp app."""

    name = "teams"

    def __init__(
        self,
        door: TeamsFrontDoor,
        core: EdgeCore,
        store: ConversationStore,
        downloads: Downloads,
        outlook: OutlookWeeks | None = None,
    ) -> None:
        self.door = door
        self.core = core
        self.store = store
        self.downloads = downloads
        self.outlook = outlook
        self._sweeper: asyncio.Task[None] | None = None

    def status(self) -> str:
        """Say how Teams is reached."""
        auth = "authenticated" if self.door.auth_required else "WITHOUT authentication"
        return f"{MESSAGES_PATH}, {auth}"

    def add_routes(self, app: web.Application) -> None:
        """Mount ``POST /api/messages`` and the short-lived downloads of data exports."""
        self.door.add_routes(app)
        self.downloads.add_routes(app)

    async def start(self) -> None:
        """Sweep expired downloads now and then and read Outlook hours daily (Teams calls in)."""
        self._sweeper = asyncio.create_task(self._sweep_downloads())
        if self.outlook is not None:
            self.outlook.start()

    async def stop(self) -> None:
        """Let commands and clicks being handled finish, for a few seconds at most."""
        if self.outlook is not None:
            await self.outlook.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.core.drain(SHUTDOWN_GRACE_SECONDS)

    async def _sweep_downloads(self) -> None:
        while True:
            try:
                await self.downloads.sweep()
            except Exception as exc:  # a failed sweep is tried again at the next one
                logger.warning("sweeping expired teams downloads failed: %s", type(exc).__name__)
            await asyncio.sleep(SWEEP_SECONDS)

    async def drain(self) -> None:
        """Wait until every request being handled is done."""
        await self.core.drain()


def build_teams_edge(
    settings: Settings,
    services: Services,
    *,
    config: AuthConfig | None = None,
    options: EdgeOptions | None = None,
) -> TeamsEdge:
    """Build the Teams edge for ``settings`` (``config`` overrides botbuilder's, for tests)."""
    profiles = ActivityProfiles()
    core = EdgeCore(
        services,
        Platform.TEAMS,
        profiles=profiles,
        options=options or EdgeOptions.from_settings(settings, admins=settings.admin_ids),
    )
    store = ConversationStore(services.db.engine)
    graph = graph_client(settings)
    outlook = OutlookWeeks(services, graph) if graph is not None else None
    handler = TeamsHandler(core, store, profiles, outlook=outlook)
    door = TeamsFrontDoor(config or auth_config(settings), handler)
    downloads = Downloads(settings.public_url, services.db)
    _register_messenger(settings, services, door, store, downloads, graph)
    if not door.auth_required:
        logger.warning(
            "teams: /api/messages accepts requests WITHOUT authentication (TEAMS_ENABLED=true and "
            "no MICROSOFT_APP_ID); use this only with the local Bot Framework Emulator"
        )
    return TeamsEdge(door, core, store, downloads, outlook)


def _register_messenger(
    settings: Settings,
    services: Services,
    door: TeamsFrontDoor,
    store: ConversationStore,
    downloads: Downloads,
    graph: GraphClient | None,
) -> None:
    messenger = TeamsMessenger(
        door.adapter,
        store,
        app_id=settings.microsoft_app_id,
        graph=graph_from_settings(settings, graph),
        downloads=downloads,
    )
    services.register_messenger(Platform.TEAMS, messenger)


def build(settings: Settings, services: Services) -> TeamsEdge | None:
    """Build the Teams edge when the settings turn Teams on; None when they leave it off."""
    if not settings.teams_on:
        return None
    return build_teams_edge(settings, services)


__all__ = ["TeamsEdge", "build", "build_teams_edge"]
