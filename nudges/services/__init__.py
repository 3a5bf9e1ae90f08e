"""The assembly: the core services an edge (Slack, Teams, the sandbox, the CLI) talks to.

``dispatch`` teaches the kind-agnostic delivery engine every kind (coaching, pulse); ``ticker``
is the APScheduler clock that runs its passes. May import every room but commands, which sits
above it; no room below imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import Catalogue
from nudges.ports import Clock, DashboardLinks, Messenger
from nudges.services.dispatch import Dispatcher
from nudges.store.database import Database


@dataclass
class Services:
    """The core, assembled once by the composition root."""

    db: Database
    clock: Clock
    catalogue: Catalogue
    dispatcher: Dispatcher
    interactions: Interactions
    # Set by the composition root when this process serves the dashboard.
    dashboard_links: DashboardLinks | None = None

    def register_messenger(self, platform: str, messenger: Messenger) -> None:
        """Let the dispatcher deliver on ``platform``."""
        self.dispatcher.messengers[platform] = messenger
