"""Answer a person's direct messages at most once per cooldown, so two bots cannot loop."""

from __future__ import annotations

from datetime import datetime, timedelta

DEFAULT_DM_COOLDOWN = timedelta(minutes=10)
# Past this many remembered replies, the ones outside the cooldown are forgotten.
DM_MEMORY = 10_000


class DmCooldown:
    """Decide whether a direct message gets the pointer-to-help reply now."""

    def __init__(self, cooldown: timedelta = DEFAULT_DM_COOLDOWN, memory: int = DM_MEMORY) -> None:
        self.cooldown = cooldown
        self._memory = memory
        self._replied: dict[tuple[str, str], datetime] = {}

    def should_reply(self, workspace_id: str, user_id: str, now: datetime) -> bool:
        """Say yes at most once per cooldown per person, and remember that it was said."""
        key = (workspace_id, user_id)
        last = self._replied.get(key)
        if last is not None and now - last < self.cooldown:
            return False
        if len(self._replied) >= self._memory:
            cutoff = now - self.cooldown
            self._replied = {k: v for k, v in self._replied.items() if v >= cutoff}
        self._replied[key] = now
        return True
