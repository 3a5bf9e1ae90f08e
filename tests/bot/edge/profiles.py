"""A profile source for tests: a table of profiles, and a switch to make the platform fail."""

from __future__ import annotations

from bot.edge import Profile


class TableProfiles:
    """Answer from a table, count the lookups, and raise while ``down`` is set."""

    def __init__(self, profiles: dict[str, Profile] | None = None) -> None:
        self.profiles = dict(profiles or {})
        self.lookups = 0
        self.down = False

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return the profile in the table, if any."""
        self.lookups += 1
        if self.down:
            raise ConnectionError("platform unreachable")
        return self.profiles.get(user_id)
