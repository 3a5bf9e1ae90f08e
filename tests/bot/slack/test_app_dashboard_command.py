"""``/nudges dashboard`` signed like Slack sends it, through the real Bolt app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import unquote

import pytest

from nudges.store.database import Database
from tests.bot.slack.app_harness import ADMIN, MEMBER, Harness, running_edge

TOKEN = re.compile(r"/dashboard/signin\?token=([A-Za-z0-9_\-=%]+)")


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db, dashboard=True) as harness:
        yield harness


async def _reply(slack: Harness, user: str) -> str:
    response = await slack.command("dashboard", user=user)
    assert response.status == 200
    body = await response.json()
    # Only the person who typed it ever sees the answer.
    assert body["response_type"] == "ephemeral"
    await slack.settle()
    text: str = body["text"]
    return text


async def test_an_admin_gets_a_working_sign_in_link_privately(slack: Harness) -> None:
    reply = await _reply(slack, ADMIN)
    assert reply.startswith("Your dashboard link for workspace "), reply
    assert "(slack) (valid for 15 minutes, only for you):" in reply
    found = TOKEN.search(reply)
    assert found is not None, reply
    assert slack.api.calls_to("chat.postMessage") == []
    signin = await slack.http.get(
        f"/dashboard/signin?token={unquote(found.group(1))}", allow_redirects=False
    )
    assert signin.status == 303
    assert signin.headers["Location"].startswith("/dashboard?workspace=")
    assert "nudgebot_dashboard=" in signin.headers.get("Set-Cookie", "")


async def test_a_member_is_refused_without_a_link(slack: Harness) -> None:
    reply = await _reply(slack, MEMBER)
    assert reply.startswith("Only admins can use `/nudges dashboard`"), reply
    assert "token=" not in reply
