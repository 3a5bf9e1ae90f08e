"""Tunables every platform adapter shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.edge.cooldown import DEFAULT_DM_COOLDOWN
from bot.settings import Settings

DEFAULT_ACK_BUDGET = 2.0
# A Home page opened this recently is kept fresh after a change; others wait for their next open.
DEFAULT_HOME_OPEN_WINDOW = timedelta(hours=1)
# Changes within this many seconds (a burst of clicks) lead to one Home publish, after the burst.
DEFAULT_HOME_DEBOUNCE = 1.0


@dataclass(frozen=True)
class EdgeOptions:
    """How one platform's adapter behaves: its command word, reply budget and pacing."""

    # How people type a command on the platform ("/nudges" on Slack; "" where text is a command).
    command: str = ""
    # Seconds a command or form may take before the platform gets an empty acknowledgement and
    # the answer comes later.
    ack_budget: float = DEFAULT_ACK_BUDGET
    dm_cooldown: timedelta = DEFAULT_DM_COOLDOWN
    home_open_window: timedelta = DEFAULT_HOME_OPEN_WINDOW
    home_debounce: float = DEFAULT_HOME_DEBOUNCE
    # New workspaces start from the service's defaults (DEFAULT_LOCALE and friends).
    workspace_defaults: Mapping[str, str] = field(default_factory=dict)
    # Platform user ids that are admins in every workspace whatever the platform says (Teams
    # takes them from NUDGEBOT_ADMINS; Slack's admins are the workspace's owners and admins).
    admins: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> EdgeOptions:
        """Take the workspace defaults from the settings; ``overrides`` win."""
        values: dict[str, Any] = {"workspace_defaults": workspace_defaults(settings)}
        values.update(overrides)
        return cls(**values)

    @property
    def command_prefix(self) -> str:
        """Return what the core writes before a command's words: "/nudges " + "help"."""
        return f"{self.command} " if self.command else ""


def workspace_defaults(settings: Settings) -> dict[str, str]:
    """Return the defaults a new workspace starts from, as the settings give them."""
    return {
        "default_locale": settings.default_locale,
        "default_timezone": settings.default_timezone,
        "country": settings.default_country,
    }
