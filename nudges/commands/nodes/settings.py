"""Hold the settings and cadence commands, and the admins' tools (dashboard, sample nudge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar

from nudges.commands.nodes.parts import (
    CadenceTarget,
    PauseUntil,
    PersonOrSelf,
    PersonRef,
    WorkspaceRef,
)
from nudges.domain import Frequency, Kind


@dataclass(frozen=True, slots=True)
class Status:
    """Show the settings of one person, or of the workspace."""

    admin_only: ClassVar[bool] = True
    target: PersonRef | WorkspaceRef


@dataclass(frozen=True, slots=True)
class Cadence:
    """Set when nudges go out for a person, a team or the workspace default."""

    admin_only: ClassVar[bool] = True
    target: CadenceTarget
    frequency: Frequency
    weekday: int | None
    ordinal: int | None
    at: time


@dataclass(frozen=True, slots=True)
class Kinds:
    """Choose which kinds of nudge a manager receives."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef
    kinds: tuple[Kind, ...]


@dataclass(frozen=True, slots=True)
class Pause:
    """Pause all bot messages to a person until a day."""

    admin_only: ClassVar[bool] = True
    target: PersonOrSelf
    until: PauseUntil


@dataclass(frozen=True, slots=True)
class Resume:
    """End a person's pause now."""

    admin_only: ClassVar[bool] = True
    target: PersonOrSelf


@dataclass(frozen=True, slots=True)
class Timezone:
    """Set a person's IANA time zone."""

    admin_only: ClassVar[bool] = True
    target: PersonOrSelf
    zone: str


@dataclass(frozen=True, slots=True)
class Language:
    """Set a person's language."""

    admin_only: ClassVar[bool] = True
    target: PersonOrSelf
    locale: str


@dataclass(frozen=True, slots=True)
class Country:
    """Set the country whose public holidays are skipped: the workspace's or one person's."""

    admin_only: ClassVar[bool] = True
    code: str | None
    person: PersonRef | None = None


@dataclass(frozen=True, slots=True)
class BlackoutList:
    """List the custom blackout days."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class BlackoutAdd:
    """Add a day on which the bot sends nothing."""

    admin_only: ClassVar[bool] = True
    day: date


@dataclass(frozen=True, slots=True)
class BlackoutRemove:
    """Remove a custom blackout day."""

    admin_only: ClassVar[bool] = True
    day: date


@dataclass(frozen=True, slots=True)
class Budget:
    """Set how many bot messages a person may get per week."""

    admin_only: ClassVar[bool] = True
    per_week: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Send the caller a short-lived sign-in link to the dashboard."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SampleNudge:
    """Send the caller a sample nudge now; outside their working time only once confirmed."""

    admin_only: ClassVar[bool] = True
    confirmed: bool = False
