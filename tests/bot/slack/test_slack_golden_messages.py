"""Golden Block Kit for every message and view the core composes, in English and Dutch.

The inputs are the real composers (``nudges.coaching.compose``, ``nudges.pulse.messages``),
so a change to wording, layout or rendering shows up here as a reviewable diff. Regenerate
after a wanted change:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/slack/test_slack_golden_messages.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.slack.blocks import render_message, render_modal
from nudges.coaching.compose import (
    followup_message,
    move_commitment_form,
    note_commitment_form,
    nudge_message,
)
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, NudgeState
from nudges.i18n import t
from nudges.pulse.messages import poll_message, reminder_message
from tests.fakes.slack_api import block_kit_errors, view_errors

GOLDEN = Path(__file__).parent / "golden" / "messages"
CAT = default_catalogue()
COFFEE = next(n for n in CAT.nudges if n.needs_report and n.kind == "coffee_checkin")
AMS = ZoneInfo("Europe/Amsterdam")
CLOSES = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def _nudge(state: NudgeState | None, locale: str) -> dict[str, Any]:
    reason = t(locale, "planner.reason.member_next", member="U0ANNA", weeks=5)
    message = nudge_message(
        delivery_id=41,
        nudge=COFFEE,
        locale=locale,
        catalogue=CAT,
        member="U0ANNA",
        reason=reason,
        outcome=state.value if state else None,
        snoozed_until=date(2026, 11, 25) if state is NudgeState.SNOOZED else None,
    )
    return render_message(message)


def _followup(state: CommitmentState, locale: str) -> dict[str, Any]:
    return render_message(
        followup_message(
            delivery_id=42,
            locale=locale,
            text="Send Anna the onboarding notes",
            due_on=date(2026, 11, 27),
            member="U0ANNA",
            state=state.value,
        )
    )


def _poll(locale: str, *, answered: bool = False, closed: bool = False) -> dict[str, Any]:
    question = CAT.questions[0].text(locale)
    return render_message(
        poll_message(
            delivery_id=43,
            poll_id=7,
            question=question,
            locale=locale,
            threshold=5,
            closes_at=CLOSES,
            zone=AMS,
            is_closed=closed,
            answered=answered,
        )
    )


def _reminder(locale: str) -> dict[str, Any]:
    return render_message(
        reminder_message(
            delivery_id=44,
            question=CAT.questions[0].text(locale),
            locale=locale,
            threshold=5,
            sent_on=date(2026, 11, 26),
            closes_at=CLOSES,
            zone=AMS,
        )
    )


MESSAGES: dict[str, Callable[[str], dict[str, Any]]] = {
    "nudge_open": lambda loc: _nudge(None, loc),
    "nudge_done": lambda loc: _nudge(NudgeState.DONE, loc),
    "nudge_snoozed": lambda loc: _nudge(NudgeState.SNOOZED, loc),
    "nudge_not_relevant": lambda loc: _nudge(NudgeState.NOT_RELEVANT, loc),
    "followup_open": lambda loc: _followup(CommitmentState.OPEN, loc),
    "followup_dropped": lambda loc: _followup(CommitmentState.DROPPED, loc),
    "pulse_open": lambda loc: _poll(loc),
    "pulse_answered": lambda loc: _poll(loc, answered=True),
    "pulse_closed": lambda loc: _poll(loc, answered=True, closed=True),
    "pulse_reminder": _reminder,
}
VIEWS: dict[str, Callable[[str], dict[str, Any]]] = {
    "modal_note_commitment": lambda loc: render_modal(
        note_commitment_form(41, loc, date(2026, 12, 1))
    ),
    "modal_move_commitment": lambda loc: render_modal(
        move_commitment_form(42, loc, date(2026, 12, 4))
    ),
}


def _compare(name: str, rendered: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}: run with UPDATE_GOLDEN=1 and review"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review, then regenerate"


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_matches_its_golden_and_slack_accepts_it(name: str, locale: str) -> None:
    rendered = MESSAGES[name](locale)
    assert block_kit_errors(rendered["blocks"]) == []
    assert rendered["text"]
    _compare(f"{name}_{locale}", rendered)


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_matches_its_golden_and_slack_accepts_it(name: str, locale: str) -> None:
    rendered = VIEWS[name](locale)
    assert view_errors(rendered, "modal") == []
    _compare(f"{name}_{locale}", rendered)


def test_dutch_and_english_differ_everywhere() -> None:
    for name, build in {**MESSAGES, **VIEWS}.items():
        assert build("en") != build("nl"), name
