"""Declare the ports through which the core reaches the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

from nudges.messages import Message


@dataclass(frozen=True, slots=True)
class Recipient:
    """Say where a message goes: platform, workspace and the platform's own user id."""

    platform: str
    workspace_external_id: str
    user_external_id: str


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Point at a delivered message so it can be updated later; fields are platform-opaque."""

    channel: str
    message_id: str

    def encode(self) -> str:
        """Serialise for storage."""
        return f"{self.channel}|{self.message_id}"

    @classmethod
    def decode(cls, raw: str) -> MessageRef:
        """Parse what ``encode`` stored."""
        channel, _, message_id = raw.partition("|")
        return cls(channel=channel, message_id=message_id)


FailureScope = Literal["recipient", "workspace", "message"]


class DeliveryError(Exception):
    """Raised by a messenger when a message could not be delivered."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        scope: FailureScope = "recipient",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        # Only a "recipient" failure says something about the person; "workspace" means the bot
        # itself cannot post (token revoked, app removed), "message" that this message was refused.
        self.scope = scope


class Messenger(Protocol):
    """Deliver neutral messages on one platform."""

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        """Deliver a direct message and return where it landed.

        ``retry`` says an earlier attempt may have reached the platform before it failed; a
        messenger that can look back should return the earlier message instead of posting twice.
        """
        ...

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        """Replace a delivered message with a new rendering."""
        ...


@runtime_checkable
class FileMessenger(Protocol):
    """Deliver a file into a person's direct messages (for data exports)."""

    async def send_file(
        self, recipient: Recipient, filename: str, data: bytes, message: str
    ) -> MessageRef:
        """Upload ``data`` as ``filename`` into the DM with ``recipient``, with ``message``."""
        ...


class DashboardLinks(Protocol):
    """Make short-lived sign-in links to the admins' dashboard (the core knows no URLs or keys)."""

    @property
    def link_minutes(self) -> int:
        """Return how many minutes a link stays good."""
        ...

    def link_for(self, workspace_id: int, person_external_id: str) -> str:
        """Return a sign-in link for one admin of one workspace."""
        ...


class Clock(Protocol):
    """Tell the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """Return the current instant."""
        ...


class SystemClock:
    """Read the real clock."""

    def now(self) -> datetime:
        """Return the current instant."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to, for previews and time-travel tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """Return the current instant."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self._now += delta
