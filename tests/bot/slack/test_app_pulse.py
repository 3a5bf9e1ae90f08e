"""A pulse poll in Slack: five emoji buttons that share one action id (rendered with #2…#5
suffixes), one signed click, the message updated in place (without the choice), the choice
shown to the clicker ephemerally, and one sealed answer stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.slack.blocks import base_id
from nudges.messages import Action
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer, PulsePending
from tests.bot.slack.app_harness import Harness, running_edge, send_team_poll

MEMBERS = [f"U0PULSE0{n}" for n in range(1, 7)]


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db, users={m: {} for m in MEMBERS}) as harness:
        yield harness


async def _poll_sent(slack: Harness) -> tuple[str, str]:
    await send_team_poll(slack, MEMBERS)
    channel = slack.api.dm_channel(MEMBERS[0])
    (ts,) = [t for (c, t) in slack.api.messages if c == channel]
    return channel, ts


def _answer_ids(message: dict[str, object]) -> list[str]:
    blocks = message.get("blocks")
    assert isinstance(blocks, list)
    return [
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if base_id(element["action_id"]) == Action.PULSE_ANSWER
    ]


async def test_a_click_on_a_suffixed_emoji_button_records_one_answer(slack: Harness) -> None:
    channel, ts = await _poll_sent(slack)
    ids = _answer_ids(slack.api.message(channel, ts))
    assert ids == [Action.PULSE_ANSWER] + [f"{Action.PULSE_ANSWER}#{n}" for n in range(2, 6)]

    first, second = await asyncio.gather(
        slack.click(channel, ts, ids[2], user=MEMBERS[0]),
        slack.click(channel, ts, ids[2], user=MEMBERS[0]),
    )
    assert (first.status, second.status) == (200, 200)
    await slack.settle()

    async with slack.db.session() as s:
        # Until the poll closes there is no plain answer, only one sealed one.
        assert (await s.scalars(select(PulseAnswer))).all() == []
        assert len((await s.scalars(select(PulsePending))).all()) == 1
    updates = [c for c in slack.api.calls_to("chat.update") if c.params["ts"] == ts]
    assert updates
    blocks = slack.api.message(channel, ts)["blocks"]
    said = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert any("You answered." in line for line in said)
    assert not any("😐" in line for line in said)
    assert not any("style" in e for b in blocks if b["type"] == "actions" for e in b["elements"])
    notes = [e for e in slack.api.ephemerals if e["channel"] == channel]
    assert notes and all("You chose 😐" in e["text"] for e in notes)
