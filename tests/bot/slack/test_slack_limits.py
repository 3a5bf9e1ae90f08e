"""Renderings of hostile and random neutral messages must be accepted by the fake's validator."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import render_home, render_message, render_modal
from nudges.messages import (
    Actions,
    Block,
    Button,
    Choices,
    Context,
    DateInput,
    Divider,
    Form,
    FormInput,
    Header,
    Message,
    Option,
    Page,
    Text,
    TextInput,
)
from tests.fakes.slack_api import FakeSlackApi

# Mentions, escapes, bullets, bold markers, astral emoji and whitespace: everything the
# translator treats specially, mixed with ordinary text.
pieces = st.sampled_from(
    ["**", "_", "- ", "\n", "&", "<", ">", "<@U0ABC123>", "<!here>", " ", "😄", "ä", "\r\n"]
)
texts = st.lists(st.one_of(pieces, st.text(max_size=40)), max_size=12).map("".join)
long_texts = st.one_of(texts, st.integers(0, 6000).map(lambda n: "x" * n))
ids = st.one_of(st.sampled_from(["a", "a", "nudge_done"]), st.text(min_size=0, max_size=300))

buttons = st.builds(
    Button,
    label=long_texts,
    action_id=ids,
    value=st.one_of(ids, st.text(max_size=2500)),
    style=st.sampled_from([None, "primary", "danger"]),
)
options = st.builds(Option, label=long_texts, value=ids)
blocks: st.SearchStrategy[Block] = st.one_of(
    st.builds(Header, text=long_texts),
    st.builds(Text, text=long_texts),
    st.builds(Context, text=long_texts),
    st.just(Divider()),
    st.builds(Actions, block_id=ids, buttons=st.lists(buttons, max_size=60).map(tuple)),
    st.builds(
        Choices,
        block_id=ids,
        action_id=ids,
        placeholder=long_texts,
        options=st.lists(options, max_size=130).map(tuple),
    ),
)
block_lists = st.lists(blocks, max_size=70).map(tuple)
messages = st.builds(
    Message,
    fallback=long_texts,
    blocks=block_lists,
    metadata=st.dictionaries(st.sampled_from(["delivery_id", "kind"]), st.text(max_size=20)),
)
inputs: st.SearchStrategy[FormInput] = st.one_of(
    st.builds(
        TextInput,
        input_id=ids,
        label=long_texts,
        placeholder=long_texts,
        multiline=st.booleans(),
        initial=long_texts,
        max_length=st.integers(-5, 5000),
    ),
    st.builds(DateInput, input_id=ids, label=long_texts, initial=st.none() | st.dates()),
)
forms = st.builds(
    Form,
    callback_id=ids,
    title=long_texts,
    submit_label=long_texts,
    cancel_label=long_texts,
    inputs=st.lists(inputs, max_size=110).map(tuple),
    intro=long_texts,
    private_metadata=st.text(max_size=3500),
)

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def post(client: AsyncWebClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await client.api_call("chat.postMessage", json={"channel": "D0TEST", **payload})
    return dict(response.data)  # type: ignore[arg-type]


async def test_oversized_message_is_accepted(client: AsyncWebClient) -> None:
    huge = Message(
        fallback="f" * 50_000,
        blocks=(
            Header("h" * 1000),
            Text("<@U0ABC123> & " * 400),
            Context("c" * 3000),
            Actions(
                "row",
                tuple(Button("b" * 200, "a" * 400, "v" * 3000, "primary") for _ in range(30)),
            ),
            Choices("c" * 300, "c", "p" * 300, tuple(Option("o" * 90, str(i)) for i in range(150))),
            *(Text(f"filler {i}") for i in range(60)),
        ),
        metadata={"delivery_id": "d" * 100},
    )
    assert (await post(client, render_message(huge)))["ok"] is True


async def test_sixty_blocks_and_thirty_buttons_are_accepted(
    client: AsyncWebClient, slack_api: FakeSlackApi
) -> None:
    msg = Message(
        fallback="f",
        blocks=(
            Actions("row", tuple(Button(f"B{i}", f"a{i}", str(i)) for i in range(30))),
            *(Divider() for _ in range(60)),
        ),
    )
    answer = await post(client, render_message(msg))
    assert answer["ok"] is True
    stored = slack_api.message(answer["channel"], answer["ts"])
    assert len(stored["blocks"]) == 50
    assert [len(b["elements"]) for b in stored["blocks"][:2]] == [25, 5]


async def test_the_fake_rejects_what_the_renderer_must_avoid(client: AsyncWebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    button = {"type": "button", "text": {"type": "plain_text", "text": "b"}, "action_id": "a"}
    broken: list[list[Any]] = [
        [{"type": "divider"}] * 51,
        [section],
        [{"type": "actions", "elements": [button] * 26}],
        [{"type": "actions", "elements": [button, button]}],
        [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
        [{"type": "video"}],
        ["not an object"],
    ]
    for blocks in broken:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="D0TEST", text="t", blocks=blocks)
        assert caught.value.response["error"] == "invalid_blocks"


@HYPOTHESIS
@given(msg=messages)
async def test_random_messages_are_accepted(client: AsyncWebClient, msg: Message) -> None:
    answer = await post(client, render_message(msg))
    assert answer["ok"] is True, answer


@HYPOTHESIS
@given(page=st.builds(Page, blocks=st.lists(blocks, max_size=130).map(tuple)))
async def test_random_home_pages_are_accepted(client: AsyncWebClient, page: Page) -> None:
    response = await client.views_publish(user_id="U0ABC123", view=render_home(page))
    assert response["ok"] is True


@HYPOTHESIS
@given(form=forms)
async def test_random_forms_are_accepted(client: AsyncWebClient, form: Form) -> None:
    response = await client.views_open(trigger_id="12345.98765.abcd", view=render_modal(form))
    assert response["ok"] is True


def test_dates_survive_a_modal_round_trip() -> None:
    view = render_modal(
        Form("cb", "T", "S", "C", (DateInput("due", "Due", initial=date(2027, 1, 31)),))
    )
    assert view["blocks"][0]["element"]["initial_date"] == "2027-01-31"
