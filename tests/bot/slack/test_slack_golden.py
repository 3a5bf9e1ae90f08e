"""Compare Block Kit renderings of representative neutral messages with checked-in files.

Regenerate the files after an intended rendering change with:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/slack/test_slack_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.slack.blocks import render_home, render_message, render_modal
from nudges.messages import (
    Actions,
    Button,
    Choices,
    Context,
    DateInput,
    Divider,
    Form,
    Header,
    Message,
    Option,
    Page,
    Text,
    TextInput,
)
from tests.fakes.slack_api import block_kit_errors, view_errors
from tests.golden import compare

GOLDEN = Path(__file__).parent / "golden"

NUDGE = Message(
    fallback="Two minutes with <@U0MEMBER1> this week",
    blocks=(
        Header(text="☕ Two minutes with a team member"),
        Text(
            text="**Why now:** you have not had a relaxed chat with <@U0MEMBER1> "
            "for three weeks, and small moments beat formal meetings."
        ),
        Text(text="**This week:** get a coffee together & ask one open question. No agenda."),
        Text(
            text="_Examples_\n"
            "- What gave you energy this week?\n"
            "- Is anything getting in the way of your work?\n"
            "- What would make next week <better> for you?"
        ),
        Context(text="From: verbinding-als-leider.md · you see this because clarity scored low"),
        Divider(),
        Actions(
            block_id="nudge:42",
            buttons=(
                Button(label="Done", action_id="nudge_done", value="42", style="primary"),
                Button(label="Snooze", action_id="nudge_snooze", value="42"),
                Button(label="Skip", action_id="nudge_skip", value="42"),
                Button(
                    label="Not relevant",
                    action_id="nudge_not_relevant",
                    value="42",
                    style="danger",
                ),
                Button(label="Note a commitment", action_id="nudge_commitment", value="42"),
            ),
        ),
        Choices(
            block_id="nudge:42:snooze",
            action_id="nudge_snooze_until",
            placeholder="Snooze until…",
            options=(
                Option(label="Tomorrow", value="1d"),
                Option(label="Next week", value="7d"),
                Option(label="In two weeks", value="14d"),
            ),
        ),
    ),
    metadata={"delivery_id": "42", "kind": "coffee_checkin"},
)

PULSE = Message(
    fallback="How clear are the expectations in your team?",
    blocks=(
        Text(text="**How clear are the expectations in your team?**"),
        Actions(
            block_id="pulse:7",
            buttons=tuple(
                Button(label=emoji, action_id="pulse_answer", value=f"k9x:{score}")
                for score, emoji in enumerate(("😞", "🙁", "😐", "🙂", "😄"), start=1)
            ),
        ),
        Context(text="Your manager only sees results when at least 5 people answered."),
    ),
    metadata={"delivery_id": "77"},
)

HOME = Page(
    blocks=(
        Header(text="Nudgebot"),
        Text(text="**Next nudge:** Tuesday 10:00 (Europe/Amsterdam)"),
        Divider(),
        Text(text="**Open commitments**\n- Send <@U0MEMBER2> the roadmap by Friday"),
        Actions(
            block_id="home:commitments",
            buttons=(
                Button(label="Note a commitment", action_id="commitment_new", value="new"),
                Button(label="Pause nudges", action_id="pause", value="pause", style="danger"),
            ),
        ),
        Context(text="Team pulse appears once at least 5 people answered."),
    )
)

MODAL = Form(
    callback_id="commitment_note",
    title="Note a commitment",
    submit_label="Save",
    cancel_label="Cancel",
    intro="What did you promise, and to whom? We will ask **on the due date** how it went.",
    inputs=(
        TextInput(
            input_id="what",
            label="What did you promise?",
            placeholder="Send the roadmap draft",
            multiline=True,
            max_length=500,
        ),
        DateInput(input_id="due", label="When is it due?", initial=date(2026, 12, 4)),
    ),
    private_metadata='{"nudge":42}',
)

CASES: dict[str, Any] = {
    "nudge": lambda: render_message(NUDGE),
    "pulse": lambda: render_message(PULSE),
    "home": lambda: render_home(HOME),
    "modal": lambda: render_modal(MODAL),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendering_matches_golden_file(name: str) -> None:
    compare(GOLDEN, name, CASES[name]())


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_file_is_valid_block_kit(name: str) -> None:
    payload = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    if name == "home":
        assert view_errors(payload, "home") == []
    elif name == "modal":
        assert view_errors(payload, "modal") == []
    else:
        assert block_kit_errors(payload["blocks"]) == []
        assert payload["text"]
