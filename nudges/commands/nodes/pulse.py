"""Hold the pulse commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import ClassVar

from nudges.commands.nodes.parts import PulseTarget
from nudges.domain import Dimension, Frequency


@dataclass(frozen=True, slots=True)
class PulseSchedule:
    """Set when pulse polls go out for a team or the workspace."""

    admin_only: ClassVar[bool] = True
    target: PulseTarget
    frequency: Frequency
    weekday: int | None
    ordinal: int | None
    at: time


@dataclass(frozen=True, slots=True)
class PulseNow:
    """Send a pulse poll now."""

    admin_only: ClassVar[bool] = True
    target: PulseTarget


@dataclass(frozen=True, slots=True)
class PulseOff:
    """Stop sending pulse polls."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class PulseOn:
    """Start sending pulse polls again."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class PulseThreshold:
    """Set how many answers a result needs before anyone sees it."""

    admin_only: ClassVar[bool] = True
    minimum: int


@dataclass(frozen=True, slots=True)
class PulseResults:
    """Show pulse results for a team or the workspace."""

    admin_only: ClassVar[bool] = True
    target: PulseTarget


@dataclass(frozen=True, slots=True)
class PulseAsk:
    """Add a question of the admin's own to the pulse bank."""

    admin_only: ClassVar[bool] = True
    text: str
    dimension: Dimension | None


@dataclass(frozen=True, slots=True)
class PulseQuestions:
    """List the questions in the pulse bank."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class PulseRetire:
    """Stop asking one question of the pulse bank."""

    admin_only: ClassVar[bool] = True
    key: str
