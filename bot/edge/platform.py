"""The small protocol every platform edge offers the composition root."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from bot.settings import Settings
from nudges.services import Services


class EdgeConfigError(ValueError):
    """Raised when the settings switch a platform on but do not describe a way to run it."""


class PlatformEdge(Protocol):
    """One platform, built from the settings, mounted in the shared web app and started."""

    @property
    def name(self) -> str:
        """Name the platform, as logs and ``status`` show it: slack, teams, sandbox."""
        ...

    def status(self) -> str:
        """Say in a few words how it runs (e.g. "http mode"), for the start-up log."""
        ...

    def add_routes(self, app: web.Application) -> None:
        """Mount the platform's routes (none when it needs no inbound HTTP)."""
        ...

    async def start(self) -> None:
        """Connect whatever must be connected; raise EdgeConfigError when it cannot be."""
        ...

    async def stop(self) -> None:
        """Disconnect, then let acknowledged work finish for a few seconds at most."""
        ...

    async def drain(self) -> None:
        """Wait until every acknowledged request has been handled (for tests)."""
        ...


# Build a platform's edge from the settings, registering its messenger with the core; None when
# the settings leave the platform off. Each adapter package offers one (e.g. bot.slack.edge.build).
EdgeBuilder = Callable[[Settings, Services], PlatformEdge | None]
