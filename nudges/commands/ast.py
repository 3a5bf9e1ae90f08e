"""Hold the typed commands the parser produces and the executor runs.

Each family of commands lives in its own module under ``nudges/commands/nodes/``; this module
names them all, and ``Command`` is any one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nudges.commands.nodes.me import (
    MeKinds,
    MeLanguage,
    MeOptIn,
    MeOptOut,
    MePause,
    MeProgramme,
    MeResume,
    MeStatus,
    MeTimezone,
    Programme,
)
from nudges.commands.nodes.parts import (
    LAST,
    CadenceTarget,
    PauseUntil,
    PersonOrSelf,
    PersonRef,
    PulseTarget,
    RelativePause,
    SelfRef,
    Target,
    TeamRef,
    WorkspaceRef,
)
from nudges.commands.nodes.people import (
    AdminsAdd,
    AdminsList,
    AdminsRemove,
    SendNow,
    TeamAdd,
    TeamList,
    TeamRemove,
)
from nudges.commands.nodes.privacy import Audit, Export, Forget, MeExport, MeForget, Retention
from nudges.commands.nodes.pulse import (
    PulseAsk,
    PulseNow,
    PulseOff,
    PulseOn,
    PulseQuestions,
    PulseResults,
    PulseRetire,
    PulseSchedule,
    PulseThreshold,
)
from nudges.commands.nodes.settings import (
    BlackoutAdd,
    BlackoutList,
    BlackoutRemove,
    Budget,
    Cadence,
    Country,
    Dashboard,
    Kinds,
    Language,
    Pause,
    Resume,
    SampleNudge,
    Status,
    Timezone,
)
from nudges.commands.nodes.workweeks import Away, MeAway, MeWorkweek, Week, Workweek

__all__ = [
    "LAST",
    "AdminsAdd",
    "AdminsList",
    "AdminsRemove",
    "Audit",
    "Away",
    "BlackoutAdd",
    "BlackoutList",
    "BlackoutRemove",
    "Budget",
    "Cadence",
    "CadenceTarget",
    "Command",
    "Country",
    "Dashboard",
    "Export",
    "Forget",
    "Help",
    "Kinds",
    "Language",
    "MeAway",
    "MeExport",
    "MeForget",
    "MeKinds",
    "MeLanguage",
    "MeOptIn",
    "MeOptOut",
    "MePause",
    "MeProgramme",
    "MeResume",
    "MeStatus",
    "MeTimezone",
    "MeWorkweek",
    "Pause",
    "PauseUntil",
    "PersonOrSelf",
    "PersonRef",
    "Programme",
    "PulseAsk",
    "PulseNow",
    "PulseOff",
    "PulseOn",
    "PulseQuestions",
    "PulseResults",
    "PulseRetire",
    "PulseSchedule",
    "PulseTarget",
    "PulseThreshold",
    "RelativePause",
    "Resume",
    "Retention",
    "SampleNudge",
    "SelfRef",
    "SendNow",
    "Status",
    "Target",
    "TeamAdd",
    "TeamList",
    "TeamRef",
    "TeamRemove",
    "Timezone",
    "Week",
    "WorkspaceRef",
    "Workweek",
]


@dataclass(frozen=True, slots=True)
class Help:
    """Show the overview, or the help of one topic."""

    admin_only: ClassVar[bool] = False
    topic: str | None = None


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
