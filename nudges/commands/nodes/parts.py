"""Hold what commands point at and are built from: people, teams, the workspace, pause lengths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class PersonRef:
    """Point at one person by platform user id."""

    user_id: str


@dataclass(frozen=True, slots=True)
class TeamRef:
    """Point at a team by its org-chart name."""

    name: str


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    """Point at the whole workspace."""


@dataclass(frozen=True, slots=True)
class SelfRef:
    """Point at whoever typed the command."""


Target = PersonRef | TeamRef | WorkspaceRef | SelfRef


PersonOrSelf = PersonRef | SelfRef


CadenceTarget = PersonRef | TeamRef | WorkspaceRef


PulseTarget = TeamRef | WorkspaceRef


@dataclass(frozen=True, slots=True)
class RelativePause:
    """Pause for a number of days counted from when the command runs."""

    days: int


PauseUntil = date | RelativePause


# Monthly cadences count weekdays from the start of the month; LAST counts from the end.
LAST = -1
