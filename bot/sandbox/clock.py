"""Hold the sandbox clock: real time until someone moves it, then time as the page set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def _real_now() -> datetime:
    return datetime.now(UTC)


class ClockLocked(Exception):
    """Raised when the clock may not move because real platforms share this process."""


class SandboxClock:
    """A clock the sandbox page can move forward; it keeps running at real speed in between.

    It drives the whole process, so it may only move when the sandbox is the only platform.
    """

    def __init__(
        self,
        *,
        movable: bool,
        start: datetime | None = None,
        real: Callable[[], datetime] = _real_now,
    ) -> None:
        self.movable = movable
        # What "real time" is: the wall clock, or a test's fixed day that runs on from there.
        self._real = real
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        """Return the current instant, shifted by however far the page moved the clock."""
        return self._real() + self._offset

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (an aware datetime); time runs on from there."""
        if not self.movable:
            raise ClockLocked("the clock is shared with a real platform")
        if when.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime")
        self._offset = when.astimezone(UTC) - self._real()

    def reset(self) -> None:
        """Go back to real time."""
        self._offset = timedelta(0)

    @property
    def shifted(self) -> bool:
        """Tell whether the clock differs from real time."""
        return self._offset != timedelta(0)
