"""The fake Bot Connector refuses what Teams refuses, so messenger tests can fail for real."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.teams.cards import render_message
from nudges.messages import Actions, Button, Message, Text
from tests.fakes.bot_connector import TENANT_ID, FakeBotConnector, card_errors


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        yield fake


async def _post(fake: FakeBotConnector, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.base_url + path, json=body) as response,
    ):
        return response.status, await response.json()


def _card_activity(**card: Any) -> dict[str, Any]:
    content = {"type": "AdaptiveCard", "version": "1.5", "body": [], **card}
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}
        ],
    }


async def test_create_conversation_answers_like_teams_and_needs_the_tenant(
    connector: FakeBotConnector,
) -> None:
    body = {"bot": {"id": "28:b"}, "members": [{"id": "29:u"}], "channelData": {"tenant": {}}}
    status, answer = await _post(connector, "/v3/conversations", body)
    assert status == 400 and answer["error"]["code"] == "BadArgument"
    body["channelData"] = {"tenant": {"id": TENANT_ID}}
    status, first = await _post(connector, "/v3/conversations", body)
    assert status == 201 and first["id"].startswith("a:")
    # The same person's 1:1 chat comes back, not a new one.
    assert (await _post(connector, "/v3/conversations", body))[1] == first


@pytest.mark.parametrize(
    ("card", "problem"),
    [
        ({"version": "1.6"}, "above 1.5"),
        (
            {
                "version": "1.3",
                "body": [
                    {
                        "type": "ActionSet",
                        "actions": [{"type": "Action.Execute", "title": "x", "verb": "v"}],
                    }
                ],
            },
            "Action.Execute needs",
        ),
        ({"body": [{"type": "TextBlock", "text": "Hi <at>Anna</at>"}]}, "has no entity"),
        ({"body": [{"type": "Input.Text"}]}, "input without an id"),
        ({"body": [{"type": "Carousel"}]}, "unknown element"),
        (
            {"body": [{"type": "Input.Text", "id": "a"}, {"type": "Input.Date", "id": "a"}]},
            "duplicate ids",
        ),
    ],
)
async def test_a_card_teams_would_refuse_gets_a_400(
    connector: FakeBotConnector, card: dict[str, Any], problem: str
) -> None:
    status, answer = await _post(
        connector, "/v3/conversations/a:1/activities", _card_activity(**card)
    )
    assert status == 400
    assert problem in answer["error"]["message"]
    assert connector.posted == []


async def test_an_activity_over_the_size_limit_gets_a_413(connector: FakeBotConnector) -> None:
    big = _card_activity(body=[{"type": "TextBlock", "text": "x" * 60_000}])
    status, answer = await _post(connector, "/v3/conversations/a:1/activities", big)
    assert status == 413 and answer["error"]["code"] == "MessageSizeTooBig"


async def test_canned_failures_carry_retry_after_and_can_lose_an_accepted_message(
    connector: FakeBotConnector,
) -> None:
    activity = render_message(Message("f", (Text("hi"),)))
    connector.fail_next(429, retry_after=7)
    async with aiohttp.ClientSession() as session:
        url = connector.base_url + "/v3/conversations/a:1/activities"
        async with session.post(url, json=activity) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "7"
        connector.fail_next(504, deliver=True)
        async with session.post(url, json=activity) as response:
            assert response.status == 504
    assert len(connector.posted) == 1


def test_every_rendered_card_passes_the_fake_s_checks() -> None:
    message = Message("f", (Text("x"), Actions("a", (Button("OK", "ok", "1", "primary"),))))
    assert card_errors(render_message(message)) == []
    assert card_errors(json.loads(json.dumps(render_message(message)))) == []
