from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.messenger import SlackMessenger
from bot.slack.retries import with_retry_handlers
from nudges.messages import Actions, Button, Header, Message, Text
from nudges.ports import DeliveryError, MessageRef, Messenger, Recipient
from tests.fakes.slack_api import FakeSlackApi

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]

ALICE = Recipient(platform="slack", workspace_external_id="T0NUDGE01", user_external_id="U0ALICE")


def nudge(state: str = "open") -> Message:
    return Message(
        fallback=f"Coffee check-in ({state})",
        blocks=(
            Header("Two minutes with Sam"),
            Text(f"**State:** {state}"),
            Actions("nudge:1", (Button("Done", "nudge_done", "1", "primary"),)),
        ),
        metadata={"delivery_id": "dlv-1"},
    )


@pytest.fixture
async def messenger(client_for: ClientFor) -> AsyncIterator[SlackMessenger]:
    messenger = SlackMessenger(client_for)
    yield messenger
    await messenger.close()


def test_slack_messenger_is_a_messenger(messenger: SlackMessenger) -> None:
    port: Messenger = messenger
    assert port is messenger


async def test_send_then_update_round_trip(
    messenger: SlackMessenger, slack_api: FakeSlackApi, client: AsyncWebClient
) -> None:
    ref = await messenger.send(ALICE, nudge())

    assert ref.channel == slack_api.dm_channel("U0ALICE")
    # One call: posted to the user id, the message lands in the app's DM, whose id comes back.
    assert [c.method for c in slack_api.calls] == ["chat.postMessage"]
    assert slack_api.calls_to("chat.postMessage")[0].params["channel"] == "U0ALICE"
    assert all(c.token == client.token for c in slack_api.calls)
    posted = slack_api.message(ref.channel, ref.message_id)
    assert posted["text"] == "Coffee check-in (open)"
    assert posted["metadata"] == {
        "event_type": "nudgebot_delivery",
        "event_payload": {"delivery_id": "dlv-1"},
    }

    await messenger.update(ALICE, MessageRef.decode(ref.encode()), nudge("done"))

    current = slack_api.message(ref.channel, ref.message_id)
    assert current["text"] == "Coffee check-in (done)"
    assert current["blocks"][1]["text"]["text"] == "*State:* done"
    assert current["metadata"]["event_payload"]["delivery_id"] == "dlv-1"
    assert slack_api.calls_to("chat.update")[0].params["ts"] == ref.message_id


async def test_a_rate_limited_post_is_handed_to_the_dispatchers_pacing(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    # The dispatcher paces each workspace and must see the 429 and its Retry-After to slow down.
    slack_api.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    with pytest.raises(DeliveryError) as info:
        await messenger.send(ALICE, nudge())
    assert (info.value.permanent, info.value.retry_after) == (False, 1.0)
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    ref = await messenger.send(ALICE, nudge())
    assert (ref.channel, ref.message_id) in slack_api.messages


async def test_a_rate_limited_channel_open_is_retried_after_retry_after(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    # A retried send opens the DM to look back in it first.
    slack_api.fail_next("conversations.open", "ratelimited", status=429, retry_after=1)
    started = time.monotonic()
    ref = await messenger.send(ALICE, nudge(), retry=True)
    assert time.monotonic() - started >= 1.0
    assert len(slack_api.calls_to("conversations.open")) == 2
    assert (ref.channel, ref.message_id) in slack_api.messages


async def test_the_dm_channel_named_by_the_first_post_is_used_after(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    await messenger.send(ALICE, nudge())
    await messenger.send(ALICE, nudge())
    await messenger.send(ALICE, nudge(), retry=True)
    assert slack_api.calls_to("conversations.open") == []
    posts = slack_api.calls_to("chat.postMessage")
    assert [c.params["channel"] for c in posts] == ["U0ALICE", slack_api.dm_channel("U0ALICE")]
    assert len(slack_api.calls_to("conversations.history")) == 1


async def test_server_error_is_retried(messenger: SlackMessenger, slack_api: FakeSlackApi) -> None:
    slack_api.fail_next("conversations.open", status=500)
    await messenger.send(ALICE, nudge(), retry=True)
    assert len(slack_api.calls_to("conversations.open")) == 2
    assert len(slack_api.messages) == 1


async def test_a_server_error_on_posting_is_left_to_the_dispatchers_checked_retry(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    # Slack may have posted before answering 500, so the client must not re-post blindly.
    slack_api.fail_next("chat.postMessage", status=500)
    with pytest.raises(DeliveryError) as info:
        await messenger.send(ALICE, nudge())
    assert info.value.permanent is False
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    await messenger.send(ALICE, nudge(), retry=True)
    assert len(slack_api.calls_to("chat.postMessage")) == 2
    assert len(slack_api.messages) == 1


async def test_dropped_connection_is_retried(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("conversations.open", disconnect=True)
    await messenger.send(ALICE, nudge(), retry=True)
    assert len(slack_api.calls_to("conversations.open")) == 2


async def test_unknown_user_is_permanent(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", "user_not_found")
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("user_not_found", True)
    assert slack_api.messages == {}
    slack_api.fail_next("conversations.open", "user_not_found")
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge(), retry=True)
    assert (caught.value.reason, caught.value.permanent) == ("user_not_found", True)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_deactivated_user_is_permanent(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.add_user("U0ALICE", deleted=True)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("user_disabled", True)


@pytest.mark.parametrize(
    "error", ["invalid_blocks", "channel_not_found", "token_revoked", "missing_scope"]
)
async def test_post_errors_are_permanent(
    messenger: SlackMessenger, slack_api: FakeSlackApi, error: str
) -> None:
    slack_api.fail_next("chat.postMessage", error)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == (error, True)


async def test_slack_side_failure_code_is_transient(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", "fatal_error")
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("fatal_error", False)


async def test_persistent_rate_limit_is_transient_with_retry_after(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", retry_after=0, times=10)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert caught.value.reason == "ratelimited"
    assert caught.value.permanent is False
    assert caught.value.retry_after == 0
    assert len(slack_api.calls_to("chat.postMessage")) == 1  # retrying is the dispatcher's


async def test_long_retry_after_is_left_to_the_scheduler(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", retry_after=30)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.permanent, caught.value.retry_after) == (False, 30)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_persistent_server_error_is_transient(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", status=503, times=10)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("http_503", False)


async def test_persistent_disconnect_is_transient(
    messenger: SlackMessenger, slack_api: FakeSlackApi
) -> None:
    slack_api.fail_next("chat.postMessage", disconnect=True, times=10)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("connection_error", False)


async def test_unreachable_slack_is_transient() -> None:
    # A server that has been stopped leaves a port nobody listens on.
    async with FakeSlackApi() as gone:
        base_url = gone.base_url
    client = with_retry_handlers(
        AsyncWebClient(token="xoxb-t", base_url=base_url), max_retries=1, backoff_factor=0, jitter=0
    )

    async def client_for(workspace_id: str) -> AsyncWebClient:
        return client

    with pytest.raises(DeliveryError) as caught:
        await SlackMessenger(client_for).send(ALICE, nudge())
    assert (caught.value.reason, caught.value.permanent) == ("connection_error", False)


async def test_update_of_a_missing_message_is_permanent(messenger: SlackMessenger) -> None:
    with pytest.raises(DeliveryError) as caught:
        await messenger.update(ALICE, MessageRef("D0NOPE", "1.000001"), nudge())
    assert (caught.value.reason, caught.value.permanent) == ("message_not_found", True)


async def test_each_workspace_uses_its_own_token() -> None:
    async with FakeSlackApi(valid_tokens={"xoxb-one", "xoxb-two"}) as slack_api:
        clients = {
            "T1": AsyncWebClient(token="xoxb-one", base_url=slack_api.base_url),
            "T2": AsyncWebClient(token="xoxb-two", base_url=slack_api.base_url),
            "T3": AsyncWebClient(token="xoxb-revoked", base_url=slack_api.base_url),
        }

        async def client_for(workspace_id: str) -> AsyncWebClient:
            return clients[workspace_id]

        messenger = SlackMessenger(client_for)
        await messenger.send(Recipient("slack", "T1", "U0ALICE"), nudge())
        await messenger.send(Recipient("slack", "T2", "U0BOB"), nudge())
        with pytest.raises(DeliveryError) as caught:
            await messenger.send(Recipient("slack", "T3", "U0CAROL"), nudge())

    tokens = [c.token for c in slack_api.calls_to("chat.postMessage")]
    assert tokens == ["xoxb-one", "xoxb-two", "xoxb-revoked"]
    assert len(slack_api.messages) == 2
    assert (caught.value.reason, caught.value.permanent) == ("invalid_auth", True)


async def test_other_platforms_are_refused(messenger: SlackMessenger) -> None:
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(Recipient("teams", "tenant", "29:abc"), nudge())
    assert caught.value.permanent is True


async def test_logs_never_contain_the_token(
    messenger: SlackMessenger,
    slack_api: FakeSlackApi,
    client: AsyncWebClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_api.fail_next("conversations.open", status=500)
    ref = await messenger.send(ALICE, nudge(), retry=True)
    slack_api.fail_next("chat.update", "invalid_auth")
    with pytest.raises(DeliveryError):
        await messenger.update(ALICE, ref, nudge("done"))
    assert caplog.records
    assert client.token
    assert client.token not in caplog.text
    assert "invalid_auth" in caplog.text


@pytest.mark.parametrize(
    ("code", "scope"),
    [
        ("user_not_found", "recipient"),
        ("cannot_dm_bot", "recipient"),
        ("token_revoked", "workspace"),
        ("invalid_auth", "workspace"),
        ("missing_scope", "workspace"),
        ("invalid_blocks", "message"),
        ("msg_too_long", "message"),
        ("some_new_error", "message"),
    ],
)
def test_failures_say_whom_they_are_about(code: str, scope: str) -> None:
    from bot.slack.failures import failure_scope

    assert failure_scope(code) == scope


async def test_a_post_whose_answer_was_lost_is_not_posted_twice(
    slack_api: FakeSlackApi, messenger: SlackMessenger
) -> None:
    message = nudge()
    # Slack posts the message, then the connection breaks before the answer arrives.
    slack_api.fail_next("chat.postMessage", after_accept=True)
    with pytest.raises(DeliveryError) as info:
        await messenger.send(ALICE, message)
    assert info.value.permanent is False
    # The client itself did not re-post blindly.
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert len(slack_api.messages) == 1
    ((channel, ts),) = slack_api.messages
    # The dispatcher's retry finds the earlier message by its delivery id and posts nothing.
    ref = await messenger.send(ALICE, message, retry=True)
    assert ref == MessageRef(channel=channel, message_id=ts)
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert len(slack_api.calls_to("conversations.history")) == 1


async def test_a_retry_with_nothing_posted_earlier_posts_once(
    slack_api: FakeSlackApi, messenger: SlackMessenger
) -> None:
    slack_api.fail_next("chat.postMessage", disconnect=True)
    with pytest.raises(DeliveryError):
        await messenger.send(ALICE, nudge())
    assert slack_api.messages == {}
    await messenger.send(ALICE, nudge(), retry=True)
    assert len(slack_api.messages) == 1
    # A first attempt never spends a history call.
    await messenger.send(ALICE, nudge())
    assert len(slack_api.calls_to("conversations.history")) == 1
