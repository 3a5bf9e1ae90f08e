"""Speak to Slack: render neutral messages to Block Kit, deliver them, read user profiles.

May import the core, ``bot.edge``, ``bot.settings`` and ``bot.doctor``; never another adapter
(``bot.teams``, ``bot.sandbox``), the dashboard or the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

# Return the Web API client for a workspace: one shared client in single-token mode, the
# installation's own bot token in OAuth mode.
ClientFor = Callable[[str], Awaitable[AsyncWebClient]]

__all__ = ["ClientFor"]
