"""Run the real Teams edge (botbuilder's CloudAdapter in our aiohttp app) against the fake Bot
Connector, and post activities in the shapes of platform-samples/teams, so tests read like Teams."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.server import create_web_app
from bot.settings import Settings
from bot.teams.adapter import AuthConfig
from bot.teams.edge import TeamsEdge, build_teams_edge
from bot.teams.references import Conversation, teams_metadata
from nudges.ports import DashboardLinks, FakeClock
from nudges.services import Services
from nudges.store.database import Database
from tests.bot.slack.app_harness import NOW, build_services
from tests.fakes.bot_connector import BOT_APP_ID, FakeBotConnector

# Activities in the shapes Teams sends, written for these tests (tests/fixtures/teams).
SAMPLES = Path(__file__).parents[2] / "fixtures" / "teams"

# The people of the samples: Megan installs the bot (personal scope) and is the first admin.
TENANT = "2878b816-75f2-1f2d-093c-15c7c6afb063"
MEGAN_AAD = "5e7f7a46-1841-31c9-1e2f-2cc3c7630233"
MEGAN_29 = "29:1cb2845c18783cc4b13e1c3ac62e930f0bb91c8c6221b1e077cf9eff51b71"
MEGAN_CHAT = "a:1d69b300ea1fde36042ed597f480bea98c837b639426c78145ace4a3920030f27"
BOT = "28:c82078e5-d7c2-0c3e-f3f3-e7362a22947f"
# A second person of the same tenant, made from Megan's shapes with other ids.
OMAR_AAD = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
OMAR_29 = "29:1OmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmarOmar"
OMAR_CHAT = "a:1OmarPersonalChatWithTheBot"


def sample(name: str) -> dict[str, Any]:
    """Load one activity of platform-samples/teams."""
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    return loaded


def as_person(activity: dict[str, Any], aad: str, user_id: str, chat: str) -> dict[str, Any]:
    """Make the sample activity come from another person's personal chat."""
    out = copy.deepcopy(activity)
    out["from"] = {**out.get("from", {}), "id": user_id, "aadObjectId": aad, "name": "Omar"}
    out["conversation"] = {**out.get("conversation", {}), "id": chat}
    return out


@dataclass
class TeamsHarness:
    """The running edge, the fake connector it replies through, and Teams-shaped helpers."""

    edge: TeamsEdge
    connector: FakeBotConnector
    http: TestClient[Any, Any]
    services: Services
    clock: FakeClock
    db: Database

    async def post(
        self,
        activity: Mapping[str, Any] | bytes,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> ClientResponse:
        """POST an activity to /api/messages, its serviceUrl pointed at the fake connector."""
        if isinstance(activity, bytes):
            body = activity
        else:
            sent = dict(activity)
            sent["serviceUrl"] = self.connector.service_url
            body = json.dumps(sent).encode()
        sent_headers = {"Content-Type": content_type, **(headers or {})}
        response = await self.http.post("/api/messages", data=body, headers=sent_headers)
        await self.edge.drain()
        return response

    async def install(self, activity: Mapping[str, Any] | None = None) -> ClientResponse:
        """Install the bot in Megan's personal scope (or as ``activity`` says)."""
        return await self.post(activity or sample("installationUpdate_add_personal.json"))

    async def say(
        self,
        text: str,
        *,
        person: tuple[str, str, str] = (MEGAN_AAD, MEGAN_29, MEGAN_CHAT),
        entities: list[dict[str, Any]] | None = None,
    ) -> str:
        """Type ``text`` in a personal chat and return the bot's reply text."""
        activity = as_person(sample("message_personal.json"), *person)
        activity["text"] = text
        activity.pop("attachments", None)
        activity["id"] = f"msg-{len(self.connector.calls)}"
        if entities is not None:
            activity["entities"] = entities
        before = len(self.connector.calls)
        response = await self.post(activity)
        assert response.status in (200, 201), await response.text()
        replies = [c.activity for c in self.connector.calls[before:] if c.method == "POST"]
        assert replies, "the bot did not reply"
        return str(replies[-1].get("text", ""))

    async def conversations(self) -> list[Conversation]:
        """Return every stored Teams conversation."""
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT conversation_id FROM teams_conversations"))
            ids = [r[0] for r in rows]
        found = [await self.edge.store.get(cid) for cid in ids]
        return [c for c in found if c is not None]


async def clear_teams_tables(db: Database) -> None:
    """Empty the Teams tables, which the shared ``db`` fixture does not know about."""
    async with db.engine.begin() as conn:
        for table in reversed(teams_metadata.sorted_tables):
            await conn.execute(text(f"DELETE FROM {table.name}"))


@asynccontextmanager
async def running_teams(
    db: Database,
    *,
    config: AuthConfig | None = None,
    admins: str | None = None,
    connector: FakeBotConnector | None = None,
    dashboard: DashboardLinks | None = None,
    graph: bool = False,
) -> AsyncIterator[TeamsHarness]:
    """Start the Teams edge on ``db`` with auth off (unless ``config`` says otherwise).

    With ``graph`` the app has a client secret and reads Microsoft Graph at the fake connector,
    while requests stay unauthenticated (as with the Emulator).
    """
    await clear_teams_tables(db)
    clock = FakeClock(NOW)
    services = build_services(db, clock)
    services.dashboard_links = dashboard
    async with _connector(connector) as fake:
        values: dict[str, Any] = {
            "teams_enabled": True,
            "microsoft_app_id": config.APP_ID if config else None,
            "microsoft_app_password": config.APP_PASSWORD if config else None,
            "nudgebot_admins": admins,
            "default_locale": "en",
        }
        if graph:
            values["microsoft_app_id"] = BOT_APP_ID
            values["microsoft_app_password"] = "fake-secret"
            values["microsoft_graph_url"] = fake.graph_url
            values["microsoft_login_url"] = fake.base_url
        settings = Settings(_env_file=None, **values)
        if graph and config is None:
            config = AuthConfig(None, None, "MultiTenant", None)
        edge = build_teams_edge(settings, services, config=config)
        app = create_web_app(db)
        edge.add_routes(app)
        async with TestClient(TestServer(app)) as http:
            yield TeamsHarness(edge, fake, http, services, clock, db)
            await edge.drain()


@asynccontextmanager
async def _connector(given: FakeBotConnector | None) -> AsyncIterator[FakeBotConnector]:
    if given is not None:
        yield given
        return
    async with FakeBotConnector() as fake:
        yield fake
