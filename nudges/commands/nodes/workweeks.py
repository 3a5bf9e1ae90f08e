"""Hold working weeks and time away: workweek, away, me workweek, me away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar

from nudges.commands.nodes.parts import CadenceTarget, PersonRef


@dataclass(frozen=True, slots=True)
class Week:
    """The weekdays (Monday is 0) and hours of a working week."""

    days: frozenset[int]
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True, slots=True)
class Workweek:
    """Set (or with no week, clear) the working week of a person, a team or the workspace."""

    admin_only: ClassVar[bool] = True
    target: CadenceTarget
    week: Week | None


@dataclass(frozen=True, slots=True)
class MeWorkweek:
    """Set (or with no week, clear) the caller's own working week."""

    admin_only: ClassVar[bool] = False
    week: Week | None


@dataclass(frozen=True, slots=True)
class Away:
    """Add a stretch of leave for a person, list theirs, or clear what is ahead."""

    admin_only: ClassVar[bool] = True
    person: PersonRef
    first: date | None = None
    last: date | None = None
    clear: bool = False


@dataclass(frozen=True, slots=True)
class MeAway:
    """Add a stretch of the caller's own leave, list theirs, or clear what is ahead."""

    admin_only: ClassVar[bool] = False
    first: date | None = None
    last: date | None = None
    clear: bool = False
