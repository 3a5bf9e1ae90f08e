"""Socket Mode: with SLACK_APP_TOKEN the edge dials out to Slack instead of serving a URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from bot.settings import Settings
from bot.slack.edge import SlackConfigError, SlackEdge, build_slack_edge
from nudges.ports import FakeClock
from nudges.store.database import Database
from tests.bot.slack.app_harness import (
    ADMIN,
    BOT_TOKEN,
    MEMBER,
    NOW,
    build_services,
    clear_slack_tables,
)
from tests.fakes.slack_api import APP_ID, TEAM_ID, FakeSlackApi

APP_TOKEN = "xapp-1-A0NUDGEAPP-1234-abcdef"


@asynccontextmanager
async def socket_edge(db: Database) -> AsyncIterator[tuple[SlackEdge, FakeSlackApi]]:
    await clear_slack_tables(db)
    async with FakeSlackApi(users={ADMIN: {"is_admin": True}, MEMBER: {}}) as api:
        settings = Settings(
            _env_file=None,
            slack_app_token=APP_TOKEN,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=None,
            slack_client_id=None,
            slack_client_secret=None,
            slack_api_url=api.base_url,
        )
        edge = build_slack_edge(settings, build_services(db, FakeClock(NOW)))
        try:
            yield edge, api
        finally:
            await edge.stop()


def _command(text: str, user: str) -> dict[str, Any]:
    return {
        "token": "xxx",
        "team_id": TEAM_ID,
        "channel_id": "D0SOCKET1",
        "channel_name": "directmessage",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/nudges",
        "text": text,
        "api_app_id": APP_ID,
        "response_url": "https://hooks.slack.com/commands/T0NUDGE01/1/x",
        "trigger_id": "1.2.3",
    }


async def test_socket_mode_mounts_no_route_and_answers_over_the_socket(db: Database) -> None:
    async with socket_edge(db) as (edge, api):
        assert edge.mode == "socket"
        web_app = web.Application()
        edge.add_routes(web_app)
        assert [r.resource.canonical for r in web_app.router.routes() if r.resource] == []

        await edge.start()
        await api.wait_for_socket()
        assert [c.token for c in api.calls_to("apps.connections.open")][-1] == APP_TOKEN

        ack = await api.socket_send("slash_commands", _command("help", MEMBER))
        assert ack["payload"]["response_type"] == "ephemeral"
        assert "/nudges" in ack["payload"]["text"]

        event = {
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": "Ev0SOCKET1",
            "event_time": 1_700_000_000,
            "event": {"type": "app_home_opened", "user": MEMBER, "channel": "D1", "tab": "home"},
        }
        await api.socket_send("events_api", event)
        await edge.drain()
        assert len(api.calls_to("views.publish")) == 1
        # A redelivery over the socket carries the same event_id and changes nothing.
        await api.socket_send("events_api", event, retry_attempt=1)
        await edge.drain()
        assert len(api.calls_to("views.publish")) == 1


async def test_a_refused_app_token_stops_start_up_with_a_clear_error(db: Database) -> None:
    async with socket_edge(db) as (edge, api):
        api.fail_next("apps.connections.open", "invalid_auth", status=200)
        with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
            await edge.start()
