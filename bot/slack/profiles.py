"""Read who a Slack user is (time zone, locale, admin rights) and remember it for a while."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.edge.profile import Profile
from bot.slack import ClientFor
from nudges.ports import Clock, SystemClock

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 3600
DEFAULT_MAX_ENTRIES = 10_000
# Slack's answers for an id that does not name a person this app may see.
NOT_FOUND_ERRORS = frozenset({"user_not_found", "user_not_visible"})


# The flags that make someone an admin, at the top of the user object for their workspace and
# under ``enterprise_user`` for their Enterprise Grid org.
ADMIN_FLAGS = ("is_admin", "is_owner", "is_primary_owner")


def profile_from_user(user: Mapping[str, Any], workspace_id: str = "") -> Profile:
    """Read the neutral profile from the ``user`` object of a ``users.info`` answer.

    ``workspace_id`` is the Nudgebot workspace asked about: when it is the user's Grid org (an
    org-wide install), the org's admins and owners are the admins, not each workspace's.
    """
    names = user.get("profile") if isinstance(user.get("profile"), Mapping) else {}
    assert isinstance(names, Mapping)
    return Profile(
        user_id=str(user.get("id", "")),
        display_name=_optional_str(names.get("display_name"))
        or _optional_str(user.get("real_name"))
        or _optional_str(user.get("name")),
        timezone=_optional_str(user.get("tz")),
        locale=_optional_str(user.get("locale")),
        is_platform_admin=any(bool(_admin_flags(user, workspace_id).get(f)) for f in ADMIN_FLAGS),
        deleted=bool(user.get("deleted", False)),
        is_bot=bool(user.get("is_bot", False)),
    )


class ProfileLookupError(Exception):
    """Raised when Slack could not say who a user is (rate limit, outage, revoked token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Entry:
    profile: Profile | None
    expires: datetime


class ProfileCache:
    """Look up Slack profiles with ``users.info``, caching each answer for ``ttl_seconds``.

    It is the Slack ``ProfileSource`` of ``bot.edge``.
    """

    def __init__(
        self,
        client_for: ClientFor,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Clock | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._client_for = client_for
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, workspace_id: str, user_id: str) -> Profile | None:
        """Return the user's profile, or None when Slack does not know the user."""
        key = (workspace_id, user_id)
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is not None and entry.expires > now:
            self._entries.move_to_end(key)
            return entry.profile
        profile = await self._fetch(workspace_id, user_id)
        self._store(key, _Entry(profile, self._clock.now() + self._ttl))
        return profile

    def forget(self, workspace_id: str, user_id: str) -> None:
        """Drop a cached profile, e.g. after a ``user_change`` event."""
        self._entries.pop((workspace_id, user_id), None)

    async def _fetch(self, workspace_id: str, user_id: str) -> Profile | None:
        client = await self._client_for(workspace_id)
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            code = str(data.get("error", "")) if isinstance(data, Mapping) else ""
            if code in NOT_FOUND_ERRORS:
                return None
            reason = code or f"http_{getattr(exc.response, 'status_code', 0)}"
            logger.warning(
                "slack users.info failed workspace=%s user=%s reason=%s",
                workspace_id,
                user_id,
                reason,
            )
            raise ProfileLookupError(reason) from exc
        except (SlackClientError, aiohttp.ClientError, OSError) as exc:
            logger.warning(
                "slack users.info failed workspace=%s user=%s reason=%s",
                workspace_id,
                user_id,
                type(exc).__name__,
            )
            raise ProfileLookupError(type(exc).__name__) from exc
        user = response.get("user")
        if not isinstance(user, Mapping):
            raise ProfileLookupError("unexpected_response:user")
        return profile_from_user(user, workspace_id)

    def _store(self, key: tuple[str, str], entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def _admin_flags(user: Mapping[str, Any], workspace_id: str) -> Mapping[str, Any]:
    grid = user.get("enterprise_user")
    if isinstance(grid, Mapping) and workspace_id and grid.get("enterprise_id") == workspace_id:
        return grid
    return user


def _optional_str(value: Any) -> str | None:
    # Slack sends "" rather than leaving the field out when a profile has no zone or locale.
    return value if isinstance(value, str) and value else None
