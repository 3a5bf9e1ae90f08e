"""Read a workspace's tunable policy from its settings JSON, with defaults for what is unset."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import time
from typing import Any

DEFAULT_BUDGET = 3
MIN_BUDGET, MAX_BUDGET = 1, 20
DEFAULT_THRESHOLD = 5
MIN_THRESHOLD, MAX_THRESHOLD = 3, 10
DEFAULT_REPEAT_WINDOW_WEEKS = 8


def _time(raw: Any, fallback: time) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        return fallback


@dataclass(frozen=True)
class WorkspacePolicy:
    """The knobs an admin can turn per workspace."""

    budget: int = DEFAULT_BUDGET
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    repeat_window_weeks: int = DEFAULT_REPEAT_WINDOW_WEEKS
    anonymity_threshold: int = DEFAULT_THRESHOLD
    pulse_enabled: bool = True
    pulse_window_days: int = 3
    admins_only_slack_admins: bool = False

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> WorkspacePolicy:
        """Build from stored JSON, ignoring unknown or malformed entries."""
        s = settings or {}
        base = cls()
        budget = s.get("budget", base.budget)
        threshold = s.get("anonymity_threshold", base.anonymity_threshold)
        return cls(
            budget=budget if isinstance(budget, int) and budget >= MIN_BUDGET else base.budget,
            work_start=_time(s.get("work_start"), base.work_start),
            work_end=_time(s.get("work_end"), base.work_end),
            repeat_window_weeks=int(s.get("repeat_window_weeks", base.repeat_window_weeks)),
            # Never below the floor, whatever was stored.
            anonymity_threshold=max(MIN_THRESHOLD, int(threshold)),
            pulse_enabled=bool(s.get("pulse_enabled", base.pulse_enabled)),
            pulse_window_days=int(s.get("pulse_window_days", base.pulse_window_days)),
        )

    def to_settings(self) -> dict[str, Any]:
        """Serialise to JSON-safe values."""
        data = asdict(self)
        data["work_start"] = self.work_start.strftime("%H:%M")
        data["work_end"] = self.work_end.strftime("%H:%M")
        return data

    def with_changes(self, **changes: Any) -> WorkspacePolicy:
        """Return a copy with ``changes`` applied."""
        return replace(self, **changes)
