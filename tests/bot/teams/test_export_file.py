"""A data export reaches a Teams user as a card with a short-lived download link to the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.teams.downloads import KEEP_MINUTES, Downloads
from nudges.store.database import Database
from nudges.store.shared import SealedDownload
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


async def test_a_kept_file_is_served_by_another_replica_until_it_expires_then_swept(
    db: Database,
) -> None:
    clock = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    kept_by = Downloads("https://bot.example.org/", db, now=lambda: clock[0])
    url = await kept_by.keep("export.json", b'{"who": "megan"}')
    assert url.startswith("https://bot.example.org/teams/downloads/")
    token = urlsplit(url).path.rsplit("/", 1)[1]
    # The store holds neither the link's token nor the file in the clear.
    async with db.session() as s:
        (row,) = (await s.scalars(select(SealedDownload))).all()
    assert token not in row.id and b"megan" not in row.sealed
    # Another process (a second replica) serves the link from the store.
    served_by = Downloads("https://bot.example.org/", Database(db.url), now=lambda: clock[0])
    app = web.Application()
    served_by.add_routes(app)
    try:
        async with TestClient(TestServer(app)) as client:
            path = urlsplit(url).path
            response = await client.get(path)
            assert response.status == 200
            assert await response.read() == b'{"who": "megan"}'
            clock[0] += timedelta(minutes=KEEP_MINUTES, seconds=1)
            gone = await client.get(path)
            assert gone.status == 404
    finally:
        await served_by.db.dispose()
    assert await kept_by.sweep() == 1
    async with db.session() as s:
        assert (await s.scalars(select(SealedDownload))).all() == []


@pytest.mark.parametrize("name", ['x"; evil=1.json', "../../etc/passwd"])
async def test_the_file_name_cannot_break_the_header(db: Database, name: str) -> None:
    downloads = Downloads("http://localhost:3000", db)
    url = await downloads.keep(name, b"{}")
    app = web.Application()
    downloads.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.get(urlsplit(url).path)
        disposition = response.headers["Content-Disposition"]
        assert disposition.count('"') == 2
        assert "/" not in disposition
