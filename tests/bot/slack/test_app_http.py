"""Slack's requests through the whole web app: signatures, URL checks, retries, self-events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.slack.events_seen import EventLedger
from bot.slack.verify import RequestVerifier, WallClock
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Workspace
from nudges.store.slack_events import ProcessedEvent
from tests.bot.slack.app_harness import (
    MEMBER,
    SIGNING_SECRET,
    Harness,
    form_body,
    running_edge,
    signed_headers,
)
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID

FIXTURES = Path(__file__).parents[2] / "fixtures" / "slack"


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db) as harness:
        yield harness


def _sample(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((FIXTURES / name).read_text())
    return loaded


async def test_url_verification_echoes_the_challenge(slack: Harness) -> None:
    body = json.dumps(_sample("url_verification.json")).encode()
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == ("nb-challenge-7f3e9a1c52d84b06")


def _wrong_signature(body: bytes) -> dict[str, str]:
    return signed_headers(body, secret="not-the-signing-secret")


def _stale(body: bytes) -> dict[str, str]:
    # Correctly signed, but five minutes and a second ago: a replay.
    return signed_headers(body, timestamp=int(time.time()) - 301)


def _from_the_future(body: bytes) -> dict[str, str]:
    return signed_headers(body, timestamp=int(time.time()) + 301)


def _malformed_timestamp(body: bytes) -> dict[str, str]:
    return {**signed_headers(body), "X-Slack-Request-Timestamp": "soon"}


@pytest.mark.parametrize(
    "headers_for", [_wrong_signature, _stale, _from_the_future, _malformed_timestamp]
)
async def test_a_bad_signature_is_refused_and_runs_nothing(
    slack: Harness, headers_for: Callable[[bytes], dict[str, str]]
) -> None:
    body = form_body({"team_id": TEAM_ID, "user_id": MEMBER, "command": "/nudges", "text": "help"})
    response = await slack.post(
        body, "application/x-www-form-urlencoded", sign=False, headers=headers_for(body)
    )
    assert response.status == 401
    assert await response.json() == {"error": "invalid request"}
    await slack.settle()
    assert slack.api.calls == []
    async with slack.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Workspace)) == 0


async def test_missing_signature_headers_are_refused(slack: Harness) -> None:
    body = json.dumps(_sample("url_verification.json")).encode()
    only_timestamp = {"X-Slack-Request-Timestamp": str(int(time.time()))}
    for headers in ({}, only_timestamp):
        response = await slack.post(body, "application/json", sign=False, headers=headers)
        assert response.status == 401
    assert slack.api.calls == []


async def test_a_tampered_body_is_refused(slack: Harness) -> None:
    body = json.dumps(_sample("url_verification.json")).encode()
    headers = signed_headers(body)
    response = await slack.post(body + b" ", "application/json", sign=False, headers=headers)
    assert response.status == 401


async def test_the_signing_docs_example_verifies_at_its_own_time(db: Database) -> None:
    # The official worked example from Slack's docs, checked with the clock frozen at its
    # timestamp: proves the check is Slack's algorithm over the raw bytes, not our own variant.
    signed: Any = _sample("signing_worked_example.json")
    cases = {case["name"]: case for case in signed["cases"]}
    example = cases["docs_worked_example"]
    verifier = RequestVerifier(SIGNING_SECRET, WallClock(frozen_at=float(example["timestamp"])))
    headers = {
        "X-Slack-Request-Timestamp": example["timestamp"],
        "X-Slack-Signature": example["signature"],
    }
    assert verifier.is_valid(example["body"].encode(), headers)
    tampered = cases["docs_worked_example_tampered_body"]
    assert not verifier.is_valid(tampered["body"].encode(), headers)
    assert not RequestVerifier(SIGNING_SECRET).is_valid(example["body"].encode(), headers)


async def test_an_event_retry_with_the_same_id_acts_once(slack: Harness) -> None:
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0HOME", "tab": "home"}
    first = await slack.event(event, event_id="Ev0RETRY01")
    assert first.status == 200
    await slack.settle()
    for attempt in (1, 2, 3):
        again = await slack.event(event, event_id="Ev0RETRY01", retry=attempt)
        assert again.status == 200
    await slack.settle()
    assert len(slack.api.calls_to("views.publish")) == 1
    # A new event (the person opens Home again) is not a retry and does act.
    await slack.event(event, event_id="Ev0RETRY02")
    await slack.settle()
    assert len(slack.api.calls_to("views.publish")) == 2
    async with slack.db.session() as s:
        rows = (await s.scalars(select(ProcessedEvent).order_by(ProcessedEvent.id))).all()
    assert [(r.platform, r.event_id, r.workspace_external_id) for r in rows] == [
        ("slack", "Ev0RETRY01", TEAM_ID),
        ("slack", "Ev0RETRY02", TEAM_ID),
    ]


async def test_the_ledger_survives_a_restart(db: Database) -> None:
    event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0HOME", "tab": "home"}
    async with running_edge(db) as first:
        await first.event(event, event_id="Ev0RESTART")
        await first.settle()
        assert len(first.api.calls_to("views.publish")) == 1
    async with running_edge(db) as second:
        # clear_slack_tables leaves processed_events alone: it belongs to the core.
        response = await second.event(event, event_id="Ev0RESTART", retry=1)
        assert response.status == 200
        await second.settle()
        assert second.api.calls_to("views.publish") == []


async def test_events_by_the_bot_itself_are_ignored_with_a_2xx(slack: Harness) -> None:
    own_post = {
        "type": "message",
        "channel": slack.api.dm_channel(MEMBER),
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": "Your nudge this week",
        "ts": "1700000001.000001",
        "event_ts": "1700000001.000001",
        "channel_type": "im",
    }
    reaction = {
        "type": "reaction_added",
        "user": BOT_USER_ID,
        "item": {"type": "message", "channel": "C111", "ts": "1599529504.000400"},
        "reaction": "heart_eyes",
        "item_user": MEMBER,
        "event_ts": "1599616881.000800",
    }
    for number, event in enumerate((own_post, reaction)):
        response = await slack.event(event, event_id=f"Ev0SELF0{number}")
        assert response.status == 200
    await slack.settle()
    assert slack.api.calls_to("chat.postMessage") == []


async def test_a_bot_message_from_another_bot_gets_no_reply(slack: Harness) -> None:
    echo = {
        "type": "message",
        "subtype": "bot_message",
        "text": "Hi there! This is a reply using response_url.",
        "ts": "1658282075.825129",
        "bot_id": "BZYBOTHED",
        "channel": slack.api.dm_channel(MEMBER),
        "event_ts": "1658282075.825129",
        "channel_type": "im",
    }
    response = await slack.event(echo, event_id="Ev0OTHERBOT")
    assert response.status == 200
    await slack.settle()
    assert slack.api.calls_to("chat.postMessage") == []


async def test_events_the_bot_does_not_act_on_still_get_a_2xx(slack: Harness) -> None:
    reaction = _sample("reaction_added_channel.json")
    channel_message = {
        "type": "message",
        "channel": "C0G9QF9GZ",
        "user": MEMBER,
        "text": "in a channel",
        "ts": "1.2",
        "event_ts": "1.2",
        "channel_type": "channel",
    }
    messages_tab = {"type": "app_home_opened", "user": MEMBER, "channel": "D1", "tab": "messages"}
    for number, event in enumerate((reaction, channel_message, messages_tab)):
        response = await slack.event(event, event_id=f"Ev0IGNORE{number}")
        assert response.status == 200
    await slack.settle()
    assert [c.method for c in slack.api.calls if c.method != "auth.test"] == []


async def test_slacks_rate_limit_notice_gets_a_2xx(slack: Harness) -> None:
    # Sent to the request URL, outside the event envelope, when Slack drops this app's events.
    notice = {
        "token": "one-long-verification-token",
        "type": "app_rate_limited",
        "team_id": TEAM_ID,
        "minute_rate_limited": 1518467820,
        "api_app_id": "A0NUDGEAPP",
    }
    response = await slack.post(json.dumps(notice).encode(), "application/json")
    assert response.status == 200
    await slack.settle()
    assert [c.method for c in slack.api.calls if c.method != "auth.test"] == []


async def test_a_direct_message_gets_a_short_help_reply_then_a_quiet_spell(
    slack: Harness,
) -> None:
    channel = slack.api.dm_channel(MEMBER)
    for number in range(3):
        event = {
            "type": "message",
            "channel": channel,
            "user": MEMBER,
            "text": f"hello {number}",
            "ts": f"1355517523.00000{number}",
            "event_ts": f"1355517523.00000{number}",
            "channel_type": "im",
        }
        assert (await slack.event(event, event_id=f"Ev0DM0{number}")).status == 200
        await slack.settle()
    (reply,) = slack.api.calls_to("chat.postMessage")
    assert reply.params["channel"] == channel
    assert "/nudges help" in reply.params["text"]


async def test_old_event_ids_are_forgotten_after_a_day(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    ledger = EventLedger(db, clock)
    assert await ledger.first_time("Ev0OLD", TEAM_ID)
    assert not await ledger.first_time("Ev0OLD", TEAM_ID)
    clock.advance(timedelta(days=1, hours=2))
    assert await ledger.first_time("Ev0NEW", TEAM_ID)
    async with db.session() as s:
        kept = (await s.scalars(select(ProcessedEvent.event_id))).all()
    assert kept == ["Ev0NEW"]
