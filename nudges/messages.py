"""Hold the platform-neutral message model that Slack and Teams renderers both consume.

Text uses a small markup both platforms understand after translation: ``**bold**``,
``_italic_``, lines starting with ``- `` for bullets, and ``<@USERID>`` for a mention.

Text a person typed (a custom question, a promise) is wrapped with ``typed()``: every renderer
shows what lies between the two markers literally, never as a mention, link or formatting, and
drops the markers themselves (``typed_spans`` splits a text for that).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

ButtonStyle = Literal["primary", "danger"]

# Two private-use characters nobody types; a typed text containing them loses them.
TYPED_START = "\ue000"
TYPED_END = "\ue001"


def typed(text: str) -> str:
    """Mark ``text`` as typed by a person, so renderers show it literally."""
    return TYPED_START + untyped(text) + TYPED_END


def untyped(text: str) -> str:
    """Drop the typed-text markers, for places that show text plainly anyway."""
    return text.replace(TYPED_START, "").replace(TYPED_END, "")


# Tab and line breaks are how people type; other control characters (NUL above all, which
# PostgreSQL refuses in text) and lone surrogates are never meant.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_character(text: str) -> str | None:
    """Return the first control character in typed text that nobody means to type, if any."""
    for char in text:
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def typed_spans(text: str) -> list[tuple[str, bool]]:
    """Split markup into pieces, each saying whether it was typed by a person."""
    spans: list[tuple[str, bool]] = []
    rest = text
    while (start := rest.find(TYPED_START)) >= 0:
        end = rest.find(TYPED_END, start + 1)
        if end < 0:
            end = len(rest)
        if start:
            spans.append((rest[:start], False))
        spans.append((untyped(rest[start + 1 : end]), True))
        rest = rest[end + 1 :]
    if rest:
        spans.append((rest.replace(TYPED_END, ""), False))
    return spans


@dataclass(frozen=True, slots=True)
class Button:
    """A button that reports ``action_id`` and ``value`` back when clicked."""

    label: str
    action_id: str
    value: str
    style: ButtonStyle | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One entry of a choice list."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Header:
    """A large title line."""

    text: str


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph of marked-up text."""

    text: str


@dataclass(frozen=True, slots=True)
class Context:
    """Small, muted text such as a source or an explanation."""

    text: str


@dataclass(frozen=True, slots=True)
class Divider:
    """A horizontal rule."""


@dataclass(frozen=True, slots=True)
class Actions:
    """A row of buttons."""

    block_id: str
    buttons: tuple[Button, ...]


@dataclass(frozen=True, slots=True)
class Choices:
    """A single-choice menu that reports the chosen option's value."""

    block_id: str
    action_id: str
    placeholder: str
    options: tuple[Option, ...]


Block = Header | Text | Context | Divider | Actions | Choices


@dataclass(frozen=True, slots=True)
class Message:
    """A whole message: blocks plus a plain-text fallback for notifications."""

    fallback: str
    blocks: tuple[Block, ...]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextInput:
    """A free-text field in a form."""

    input_id: str
    label: str
    placeholder: str = ""
    multiline: bool = False
    initial: str = ""
    max_length: int = 500


@dataclass(frozen=True, slots=True)
class DateInput:
    """A date field in a form."""

    input_id: str
    label: str
    initial: date | None = None


FormInput = TextInput | DateInput


@dataclass(frozen=True, slots=True)
class Form:
    """A small form (a Slack modal, a Teams card with inputs) that submits to ``callback_id``."""

    callback_id: str
    title: str
    submit_label: str
    cancel_label: str
    inputs: tuple[FormInput, ...]
    intro: str = ""
    private_metadata: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """A home page (Slack App Home, a Teams card) made of blocks."""

    blocks: tuple[Block, ...]


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
