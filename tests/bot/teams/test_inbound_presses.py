"""Buttons in Teams: Action.Execute invokes answered with the refreshed card, Action.Submit
messages as presses (never commands), bad invokes answered 400/501, double presses once."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from nudges.domain import NudgeState
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, FormId
from nudges.pulse import sealing
from nudges.pulse.groups import groups_of_workspace
from nudges.pulse.opening import open_now
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from nudges.store.pulse import PulseParticipation, PulsePending
from tests.bot.teams.inbound_harness import (
    MEGAN_AAD,
    MEGAN_CHAT,
    TENANT,
    TeamsHarness,
    as_person,
    running_teams,
    sample,
)
from tests.nudges.orgs import make_org

CARD = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
async def teams(db: Database) -> AsyncIterator[TeamsHarness]:
    async with running_teams(db) as harness:
        await harness.install()
        yield harness


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every Action.Execute of a card, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


async def sample_card(teams: TeamsHarness) -> tuple[str, dict[str, Any]]:
    """Ask for a sample nudge with `test`; return the card's message id and the card."""
    await teams.say("test confirm")
    cards = [p for p in teams.connector.messages_in(MEGAN_CHAT) if p.activity.get("attachments")]
    assert cards, "no card was delivered"
    posted = cards[-1]
    return posted.activity_id, posted.activity["attachments"][0]["content"]


def button(card: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["verb"] == action_id)


def execute(message_id: str, action: dict[str, Any]) -> dict[str, Any]:
    invoke = sample("invoke_adaptiveCard_action.personal.json")
    invoke["replyToId"] = message_id
    invoke["value"] = {
        "action": {"type": "Action.Execute", "verb": action["verb"], "data": action["data"]},
        "trigger": "manual",
    }
    return invoke


async def outcome(teams: TeamsHarness) -> str | None:
    async with teams.db.session() as session:
        delivery = (await session.scalars(select(Delivery))).one()
        return delivery.outcome


async def test_done_by_action_execute_answers_the_refreshed_card_and_records(
    teams: TeamsHarness,
) -> None:
    message_id, card = await sample_card(teams)
    response = await teams.post(execute(message_id, button(card, Action.NUDGE_DONE)))
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == CARD
    assert body["value"]["type"] == "AdaptiveCard"
    # The refreshed card no longer offers Done: the press was recorded.
    assert Action.NUDGE_DONE not in [a["verb"] for a in actions_of(body["value"])]
    assert await outcome(teams) == NudgeState.DONE


async def test_a_double_execute_records_once(teams: TeamsHarness) -> None:
    message_id, card = await sample_card(teams)
    done = execute(message_id, button(card, Action.NUDGE_DONE))
    first = await teams.post(done)
    second = await teams.post(done)
    assert (first.status, second.status) == (200, 200)
    async with teams.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 1
    assert await outcome(teams) == NudgeState.DONE


async def test_a_press_sent_before_one_applied_but_arriving_later_changes_nothing(
    teams: TeamsHarness,
) -> None:
    message_id, card = await sample_card(teams)
    snooze = execute(message_id, button(card, Action.NUDGE_SNOOZE_TOMORROW))
    snooze["timestamp"] = "2026-12-01T09:00:00.500Z"
    done = execute(message_id, button(card, Action.NUDGE_DONE))
    # Done was sent first (Teams' timestamp) but reaches this replica after Snooze.
    done["timestamp"] = "2026-12-01T09:00:00.200Z"
    assert (await teams.post(snooze)).status == 200
    assert (await teams.post(done)).status == 200
    async with teams.db.session() as session:
        original = (await session.scalars(select(Delivery).order_by(Delivery.id))).first()
    assert original is not None and original.outcome == NudgeState.SNOOZED


async def test_an_action_submit_message_is_a_press_not_a_command(teams: TeamsHarness) -> None:
    message_id, card = await sample_card(teams)
    submit = sample("message_action_submit.json")
    submit["replyToId"] = message_id
    submit["value"] = dict(button(card, Action.NUDGE_DONE)["fallback"]["data"])
    before = len(teams.connector.calls_to("send"))
    response = await teams.post(submit)
    assert response.status in (200, 201)
    assert await outcome(teams) == NudgeState.DONE
    # No command reply ("unknown command") was sent for the text-less message.
    sent = teams.connector.calls_to("send")[before:]
    assert all(not c.activity.get("text") for c in sent)


async def test_an_invoke_without_a_usable_action_is_400_with_an_error_body(
    teams: TeamsHarness,
) -> None:
    for value in (None, {"trigger": "manual"}, {"action": {"type": "Action.Execute", "data": 1}}):
        invoke = sample("invoke_adaptiveCard_action.personal.json")
        if value is None:
            del invoke["value"]
        else:
            invoke["value"] = value
        response = await teams.post(invoke)
        assert response.status == 400, value
        body = await response.json()
        assert body["type"] == "application/vnd.microsoft.error"
        assert body["value"]["code"]


async def test_an_unknown_invoke_name_is_501(teams: TeamsHarness) -> None:
    invoke = sample("invoke_adaptiveCard_action.personal.json")
    invoke["name"] = "something/unheardOf"
    response = await teams.post(invoke)
    assert response.status == 501


async def test_a_pulse_answer_by_action_submit_records_one_answer(db: Database) -> None:
    members = [
        (f"0000000{n}-aaaa-4bbb-8ccc-dddddddddddd", f"29:1member{n}", f"a:1chat{n}")
        for n in range(5)
    ]
    await make_org(
        db,
        created=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        managers={MEGAN_AAD: [m[0] for m in members]},
        platform="teams",
        workspace=TENANT,
    )
    async with running_teams(db) as teams:
        for member in members:
            await teams.install(as_person(sample("installationUpdate_add_personal.json"), *member))
        async with db.session() as s:
            workspace = await s.scalar(select(Workspace))
            assert workspace is not None
            groups = await groups_of_workspace(s, workspace.id)
            opened = await open_now(
                teams.services.dispatcher, s, workspace, groups, teams.clock.now()
            )
            await s.commit()
        assert opened.polls
        await teams.services.dispatcher.tick()
        aad, user_id, chat = members[0]
        [posted] = [p for p in teams.connector.messages_in(chat) if p.activity.get("attachments")]
        card = posted.activity["attachments"][0]["content"]
        answers = [a for a in actions_of(card) if a["verb"] == Action.PULSE_ANSWER]
        assert len(answers) == 5
        submit = as_person(sample("message_action_submit.json"), aad, user_id, chat)
        submit["replyToId"] = posted.activity_id
        submit["value"] = dict(answers[3]["fallback"]["data"])
        for _ in range(2):  # a double submit records once
            response = await teams.post(submit)
            assert response.status in (200, 201)
        # Nothing in the chat, where the bot could read it back, names the choice.
        await teams.edge.drain()
        chat_text = json.dumps([p.activity for p in teams.connector.messages_in(chat)])
        assert "You chose" not in chat_text, re.findall(r".{120}You chose.{60}", chat_text)
        # Sealed while the poll is open; the one opened answer is the card's 4.
        async with db.session() as s:
            pending = (await s.scalars(select(PulsePending))).all()
            answered = (
                await s.scalars(
                    select(PulseParticipation).where(PulseParticipation.answered.is_(True))
                )
            ).all()
        opened = [sealing.current().open(r.poll_id, r.participation_id, r.sealed) for r in pending]
        assert opened == [4]
        assert len(answered) == 1


async def test_note_a_commitment_opens_a_form_card_whose_submission_is_stored(
    teams: TeamsHarness,
) -> None:
    message_id, card = await sample_card(teams)
    response = await teams.post(execute(message_id, button(card, Action.NUDGE_NOTE_COMMITMENT)))
    body = await response.json()
    assert body["type"] == CARD
    form = body["value"]
    submit = next(a for a in actions_of(form) if a["verb"] == FormId.NOTE_COMMITMENT)
    ids = _input_ids(form)
    assert {COMMITMENT_TEXT, COMMITMENT_DUE} <= ids
    data = {
        **submit["data"],
        COMMITMENT_TEXT: "Ask Omar about the roadmap",
        COMMITMENT_DUE: "2026-12-01",
    }
    response = await teams.post(execute(message_id, {**submit, "data": data}))
    assert response.status == 200
    async with teams.db.session() as session:
        commitment = (await session.scalars(select(Commitment))).one()
    assert commitment.due_on == date(2026, 12, 1)


def _input_ids(card: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and node.get("id"):
                found.add(str(node["id"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found
