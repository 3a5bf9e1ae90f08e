"""Hold the commands a member runs about themselves."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from nudges.commands.nodes.parts import PauseUntil
from nudges.domain import Kind


class Programme(StrEnum):
    """Name a multi-week programme people can join."""

    EMPATHIC_LISTENING = "empathic-listening"


@dataclass(frozen=True, slots=True)
class MeStatus:
    """Show the caller's own settings."""

    admin_only: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class MePause:
    """Pause the caller's own bot messages until a day."""

    admin_only: ClassVar[bool] = False
    until: PauseUntil


@dataclass(frozen=True, slots=True)
class MeResume:
    """End the caller's own pause."""

    admin_only: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class MeLanguage:
    """Set the caller's own language."""

    admin_only: ClassVar[bool] = False
    locale: str


@dataclass(frozen=True, slots=True)
class MeTimezone:
    """Set the caller's own time zone."""

    admin_only: ClassVar[bool] = False
    zone: str


@dataclass(frozen=True, slots=True)
class MeKinds:
    """Choose which kinds of nudge the caller receives."""

    admin_only: ClassVar[bool] = False
    kinds: tuple[Kind, ...]


@dataclass(frozen=True, slots=True)
class MeProgramme:
    """Join or leave a programme."""

    admin_only: ClassVar[bool] = False
    programme: Programme
    join: bool


@dataclass(frozen=True, slots=True)
class MeOptOut:
    """Stop all bot messages to the caller."""

    admin_only: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class MeOptIn:
    """Undo the caller's opt-out."""

    admin_only: ClassVar[bool] = False
