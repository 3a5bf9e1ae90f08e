"""Run the real Slack edge (Bolt inside our aiohttp app) against the fake Web API, and sign
requests the way Slack does, so tests read like a conversation with Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text

from bot.app import build_dashboard
from bot.edge import EdgeOptions
from bot.server import create_web_app
from bot.settings import Settings
from bot.slack.app import COMMAND
from bot.slack.edge import SlackEdge, build_slack_edge
from bot.slack.oauth_tables import slack_metadata
from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import default_catalogue
from nudges.ports import FakeClock
from nudges.pulse.groups import groups_of_workspace
from nudges.pulse.opening import open_now
from nudges.services import Services
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.fakes.slack_api import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlackApi
from tests.nudges.orgs import make_org

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-0000-secret"
# Tuesday 24 November 2026, 09:30 UTC (10:30 in Amsterdam): inside working hours.
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

ADMIN = "U0ADMIN01"
MEMBER = "U0MEMBER1"


def signed_headers(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Sign ``body`` like Slack: v0 HMAC-SHA256 over ``v0:<ts>:<raw body>``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def form_body(fields: Mapping[str, str]) -> bytes:
    """Encode a slash command body as Slack does (percent-encoded form)."""
    return urllib.parse.urlencode(fields).encode()


def payload_body(payload: Mapping[str, Any]) -> bytes:
    """Encode an interactivity payload as Slack does: ``payload=<percent-encoded JSON>``."""
    return ("payload=" + urllib.parse.quote(json.dumps(payload, separators=(",", ":")))).encode()


@dataclass
class Harness:
    """The running edge, the fake Slack it talks to, and helpers to send it what Slack sends."""

    edge: SlackEdge
    api: FakeSlackApi
    http: TestClient[Any, Any]
    services: Services
    clock: FakeClock
    db: Database
    event_ids: list[str] = field(default_factory=list)

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        sign: bool = True,
        timestamp: int | None = None,
    ) -> ClientResponse:
        """POST ``body`` to /slack/events, signed unless told otherwise."""
        sent = {"Content-Type": content_type}
        if sign:
            sent.update(signed_headers(body, timestamp=timestamp))
        sent.update(headers or {})
        return await self.http.post("/slack/events", data=body, headers=sent)

    async def command(
        self, text: str, *, user: str = ADMIN, response_url: str | None = None
    ) -> ClientResponse:
        """Type ``/nudges <text>`` as ``user`` in a DM with the bot."""
        fields = {
            "token": "xxx",
            "team_id": TEAM_ID,
            "team_domain": "nudgebot-test",
            "channel_id": self.api.dm_channel(user),
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/nudges",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or self.api.response_url(),
            "trigger_id": "111.222.xxx",
        }
        return await self.post(form_body(fields), "application/x-www-form-urlencoded")

    async def click(
        self,
        channel: str,
        ts: str,
        action_id: str,
        *,
        user: str,
        shown: Mapping[str, Any] | None = None,
        clicked_at: float | None = None,
    ) -> ClientResponse:
        """Click ``action_id`` on the message at ``channel``/``ts`` (as ``shown``, if stale).

        ``clicked_at`` is when the person clicked (Slack's ``action_ts``), by default now.
        """
        message = dict(shown if shown is not None else self.api.message(channel, ts))
        button = next(
            element
            for block in message.get("blocks", [])
            if block.get("type") == "actions"
            for element in block["elements"]
            if element.get("action_id") == action_id
        )
        block_id = next(
            block.get("block_id", "")
            for block in message["blocks"]
            if block.get("type") == "actions" and button in block["elements"]
        )
        payload = {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "9s8d9as89d8as9d8as989",
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
            "team": {"id": TEAM_ID, "domain": "nudgebot-test"},
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "directmessage"},
            "message": {**message, "bot_id": BOT_ID},
            "state": {"values": {}},
            "response_url": self.api.response_url("actions"),
            "actions": [
                {
                    "action_id": button["action_id"],
                    "block_id": block_id,
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "type": "button",
                    "action_ts": f"{time.time() if clicked_at is None else clicked_at:.6f}",
                }
            ],
        }
        return await self.post(payload_body(payload), "application/x-www-form-urlencoded")

    async def submit(
        self, view: Mapping[str, Any], values: Mapping[str, Any], *, user: str
    ) -> ClientResponse:
        """Submit the modal ``view`` (as views.open stored it) with ``values`` per input."""
        state: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            element = block["element"]
            action_id = element["action_id"]
            value = values.get(action_id)
            if element["type"] == "datepicker":
                entry: dict[str, Any] = {"type": "datepicker", "selected_date": value}
            else:
                entry = {"type": element["type"], "value": value}
            state[block["block_id"]] = {action_id: entry}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "nudgebot-test"},
            "user": {
                "id": user,
                "username": user.lower(),
                "name": user.lower(),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "xxx",
            "trigger_id": "222.333.xxx",
            "view": {**view, "state": {"values": state}},
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return await self.post(payload_body(payload), "application/x-www-form-urlencoded")

    async def event(
        self, event: Mapping[str, Any], *, event_id: str, retry: int | None = None
    ) -> ClientResponse:
        """Deliver an Events API event, wrapped in Slack's envelope."""
        envelope = {
            "token": "one-long-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_700_000_000,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return await self.post(body, "application/json", headers=headers)

    async def open_home(self, user: str) -> None:
        """Open the App Home tab as ``user``, as Slack reports it, and wait for the publish."""
        self.event_ids.append(f"Ev0HOME{len(self.event_ids):04d}")
        event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
        response = await self.event(event, event_id=self.event_ids[-1])
        assert response.status == 200
        await self.settle()

    async def settle(self) -> None:
        """Wait for everything the edge acknowledged to be done."""
        await self.edge.drain()


def build_services(db: Database, clock: FakeClock) -> Services:
    """Assemble the core as the composition root does, on a frozen clock."""
    dispatcher = Dispatcher(
        db,
        clock,
        default_catalogue(),
        {},
        EngineConfig(send_rate_per_workspace=1000, initial_rate=1000),
    )
    return Services(
        db=db,
        clock=clock,
        catalogue=dispatcher.catalogue,
        dispatcher=dispatcher,
        interactions=Interactions(dispatcher, dispatcher.catalogue),
    )


async def clear_slack_tables(db: Database) -> None:
    """Empty the Slack OAuth tables, which the shared ``db`` fixture does not know about."""
    async with db.engine.begin() as conn:
        for table in reversed(slack_metadata.sorted_tables):
            await conn.execute(text(f"DELETE FROM {table.name}"))


@asynccontextmanager
async def running_edge(
    db: Database,
    *,
    users: Mapping[str, Mapping[str, Any]] | None = None,
    # Far above what a reply takes even on a busy machine, so a test that expects the answer
    # in the acknowledgement gets it there; tests of the late path pass 0.
    ack_budget: float = 20.0,
    home_debounce: float = 0.05,
    now: datetime = NOW,
    settings: Mapping[str, Any] | None = None,
    dashboard: bool = False,
) -> AsyncIterator[Harness]:
    """Start the fake Slack and the full web app with the Slack edge mounted in it.

    With ``dashboard`` the admins' dashboard is mounted too and the ``dashboard`` command makes
    links to it, as the composition root wires them.
    """
    people = {ADMIN: {"is_admin": True}, MEMBER: {}}
    people.update(users or {})
    await clear_slack_tables(db)
    async with FakeSlackApi(users=people) as api:
        values: dict[str, Any] = {
            # Whatever the developer's shell exports, these tests run single-workspace HTTP.
            "slack_app_token": None,
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": api.base_url,
        }
        values.update(settings or {})
        config = Settings(_env_file=None, **values)
        clock = FakeClock(now)
        services = build_services(db, clock)
        site = build_dashboard(config, services) if dashboard else None
        services.dashboard_links = site
        options = EdgeOptions.from_settings(
            config, command=COMMAND, ack_budget=ack_budget, home_debounce=home_debounce
        )
        edge = build_slack_edge(config, services, options=options)
        web_app = create_web_app(db)
        edge.add_routes(web_app)
        if site is not None:
            site.add_routes(web_app)
        async with TestClient(TestServer(web_app)) as http:
            harness = Harness(edge, api, http, services, clock, db)
            try:
                yield harness
            finally:
                await edge.stop()


async def send_team_poll(slack: Harness, members: list[str], manager: str = ADMIN) -> None:
    """Make ``members`` report to ``manager``, open a pulse poll for the team and deliver it."""
    await make_org(
        slack.db,
        created=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        managers={manager: members},
        workspace=TEAM_ID,
    )
    async with slack.db.session() as s:
        workspace = await s.scalar(select(Workspace))
        assert workspace is not None
        groups = await groups_of_workspace(s, workspace.id)
        opened = await open_now(slack.services.dispatcher, s, workspace, groups, slack.clock.now())
        await s.commit()
    assert opened.polls
    await slack.services.dispatcher.tick()
