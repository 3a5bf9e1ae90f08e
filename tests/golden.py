"""Golden files for every renderer test (Slack, Teams, the sandbox), and the messages they render.

A golden file holds, as JSON, what a renderer made of a fixed input: the Block Kit payload, the
Adaptive Card activity, or the sandbox's HTML one tag a line. After an intended change,
regenerate and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/slack tests/bot/teams tests/bot/sandbox -k golden

The inputs are the core's real composers with fixed arguments, the same on every platform, so one
change of wording or layout shows up in each platform's goldens alike.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nudges.coaching.compose import (
    followup_message,
    move_commitment_form,
    note_commitment_form,
    nudge_message,
)
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, NudgeState
from nudges.i18n import t
from nudges.messages import Form, Message
from nudges.pulse.messages import poll_message, reminder_message

LOCALES = ("en", "nl")
CATALOGUE = default_catalogue()
_COFFEE = next(n for n in CATALOGUE.nudges if n.needs_report and n.kind == "coffee_checkin")
_AMS = ZoneInfo("Europe/Amsterdam")
_CLOSES = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def updating() -> bool:
    """Tell whether this run writes the golden files instead of checking them."""
    return os.environ.get("UPDATE_GOLDEN") == "1"


def serialise(rendered: Any) -> str:
    """Write a rendering the way its golden file holds it: sorted, indented JSON."""
    return json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def compare(directory: Path, name: str, rendered: Any) -> None:
    """Assert that ``rendered`` equals the golden file ``directory/name.json``."""
    path = directory / f"{name}.json"
    text = serialise(rendered)
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}: run with UPDATE_GOLDEN=1 and review"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review, then regenerate"


def core_messages(member: str) -> dict[str, Callable[[str], Message]]:
    """Name every message the core composes, each built for a locale; ``member`` is mentioned."""

    def nudge(state: NudgeState | None, locale: str) -> Message:
        return nudge_message(
            delivery_id=41,
            nudge=_COFFEE,
            locale=locale,
            catalogue=CATALOGUE,
            member=member,
            reason=t(locale, "planner.reason.member_next", member=member, weeks=5),
            outcome=state.value if state else None,
            snoozed_until=date(2026, 11, 25) if state is NudgeState.SNOOZED else None,
        )

    def followup(state: CommitmentState, locale: str) -> Message:
        return followup_message(
            delivery_id=42,
            locale=locale,
            text="Send Anna the onboarding notes",
            due_on=date(2026, 11, 27),
            member=member,
            state=state.value,
        )

    def poll(locale: str, *, answered: bool = False, closed: bool = False) -> Message:
        return poll_message(
            delivery_id=43,
            poll_id=7,
            question=CATALOGUE.questions[0].text(locale),
            locale=locale,
            threshold=5,
            closes_at=_CLOSES,
            zone=_AMS,
            is_closed=closed,
            answered=answered,
        )

    def reminder(locale: str) -> Message:
        return reminder_message(
            delivery_id=44,
            question=CATALOGUE.questions[0].text(locale),
            locale=locale,
            threshold=5,
            sent_on=date(2026, 11, 26),
            closes_at=_CLOSES,
            zone=_AMS,
        )

    return {
        "nudge_open": lambda loc: nudge(None, loc),
        "nudge_done": lambda loc: nudge(NudgeState.DONE, loc),
        "nudge_snoozed": lambda loc: nudge(NudgeState.SNOOZED, loc),
        "nudge_not_relevant": lambda loc: nudge(NudgeState.NOT_RELEVANT, loc),
        "followup_open": lambda loc: followup(CommitmentState.OPEN, loc),
        "followup_dropped": lambda loc: followup(CommitmentState.DROPPED, loc),
        "pulse_open": lambda loc: poll(loc),
        "pulse_answered": lambda loc: poll(loc, answered=True),
        "pulse_closed": lambda loc: poll(loc, answered=True, closed=True),
        "pulse_reminder": reminder,
    }


CORE_FORMS: dict[str, Callable[[str], Form]] = {
    "note_commitment": lambda loc: note_commitment_form(41, loc, date(2026, 12, 1)),
    "move_commitment": lambda loc: move_commitment_form(42, loc, date(2026, 12, 4)),
}
