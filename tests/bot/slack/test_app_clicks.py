"""Quick clicks through the real Bolt app: the last click wins, a click or command the store
cannot take gets a visible "try again" in the person's language, and Home is not rebuilt per
click."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from bot.slack.blocks import base_id
from nudges.messages import Action
from nudges.pulse import sealing
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer, PulsePending
from tests.bot.slack.app_harness import ADMIN, Harness, running_edge, send_team_poll

MEMBERS = [f"U0CLICK0{n}" for n in range(1, 6)]
DUTCH = MEMBERS[1]
EMOJI = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    users = {m: {} for m in MEMBERS}
    users[DUTCH] = {"locale": "nl-NL"}
    # Clicks come in 50 ms apart; two seconds without one end the burst, even on a busy machine.
    async with running_edge(db, users=users, home_debounce=2.0) as harness:
        yield harness


async def _polls_sent(slack: Harness) -> dict[str, tuple[str, str]]:
    """Open a pulse poll for the team and deliver it; return each member's DM (channel, ts)."""
    await send_team_poll(slack, MEMBERS)
    sent = {}
    for member in MEMBERS:
        channel = slack.api.dm_channel(member)
        (ts,) = [t for (c, t) in slack.api.messages if c == channel]
        sent[member] = (channel, ts)
    return sent


def _answer_ids(slack: Harness, channel: str, ts: str) -> list[str]:
    """Return the five answer buttons' action ids, from 😞 (1) to 😄 (5)."""
    return [
        element["action_id"]
        for block in slack.api.message(channel, ts)["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if base_id(element["action_id"]) == Action.PULSE_ANSWER
    ]


async def _answers(db: Database) -> list[int]:
    """Return the answers given so far: open polls keep them sealed, so open them as the service."""
    async with db.session() as s:
        closed = [a.value for a in (await s.scalars(select(PulseAnswer))).all()]
        pending = (await s.scalars(select(PulsePending))).all()
    opened = [sealing.current().open(r.poll_id, r.participation_id, r.sealed) for r in pending]
    assert None not in opened
    return sorted([*closed, *(v for v in opened if v is not None)])


def _last_note_to(slack: Harness, member: str) -> str:
    """Return the text of the last ephemeral note the member was shown."""
    channel = slack.api.dm_channel(member)
    notes = [e for e in slack.api.ephemerals if e.get("channel") == channel]
    assert notes, f"no ephemeral note to {member}"
    return str(notes[-1])


async def _five_quick_clicks(
    slack: Harness, member: str, channel: str, ts: str, values: list[int], order: list[int]
) -> None:
    """Click ``values`` in turn, 50 ms apart; the requests arrive in ``order`` (all at once)."""
    shown = dict(slack.api.message(channel, ts))
    ids = _answer_ids(slack, channel, ts)
    start = time.time()
    clicks = [
        slack.click(
            channel,
            ts,
            ids[value - 1],
            user=member,
            shown=shown,
            clicked_at=start + 0.05 * n,
        )
        for n, value in enumerate(values)
    ]
    responses = await asyncio.gather(*(clicks[n] for n in order))
    assert [r.status for r in responses] == [200] * len(values)
    await slack.settle()


async def test_the_last_of_five_quick_clicks_wins_whatever_order_they_arrive_in(
    slack: Harness,
) -> None:
    sent = await _polls_sent(slack)
    rng = random.Random(8)
    lasts = {}
    for member in MEMBERS:
        channel, ts = sent[member]
        values = [rng.randint(1, 5) for _ in range(5)]
        order = list(range(5))
        rng.shuffle(order)
        if member == MEMBERS[0]:
            order = [4, 3, 2, 1, 0]  # the last click arrives first
        await _five_quick_clicks(slack, member, channel, ts, values, order)
        lasts[member] = values[-1]

    assert await _answers(slack.db) == sorted(lasts.values())
    for member in MEMBERS:
        # The poll message is the same for everyone; only the clicker sees their choice.
        assert EMOJI[lasts[member]] in _last_note_to(slack, member)


async def test_quick_clicks_do_not_publish_a_home_that_was_never_opened(slack: Harness) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[MEMBERS[0]]
    before = len(slack.api.calls)
    await _five_quick_clicks(slack, MEMBERS[0], channel, ts, [1, 2, 3, 4, 5], [0, 1, 2, 3, 4])
    assert await _answers(slack.db) == [5]
    assert slack.api.calls_to("views.publish") == []
    # At most one Web API call per click: the message updated in place, plus the clicker's
    # profile, read once. (Bolt checks its token with auth.test until the first answer.)
    calls = [c.method for c in slack.api.calls[before:] if c.method != "auth.test"]
    assert 1 <= calls.count("chat.update") <= 5
    assert calls.count("users.info") <= 1
    assert set(calls) <= {"users.info", "chat.update", "chat.postEphemeral"}


async def test_an_open_home_is_republished_once_after_a_burst_of_clicks(slack: Harness) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[MEMBERS[0]]
    await slack.open_home(MEMBERS[0])
    assert len(slack.api.calls_to("views.publish")) == 1

    await _five_quick_clicks(slack, MEMBERS[0], channel, ts, [2, 3, 4, 5, 1], [0, 1, 2, 3, 4])

    assert await _answers(slack.db) == [1]
    assert len(slack.api.calls_to("views.publish")) == 2


@contextmanager
def database_down(db: Database, tmp_path: Path) -> Iterator[None]:
    """Make every new session fail to connect, as when the database server is gone."""
    if db.url.get_backend_name() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'nudgebot.sqlite3'}"
    else:
        # Nothing listens on port 1: the connection is refused.
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/nudgebot"
    engine = create_async_engine(url)
    working = db.sessions
    db.sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        db.sessions = working


@contextmanager
def pool_exhausted(db: Database) -> Iterator[async_sessionmaker[AsyncSession]]:
    """Give sessions a pool of one connection that gives up waiting after 0.2 s."""
    engine = create_async_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    working = db.sessions
    db.sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        yield db.sessions
    finally:
        db.sessions = working


async def test_a_click_while_the_database_is_down_says_try_again_in_dutch(
    slack: Harness, tmp_path: Path
) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[DUTCH]
    ids = _answer_ids(slack, channel, ts)
    await slack.click(channel, ts, ids[3], user=DUTCH)
    await slack.settle()
    assert await _answers(slack.db) == [4]

    notes_before = len(slack.api.ephemerals)
    with database_down(slack.db, tmp_path):
        response = await slack.click(channel, ts, ids[0], user=DUTCH)
        assert response.status == 200
        await slack.settle()

    (notice,) = slack.api.ephemerals[notes_before:]
    assert notice["channel"] == channel
    call = slack.api.calls_to("chat.postEphemeral")[-1]
    assert call.params["user"] == DUTCH
    assert "probeer het zo nog eens" in notice["text"]
    # Nothing half-stored: the earlier answer stands, and a click once it is back is taken.
    assert await _answers(slack.db) == [4]
    await slack.click(channel, ts, ids[0], user=DUTCH)
    await slack.settle()
    assert await _answers(slack.db) == [1]


async def test_a_first_click_while_the_database_is_down_says_try_again(
    slack: Harness, tmp_path: Path
) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[MEMBERS[0]]
    ids = _answer_ids(slack, channel, ts)
    with database_down(slack.db, tmp_path):
        await slack.click(channel, ts, ids[2], user=MEMBERS[0])
        await slack.settle()
    (notice,) = slack.api.ephemerals
    assert "try again in a moment" in notice["text"]
    assert await _answers(slack.db) == []


async def test_a_click_that_waits_too_long_for_a_connection_says_try_again(
    slack: Harness,
) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[MEMBERS[0]]
    ids = _answer_ids(slack, channel, ts)
    with pool_exhausted(slack.db) as sessions:
        async with sessions() as held:
            # The only connection is in use for longer than a click may wait for it.
            await held.connection()
            await slack.click(channel, ts, ids[2], user=MEMBERS[0])
            await slack.settle()
    (notice,) = slack.api.ephemerals
    assert "try again in a moment" in notice["text"]
    assert await _answers(slack.db) == []


async def test_a_command_while_the_database_is_down_says_try_again(
    slack: Harness, tmp_path: Path
) -> None:
    with database_down(slack.db, tmp_path):
        response = await slack.command("status", user=ADMIN)
        assert response.status == 200
        body = await response.json()
        await slack.settle()
    assert body["response_type"] == "ephemeral"
    assert "try again in a moment" in body["text"]
    assert "Traceback" not in body["text"]


async def test_click_and_command_acknowledgements_are_timed_in_metrics(slack: Harness) -> None:
    sent = await _polls_sent(slack)
    channel, ts = sent[MEMBERS[0]]
    await slack.click(channel, ts, _answer_ids(slack, channel, ts)[0], user=MEMBERS[0])
    await slack.command("help", user=MEMBERS[0])
    await slack.settle()
    metrics = await (await slack.http.get("/metrics")).text()
    for name in ("nudgebot_click_ack_seconds", "nudgebot_command_ack_seconds"):
        (count,) = [
            line
            for line in metrics.splitlines()
            if line.startswith(f'{name}_count{{platform="slack"}}')
        ]
        assert float(count.split()[-1]) >= 1
    assert 'nudgebot_clicks_total{outcome="applied",platform="slack"}' in metrics
