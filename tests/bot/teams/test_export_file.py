"""A data export reaches a Teams user as a card with a short-lived download link to the file."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.teams.downloads import KEEP_MINUTES, Downloads
from nudges.store.database import Database
from tests.bot.teams.inbound_harness import MEGAN_AAD, MEGAN_CHAT, running_teams


async def test_me_export_sends_a_download_link_to_the_persons_own_chat(db: Database) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        await teams.say("me export")
        await teams.edge.drain()
        cards = [
            a["content"]
            for m in teams.connector.messages_in(MEGAN_CHAT)
            for a in m.activity.get("attachments") or []
            if a.get("content", {}).get("actions")
        ]
        links = [
            action
            for card in cards
            for action in card["actions"]
            if action["type"] == "Action.OpenUrl"
        ]
        assert len(links) == 1, cards
        url = links[0]["url"]
        assert links[0]["title"].endswith(".json")
        response = await teams.http.get(urlsplit(url).path)
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        export = json.loads(await response.read())
        assert MEGAN_AAD in json.dumps(export)
        assert "fields" in export
        # Another token, or a guessed one, finds nothing.
        assert (await teams.http.get(urlsplit(url).path + "x")).status == 404


async def test_a_kept_file_expires() -> None:
    clock = [1000.0]
    downloads = Downloads("https://bot.example.org/", now=lambda: clock[0])
    url = downloads.keep("export.json", b"{}")
    assert url.startswith("https://bot.example.org/teams/downloads/")
    app = web.Application()
    downloads.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        path = urlsplit(url).path
        assert (await client.get(path)).status == 200
        clock[0] += KEEP_MINUTES * 60 + 1
        gone = await client.get(path)
        assert gone.status == 404


@pytest.mark.parametrize("name", ['x"; evil=1.json', "../../etc/passwd"])
async def test_the_file_name_cannot_break_the_header(name: str) -> None:
    downloads = Downloads("http://localhost:3000")
    url = downloads.keep(name, b"{}")
    app = web.Application()
    downloads.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.get(urlsplit(url).path)
        disposition = response.headers["Content-Disposition"]
        assert disposition.count('"') == 2
        assert "/" not in disposition
