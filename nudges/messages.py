"""Hold the platform-neutral message model that Slack and Teams renderers both consume.

Text uses a small markup both platforms understand after translation: ``**bold**``,
``_italic_``, lines starting with ``- `` for bullets, and ``<@USERID>`` for a mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ButtonStyle = Literal["primary", "danger"]


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
