"""Name the action ids buttons and forms report back; every platform uses the same ones."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """A button a person can click; the value is the delivery id as text."""

    NUDGE_DONE = "nudge.done"
    NUDGE_SNOOZE_TOMORROW = "nudge.snooze_tomorrow"
    NUDGE_SNOOZE_WEEK = "nudge.snooze_week"
    NUDGE_SKIP = "nudge.skip"
    NUDGE_NOT_RELEVANT = "nudge.not_relevant"
    NUDGE_NOTE_COMMITMENT = "nudge.note_commitment"
    FOLLOWUP_DONE = "followup.done"
    FOLLOWUP_MOVE = "followup.move"
    FOLLOWUP_DROP = "followup.drop"
    # All five emoji buttons of a poll share this id; their value carries poll, key and score.
    PULSE_ANSWER = "pulse.answer"


class FormId(StrEnum):
    """A form a person can submit; ``private_metadata`` carries the delivery id."""

    NOTE_COMMITMENT = "form.note_commitment"
    MOVE_COMMITMENT = "form.move_commitment"


COMMITMENT_TEXT = "commitment_text"
COMMITMENT_DUE = "commitment_due"
