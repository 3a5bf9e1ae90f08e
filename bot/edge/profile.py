"""Describe who is asking in platform-neutral terms, as each adapter reads it from its platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Profile:
    """What a platform says about one person; the adapter fills it, the edge files it."""

    user_id: str
    display_name: str | None = None
    timezone: str | None = None
    locale: str | None = None
    is_bot: bool = False
    deleted: bool = False
    # An owner or admin of the workspace/tenant on the platform itself.
    is_platform_admin: bool = False


class ProfileSource(Protocol):
    """Look up a person's platform profile (cached by the adapter as it sees fit)."""

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return the profile, or None when the platform does not know the person.

        May raise when the platform cannot answer now; the edge then files the person without
        a profile and treats them as a non-admin in the workspace's language.
        """
        ...


class NoProfiles:
    """A profile source for platforms whose requests carry no profile to look up."""

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Know nothing about anyone."""
        return None
