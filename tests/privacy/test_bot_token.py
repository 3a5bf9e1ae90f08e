"""Play someone holding the bot token: read every poll DM back and match it against the store.

The attack of issue 10 read each DM's history (``im:history``): the updated poll showed the
chosen value, and the buttons carried an answer key whose hash the store kept beside the answer.
Here the whole way runs for real: signed clicks into the Bolt app, the fake Slack Web API, and
the token reading the history back through ``conversations.history``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, text

from bot.slack.blocks import base_id
from nudges.messages import Action
from nudges.store.database import Database
from nudges.store.models import metadata
from tests.bot.slack.app_harness import BOT_TOKEN, Harness, running_edge, send_team_poll
from tests.privacy.linking import Candidates, assert_no_better_than_chance

MEMBERS = [f"U0PRIVAC{n}" for n in range(1, 9)]
FIRST = dict(zip(MEMBERS, (1, 2, 5, 4, 5, 1, 2, 3), strict=True))
FINAL = {**FIRST, MEMBERS[2]: 3}
SCALE_EMOJI = ("😞", "🙁", "😐", "🙂", "😄")


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db, users={m: {} for m in MEMBERS}) as harness:
        yield harness


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
        if base_id(element["action_id"]) == Action.PULSE_ANSWER
    ]


async def _answer_all(slack: Harness) -> int:
    await send_team_poll(slack, MEMBERS)
    for index, member in enumerate([*MEMBERS, MEMBERS[2]]):
        value = FIRST[member] if index < len(MEMBERS) else FINAL[member]
        channel = slack.api.dm_channel(member)
        (ts,) = [t for (c, t) in slack.api.messages if c == channel]
        button = _buttons(slack.api.message(channel, ts))[value - 1]
        response = await slack.click(channel, ts, button["action_id"], user=member)
        assert response.status == 200
        await slack.settle()
    async with slack.db.session() as s:
        return int(await s.scalar(text("SELECT id FROM pulse_polls")) or 0)


async def _history(slack: Harness) -> dict[str, list[dict[str, Any]]]:
    """Read every member's DM back with the bot token, metadata included."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=f"{slack.api.base_url}/")
    out = {}
    for member in MEMBERS:
        reply = await client.conversations_history(
            channel=slack.api.dm_channel(member), include_all_metadata=True
        )
        out[member] = list(reply["messages"])
    return out


async def _store_strings(db: Database) -> set[str]:
    """Every value in every table, as text, and bytes also as hex."""
    found: set[str] = set()
    async with db.session() as s:
        for table in metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for cell in row:
                    if isinstance(cell, bytes):
                        found |= {cell.hex(), cell.decode("latin-1")}
                    elif cell is not None:
                        found.add(str(cell))
    return found


def token_attack(
    history: dict[str, list[dict[str, Any]]], store: set[str], poll_id: int
) -> Candidates:
    """Read the chosen value off each DM, or follow its buttons into the store."""
    candidates: Candidates = {}
    for member, messages in history.items():
        found: Counter[int] = Counter()
        for message in messages:
            buttons = _buttons(message)
            for index, button in enumerate(buttons, start=1):
                if button.get("style") == "primary":
                    found[index] += 1
                # Whatever a button carries, hashed the ways the store could keep it.
                value = str(button.get("value", ""))
                derived = {value, *value.split(":")}
                derived |= {hashlib.sha256(d.encode()).hexdigest() for d in list(derived)}
                derived |= {
                    hashlib.sha256(f"{poll_id}:{part}".encode()).hexdigest()
                    for part in value.split(":")
                }
                if derived & store - {str(poll_id), str(index), value}:
                    found[index] += 1
            # A scale emoji in the text (not on a button) would name the choice.
            shown = (
                json.dumps(
                    [b for b in message.get("blocks", []) if b.get("type") != "actions"],
                    ensure_ascii=False,
                )
                + str(message.get("text", ""))
                + json.dumps(message.get("metadata", {}))
            )
            for index, face in enumerate(SCALE_EMOJI, start=1):
                if face in shown:
                    found[index] += 1
        candidates[member] = found
    return candidates


def _shape(messages: list[dict[str, Any]]) -> str:
    """What a poll DM looks like, leaving out what differs by person, not by answer."""
    return json.dumps([m.get("blocks") for m in messages], sort_keys=True, ensure_ascii=False)


async def test_the_bot_token_reads_nothing_of_any_answer_while_open(slack: Harness) -> None:
    poll_id = await _answer_all(slack)
    history = await _history(slack)
    candidates = token_attack(history, await _store_strings(slack.db), poll_id)
    assert_no_better_than_chance(candidates, Counter(FINAL.values()))
    assert all(not found for found in candidates.values())
    # Every member's poll reads the same, whatever they chose.
    assert len({_shape(m) for m in history.values()}) == 1
    assert "You answered." in _shape(history[MEMBERS[0]])
    # Each choice was shown to its person only, ephemerally, out of the history.
    notes = [e for e in slack.api.ephemerals if "You chose" in e["text"]]
    assert len(notes) == len(MEMBERS) + 1
    assert not any("You chose" in _shape(m) for m in history.values())
    # Nor does any App Home the clicks refreshed.
    homes = json.dumps(slack.api.home_views, ensure_ascii=False)
    assert "You chose" not in homes and not any(face in homes for face in SCALE_EMOJI)


async def test_the_bot_token_reads_nothing_of_any_answer_after_close(slack: Harness) -> None:
    poll_id = await _answer_all(slack)
    async with slack.db.session() as s:
        closes_at = await s.scalar(text("SELECT closes_at FROM pulse_polls"))
    assert closes_at is not None
    closes = closes_at if isinstance(closes_at, datetime) else datetime.fromisoformat(closes_at)
    slack.clock.set(closes.replace(tzinfo=closes.tzinfo or UTC) + timedelta(minutes=1))
    await slack.services.dispatcher.tick()
    history = await _history(slack)
    assert "closed" in _shape(history[MEMBERS[0]])
    candidates = token_attack(history, await _store_strings(slack.db), poll_id)
    assert_no_better_than_chance(candidates, Counter(FINAL.values()))
    assert all(not found for found in candidates.values())
    assert len({_shape(m) for m in history.values()}) == 1
    async with slack.db.session() as s:
        values = sorted(v for (v,) in await s.execute(text("SELECT value FROM pulse_answers")))
    assert values == sorted(FINAL.values())
