"""The edge picks the same way to run as the start-up log says (bot.settings.platform_status)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from bot.settings import Settings, platform_status
from bot.slack.edge import SlackConfigError, build_slack_edge
from nudges.ports import FakeClock
from nudges.store.database import Database
from tests.bot.slack.app_harness import NOW, build_services

KEY = Fernet.generate_key().decode()
UNSET = {
    "slack_app_token": None,
    "slack_bot_token": None,
    "slack_signing_secret": None,
    "slack_client_id": None,
    "slack_client_secret": None,
    "nudgebot_secret_key": None,
}
SOCKET = {"slack_app_token": "xapp-1-A1-1-x", "slack_bot_token": "xoxb-1"}
SINGLE = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s3cret"}
OAUTH = {
    "slack_client_id": "1.2",
    "slack_client_secret": "c",
    "slack_signing_secret": "s3cret",
    "nudgebot_secret_key": KEY,
}

CASES: list[tuple[str, dict[str, Any], str | None, list[str]]] = [
    ("socket", SOCKET, "socket", []),
    ("socket-wins", {**SOCKET, **OAUTH}, "socket", []),
    ("single", SINGLE, "http", ["/slack/events"]),
    ("oauth", OAUTH, "oauth", ["/slack/events", "/slack/install", "/slack/oauth_redirect"]),
    (
        "oauth-wins",
        {**SINGLE, **OAUTH},
        "oauth",
        ["/slack/events", "/slack/install", "/slack/oauth_redirect"],
    ),
    ("oauth-without-key", {**OAUTH, "nudgebot_secret_key": None}, None, []),
    ("token-without-secret", {"slack_bot_token": "xoxb-1"}, None, []),
    ("nothing", {}, None, []),
]


@pytest.mark.parametrize(
    ("values", "mode", "routes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_the_mode_follows_the_settings(
    db: Database, values: dict[str, Any], mode: str | None, routes: list[str]
) -> None:
    settings = Settings(_env_file=None, **{**UNSET, **values})
    (slack_status,) = [s for s in platform_status(settings) if s.name == "slack"]
    services = build_services(db, FakeClock(NOW))
    if mode is None:
        assert not slack_status.enabled
        with pytest.raises(SlackConfigError):
            build_slack_edge(settings, services)
        assert "slack" not in services.dispatcher.messengers
        return
    assert slack_status.enabled
    edge = build_slack_edge(settings, services)
    assert edge.mode == mode
    assert services.dispatcher.messengers["slack"] is edge.messenger
    app = web.Application()
    edge.add_routes(app)
    assert sorted({r.resource.canonical for r in app.router.routes() if r.resource}) == routes
