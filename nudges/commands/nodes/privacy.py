"""Hold the personal-data commands: export, forget, retention, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from nudges.commands.nodes.parts import PersonRef


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
