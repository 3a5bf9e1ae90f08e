"""Nudge buttons and the commitment modals, end to end: a DM at the fake Slack, signed clicks,
chat.update with the new state, and the store agreeing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from nudges.domain import DeliveryKind, NudgeState
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, FormId
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.bot.slack.app_harness import ADMIN, MEMBER, Harness, running_edge


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db) as harness:
        yield harness


async def _sample_nudge(slack: Harness, user: str = ADMIN) -> tuple[str, str]:
    """Ask for a sample with /nudges test; return where the DM landed (channel, ts)."""
    response = await slack.command("test", user=user)
    assert response.status == 200
    body = await response.json()
    await slack.settle()
    assert "direct messages" in body["text"]
    ((channel, ts),) = list(slack.api.messages)
    assert channel == slack.api.dm_channel(user)
    return channel, ts


async def _delivery(slack: Harness) -> Delivery:
    async with slack.db.session() as s:
        (delivery,) = (await s.scalars(select(Delivery))).all()
        return delivery


def _texts(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks", []):
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)


def _action_ids(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


async def test_test_command_then_done_updates_the_dm_and_the_store(slack: Harness) -> None:
    channel, ts = await _sample_nudge(slack)
    assert Action.NUDGE_DONE in _action_ids(slack.api.message(channel, ts))
    delivery = await _delivery(slack)
    assert delivery.kind == DeliveryKind.SAMPLE
    assert delivery.message_ref == f"{channel}|{ts}"
    await slack.open_home(ADMIN)

    response = await slack.click(channel, ts, Action.NUDGE_DONE, user=ADMIN)
    assert response.status == 200
    await slack.settle()

    (update,) = slack.api.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    message = slack.api.message(channel, ts)
    assert "Done. Nice work" in _texts(message)
    assert Action.NUDGE_DONE not in _action_ids(message)
    assert (await _delivery(slack)).outcome == NudgeState.DONE
    # The Home tab, open a moment ago, follows the click.
    assert "done ✅" in str(slack.api.home_views[ADMIN]["blocks"])


async def test_a_double_click_changes_the_state_once(slack: Harness) -> None:
    channel, ts = await _sample_nudge(slack)
    first, second = await asyncio.gather(
        slack.click(channel, ts, Action.NUDGE_DONE, user=ADMIN),
        slack.click(channel, ts, Action.NUDGE_DONE, user=ADMIN),
    )
    assert (first.status, second.status) == (200, 200)
    await slack.settle()
    assert len(slack.api.calls_to("chat.update")) == 1
    assert (await _delivery(slack)).outcome == NudgeState.DONE


async def test_a_late_older_click_does_not_undo_the_newer_one_but_the_last_click_wins(
    slack: Harness,
) -> None:
    channel, ts = await _sample_nudge(slack)
    stale = dict(slack.api.message(channel, ts))
    skipped_at = time.time()
    await slack.click(channel, ts, Action.NUDGE_SKIP, user=ADMIN, clicked_at=skipped_at)
    await slack.settle()
    # Done was clicked first but reached the bot late (another replica, a slow network).
    await slack.click(
        channel, ts, Action.NUDGE_DONE, user=ADMIN, shown=stale, clicked_at=skipped_at - 0.2
    )
    await slack.settle()
    assert len(slack.api.calls_to("chat.update")) == 1
    assert (await _delivery(slack)).outcome == NudgeState.SKIPPED
    # Slack may still show the old buttons for a moment: a click on one after Skip is the
    # person's last word, and the last click wins.
    await slack.click(
        channel, ts, Action.NUDGE_DONE, user=ADMIN, shown=stale, clicked_at=skipped_at + 0.3
    )
    await slack.settle()
    assert len(slack.api.calls_to("chat.update")) == 2
    assert (await _delivery(slack)).outcome == NudgeState.DONE


async def test_a_click_on_someone_elses_nudge_gets_an_ephemeral_notice(slack: Harness) -> None:
    channel, ts = await _sample_nudge(slack)
    await slack.click(channel, ts, Action.NUDGE_DONE, user=MEMBER)
    await slack.settle()
    assert slack.api.calls_to("chat.update") == []
    (notice,) = slack.api.ephemerals
    assert notice["channel"] == channel
    assert "someone else" in notice["text"]
    assert (await _delivery(slack)).outcome is None


async def test_note_a_commitment_opens_a_modal_and_saves_it(slack: Harness) -> None:
    channel, ts = await _sample_nudge(slack)
    await slack.open_home(ADMIN)
    await slack.click(channel, ts, Action.NUDGE_NOTE_COMMITMENT, user=ADMIN)
    await slack.settle()
    (opened,) = slack.api.calls_to("views.open")
    assert opened.params["trigger_id"]
    (view,) = slack.api.opened_views
    assert view["callback_id"] == FormId.NOTE_COMMITMENT

    response = await slack.submit(
        view,
        {COMMITMENT_TEXT: "Send Sam the onboarding notes", COMMITMENT_DUE: "2026-11-27"},
        user=ADMIN,
    )
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "update"
    assert "Noted" in str(answer["view"]["blocks"])
    assert answer["view"]["close"]["text"] == "Close"
    await slack.settle()
    async with slack.db.session() as s:
        (commitment,) = (await s.scalars(select(Commitment))).all()
    assert commitment.text == "Send Sam the onboarding notes"
    assert commitment.due_on == date(2026, 11, 27)
    assert "Send Sam the onboarding notes" in str(slack.api.home_views[ADMIN]["blocks"])


async def test_a_modal_with_mistakes_gets_field_errors_and_saves_nothing(slack: Harness) -> None:
    channel, ts = await _sample_nudge(slack)
    await slack.click(channel, ts, Action.NUDGE_NOTE_COMMITMENT, user=ADMIN)
    await slack.settle()
    (view,) = slack.api.opened_views
    response = await slack.submit(
        view, {COMMITMENT_TEXT: "   ", COMMITMENT_DUE: "2020-01-01"}, user=ADMIN
    )
    assert response.status == 200
    answer = await response.json()
    assert answer["response_action"] == "errors"
    block_ids = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert set(answer["errors"]) == block_ids
    assert "from today on" in answer["errors"][COMMITMENT_DUE]
    await slack.settle()
    async with slack.db.session() as s:
        assert (await s.scalars(select(Commitment))).all() == []


async def test_a_scheduled_nudge_reaches_slack_and_its_buttons_work(slack: Harness) -> None:
    from tests.nudges.orgs import make_org

    await make_org(
        slack.db,
        created=slack.clock.now().replace(day=16),
        managers={ADMIN: [MEMBER]},
        workspace="T0NUDGE01",
    )
    result = await slack.services.dispatcher.tick()
    assert result.sent == 1
    ((channel, ts),) = list(slack.api.messages)
    assert f"<@{MEMBER}>" in _texts(slack.api.message(channel, ts))
    await slack.click(channel, ts, Action.NUDGE_SNOOZE_WEEK, user=ADMIN)
    await slack.settle()
    assert "Snoozed" in _texts(slack.api.message(channel, ts))
    async with slack.db.session() as s:
        rows = (await s.scalars(select(Delivery).order_by(Delivery.id))).all()
    assert [r.outcome for r in rows] == [NudgeState.SNOOZED, None]


async def test_a_slow_submission_closes_the_modal_and_answers_in_a_dm(db: Database) -> None:
    async with running_edge(db, ack_budget=0.0) as slack:
        channel, ts = await _sample_nudge_slow(slack)
        await slack.click(channel, ts, Action.NUDGE_NOTE_COMMITMENT, user=ADMIN)
        await slack.settle()
        (view,) = slack.api.opened_views
        # The sample nudge itself went to the admin's user id as well: count posts from here.
        before = len(slack.api.calls_to("chat.postMessage"))
        response = await slack.submit(
            view,
            {COMMITMENT_TEXT: "Ask Sam about the demo", COMMITMENT_DUE: "2026-11-30"},
            user=ADMIN,
        )
        assert response.status == 200
        assert await response.read() == b""
        await slack.settle()
        notices = [
            c
            for c in slack.api.calls_to("chat.postMessage")[before:]
            if c.params["channel"] == ADMIN
        ]
        (notice,) = notices
        assert "Noted" in notice.params["text"]
        async with slack.db.session() as s:
            (commitment,) = (await s.scalars(select(Commitment))).all()
        assert commitment.text == "Ask Sam about the demo"


async def _sample_nudge_slow(slack: Harness) -> tuple[str, str]:
    response = await slack.command("test", user=ADMIN)
    assert response.status == 200
    await slack.settle()
    (answer,) = slack.api.responses
    assert "direct messages" in answer["text"]
    ((channel, ts),) = list(slack.api.messages)
    return channel, ts
