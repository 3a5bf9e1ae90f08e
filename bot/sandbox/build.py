"""Decide whether this process serves the sandbox, and build its edge and clock."""

from __future__ import annotations

import logging

from bot.sandbox import PLATFORM
from bot.sandbox.clock import SandboxClock
from bot.sandbox.edge import SandboxEdge
from bot.settings import PlatformStatus, Settings, platform_status
from nudges.services import Services

logger = logging.getLogger(__name__)

# Messages into the page's inbox need no pacing against a platform's rate limit.
SANDBOX_SEND_RATE = 50.0


def _status(settings: Settings) -> tuple[PlatformStatus, bool]:
    statuses = platform_status(settings)
    sandbox = next(s for s in statuses if s.name == PLATFORM)
    alone = not any(s.enabled for s in statuses if s.name != PLATFORM)
    return sandbox, alone


def sandbox_clock(settings: Settings) -> SandboxClock | None:
    """Return the process clock when the sandbox is on: movable only if it runs alone."""
    sandbox, alone = _status(settings)
    if not sandbox.enabled:
        return None
    return SandboxClock(movable=alone)


def build(settings: Settings, services: Services) -> SandboxEdge | None:
    """Build the sandbox edge when the settings switch it on; it registers its messenger."""
    sandbox, _alone = _status(settings)
    if not sandbox.enabled:
        if sandbox.reason.startswith("HOST="):
            logger.error("sandbox: not served: %s", sandbox.reason)
        return None
    clock = services.clock
    if not isinstance(clock, SandboxClock):
        # Built beside a real clock (a test, another composition): it keeps real time.
        clock = SandboxClock(movable=False)
    return SandboxEdge(services, clock, locale=settings.default_locale)
