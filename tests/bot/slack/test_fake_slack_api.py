"""The fake Slack Web API answers like Slack does; check it before trusting it."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, FakeSlackApi


async def test_binds_a_free_loopback_port() -> None:
    async with FakeSlackApi() as one, FakeSlackApi() as two:
        assert one.base_url.startswith("http://127.0.0.1:")
        assert one.base_url.endswith("/api/")
        assert one.base_url != two.base_url


async def test_auth_test_and_recorded_calls(
    client: AsyncWebClient, slack_api: FakeSlackApi
) -> None:
    answer = await client.auth_test()
    assert (answer["team_id"], answer["user_id"]) == (TEAM_ID, BOT_USER_ID)
    (call,) = slack_api.calls_to("auth.test")
    assert call.token == client.token


async def test_missing_or_unknown_token(slack_api: FakeSlackApi) -> None:
    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(base_url=slack_api.base_url).auth_test()
    assert caught.value.response["error"] == "not_authed"
    slack_api.valid_tokens = {"xoxb-good"}
    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(token="xoxb-bad", base_url=slack_api.base_url).auth_test()
    assert caught.value.response["error"] == "invalid_auth"


async def test_conversations_open_is_stable_per_user(client: AsyncWebClient) -> None:
    first = await client.conversations_open(users="U0ALICE")
    again = await client.conversations_open(users="U0ALICE")
    other = await client.conversations_open(users="U0BOB")
    assert first["channel"]["id"] == again["channel"]["id"]
    assert first["channel"]["id"].startswith("D")
    assert other["channel"]["id"] != first["channel"]["id"]


async def test_form_encoded_blocks_are_parsed(
    client: AsyncWebClient, slack_api: FakeSlackApi
) -> None:
    blocks = [{"type": "divider"}]
    answer = await client.api_call(
        "chat.postMessage", data={"channel": "D0TEST", "text": "t", "blocks": json.dumps(blocks)}
    )
    assert slack_api.message("D0TEST", answer["ts"])["blocks"] == blocks
    assert slack_api.calls_to("chat.postMessage")[0].params["blocks"] == blocks


async def test_post_message_answer_shape(client: AsyncWebClient) -> None:
    answer = await client.chat_postMessage(channel="U0ALICE", text="hello")
    assert set(answer.data) == {"ok", "channel", "ts", "message"}
    assert answer["channel"].startswith("D")
    assert answer["message"]["text"] == "hello"
    assert answer["message"]["ts"] == answer["ts"]


async def test_text_or_blocks_required(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("chat.postMessage", json={"channel": "D0TEST", "text": ""})
    assert caught.value.response["error"] == "no_text"


async def test_update_unknown_message(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="D0TEST", ts="1.000001", text="x")
    assert caught.value.response["error"] == "message_not_found"


async def test_users_info_shapes(client: AsyncWebClient, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0ALICE", tz="Europe/Amsterdam", locale="nl-NL")
    plain = await client.users_info(user="U0ALICE")
    with_locale = await client.users_info(user="U0ALICE", include_locale=True)
    assert "locale" not in plain["user"]
    assert with_locale["user"]["locale"] == "nl-NL"
    assert with_locale["user"]["profile"]["team"] == TEAM_ID
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U0NOBODY")
    assert caught.value.response.data == {"ok": False, "error": "user_not_found"}


async def test_views(client: AsyncWebClient, slack_api: FakeSlackApi) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    published = await client.views_publish(user_id="U0ALICE", view=home)
    assert published["view"]["type"] == "home"
    assert slack_api.home_views["U0ALICE"]["blocks"] == home["blocks"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_publish(user_id="nobody", view=home)
    assert caught.value.response["error"] == "invalid_arguments"

    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "L"},
                "element": {"type": "plain_text_input", "action_id": "a"},
            }
        ],
    }
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id="1.2.3", view=modal)
    assert caught.value.response["error"] == "invalid_blocks"
    modal["submit"] = {"type": "plain_text", "text": "Save"}
    opened = await client.views_open(trigger_id="1.2.3", view=modal)
    assert opened["view"]["id"] == slack_api.opened_views[0]["id"]


async def test_post_ephemeral(client: AsyncWebClient, slack_api: FakeSlackApi) -> None:
    answer = await client.chat_postEphemeral(channel="C0TEAM", user="U0ALICE", text="only you")
    assert answer["message_ts"]
    assert slack_api.ephemerals[0]["text"] == "only you"


async def test_fail_next_counts_and_shapes(client: AsyncWebClient, slack_api: FakeSlackApi) -> None:
    client.retry_handlers = []
    slack_api.fail_next("auth.test", times=2)
    slack_api.fail_next("auth.test", "account_inactive")
    slack_api.fail_next("auth.test", status=500)
    seen = []
    for _ in range(4):
        with pytest.raises(SlackApiError) as caught:
            await client.auth_test()
        response = caught.value.response
        seen.append((response.status_code, response["error"], response.headers.get("Retry-After")))
    assert seen == [
        (429, "ratelimited", "1"),
        (429, "ratelimited", "1"),
        (200, "account_inactive", None),
        (500, "internal_error", None),
    ]
    assert (await client.auth_test())["ok"] is True
