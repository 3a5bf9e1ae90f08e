"""Hold the people and team commands: team, admins, send-now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nudges.commands.nodes.parts import PersonRef


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
class SendNow:
    """Send a manager their next nudge now; outside their working time only once confirmed."""

    admin_only: ClassVar[bool] = True
    manager: PersonRef
    confirmed: bool = False
