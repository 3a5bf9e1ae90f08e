"""Hold the typed commands the parser produces and the executor runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import ClassVar

from nudges.domain import Dimension, Frequency, Kind


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


class Programme(StrEnum):
    """Name a multi-week programme people can join."""

    EMPATHIC_LISTENING = "empathic-listening"


# Monthly cadences count weekdays from the start of the month; LAST counts from the end.
LAST = -1


@dataclass(frozen=True, slots=True)
class Help:
    """Show the overview, or the help of one topic."""

    admin_only: ClassVar[bool] = False
    topic: str | None = None


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
class TeamList:
    """List the members of a manager's team."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef


@dataclass(frozen=True, slots=True)
class TeamAdd:
    """Add people to a manager's team."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef
    members: tuple[PersonRef, ...]


@dataclass(frozen=True, slots=True)
class TeamRemove:
    """Remove people from a manager's team."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef
    members: tuple[PersonRef, ...]


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
class AdminsList:
    """List the workspace admins."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class AdminsAdd:
    """Make a person an admin."""

    admin_only: ClassVar[bool] = True
    person: PersonRef


@dataclass(frozen=True, slots=True)
class AdminsRemove:
    """Take admin rights away from a person."""

    admin_only: ClassVar[bool] = True
    person: PersonRef


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Send the caller a short-lived sign-in link to the dashboard."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SampleNudge:
    """Send the caller a sample nudge now."""

    admin_only: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SendNow:
    """Send a manager their next nudge now; outside their working time only once confirmed."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef
    confirmed: bool = False


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


@dataclass(frozen=True, slots=True)
class Export:
    """Send the actor a file with everything stored about a person."""

    admin_only: ClassVar[bool] = True
    person: PersonRef


@dataclass(frozen=True, slots=True)
class Forget:
    """Erase a person's personal data."""

    admin_only: ClassVar[bool] = True
    person: PersonRef


@dataclass(frozen=True, slots=True)
class Retention:
    """Show, set or clear how long raw answers or deliveries are kept."""

    admin_only: ClassVar[bool] = True
    kind: str | None = None
    # None with a kind means "keep them" (off).
    months: int | None = None


@dataclass(frozen=True, slots=True)
class Audit:
    """List the audit log, optionally about one person and from a day on."""

    admin_only: ClassVar[bool] = True
    person: PersonRef | None = None
    since: date | None = None


@dataclass(frozen=True, slots=True)
class MeExport:
    """Send the caller a file with everything stored about them."""

    admin_only: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class MeForget:
    """Erase the caller's own personal data, once confirmed."""

    admin_only: ClassVar[bool] = False
    confirmed: bool = False


Command = (
    Help
    | Status
    | Cadence
    | Kinds
    | TeamList
    | TeamAdd
    | TeamRemove
    | Pause
    | Resume
    | Timezone
    | Language
    | Country
    | Workweek
    | MeWorkweek
    | Away
    | MeAway
    | BlackoutList
    | BlackoutAdd
    | BlackoutRemove
    | Budget
    | AdminsList
    | AdminsAdd
    | AdminsRemove
    | Dashboard
    | SampleNudge
    | SendNow
    | PulseSchedule
    | PulseNow
    | PulseOff
    | PulseOn
    | PulseThreshold
    | PulseResults
    | PulseAsk
    | PulseQuestions
    | PulseRetire
    | MeStatus
    | MePause
    | MeResume
    | MeLanguage
    | MeTimezone
    | MeKinds
    | MeProgramme
    | MeOptOut
    | MeOptIn
    | Export
    | Forget
    | Retention
    | Audit
    | MeExport
    | MeForget
)
