"""Answer a person's direct messages at most once per cooldown, so two bots cannot loop.

The cooldown is kept in the store, so it holds whichever replica a message reaches; each
replica also remembers its own replies, which spares the store most repeats.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from nudges.store import marks
from nudges.store.database import Database

logger = logging.getLogger(__name__)

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


class SharedDmCooldown:
    """The cooldown of every replica: this one's memory first, then a mark in the store."""

    def __init__(self, db: Database, platform: str, cooldown: timedelta) -> None:
        self.db = db
        self.platform = platform
        self.local = DmCooldown(cooldown)

    async def should_reply(self, workspace_id: str, user_id: str, now: datetime) -> bool:
        """Say yes at most once per cooldown per person across replicas; yes with the store down."""
        if not self.local.should_reply(workspace_id, user_id, now):
            return False
        key = marks.about("dm", self.platform, workspace_id, user_id)
        try:
            async with self.db.session() as session:
                taken = await marks.claim(session, key, now + self.local.cooldown, now)
                await session.commit()
        except Exception as exc:
            # One reply too many beats none: this replica's own memory still limits it.
            logger.warning("dm cooldown: the store did not answer (%s)", type(exc).__name__)
            return True
        return taken
