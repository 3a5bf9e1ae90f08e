"""Keep each sandbox person's chat with the bot in memory, and deliver into it."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from nudges.messages import Message
from nudges.ports import Clock, DeliveryError, MessageRef, Recipient

EntryKind = Literal["bot", "you", "reply", "file"]
# An inbox never grows past this; the oldest entries go first.
MAX_ENTRIES = 200


@dataclass
class Entry:
    """One line of a chat: a bot message, what the person typed, or a reply only they see."""

    id: int
    kind: EntryKind
    at: datetime
    message: Message | None = None
    text: str = ""
    # A file the bot sent (a data export): its name and bytes.
    file: tuple[str, bytes] | None = None


@dataclass
class Inbox:
    """Every sandbox person's chat, keyed by the platform's workspace and person ids."""

    clock: Clock
    chats: dict[tuple[str, str], list[Entry]] = field(default_factory=lambda: defaultdict(list))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self,
        workspace: str,
        person: str,
        kind: EntryKind,
        *,
        message: Message | None = None,
        text: str = "",
        file: tuple[str, bytes] | None = None,
    ) -> Entry:
        """Append an entry to a person's chat and return it."""
        entry = Entry(next(self._ids), kind, self.clock.now(), message, text, file)
        chat = self.chats[(workspace, person)]
        chat.append(entry)
        del chat[:-MAX_ENTRIES]
        return entry

    def chat(self, workspace: str, person: str) -> list[Entry]:
        """Return a person's chat, oldest first."""
        return list(self.chats.get((workspace, person), []))

    def find(self, workspace: str, person: str, entry_id: int) -> Entry | None:
        """Return one entry of a person's chat."""
        for entry in self.chats.get((workspace, person), []):
            if entry.id == entry_id:
                return entry
        return None

    def clear(self) -> None:
        """Forget every chat."""
        self.chats.clear()


class SandboxMessenger:
    """Deliver neutral messages into the in-memory inbox (the ``Messenger`` port)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        """Append the message to the recipient's chat."""
        entry = self.inbox.add(
            recipient.workspace_external_id, recipient.user_external_id, "bot", message=message
        )
        return MessageRef(channel=recipient.user_external_id, message_id=str(entry.id))

    async def send_file(
        self, recipient: Recipient, filename: str, data: bytes, message: str
    ) -> MessageRef:
        """Put a file (a data export) into the recipient's chat, with its note."""
        entry = self.inbox.add(
            recipient.workspace_external_id,
            recipient.user_external_id,
            "file",
            text=message,
            file=(filename, data),
        )
        return MessageRef(channel=recipient.user_external_id, message_id=str(entry.id))

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        """Replace a delivered message in place."""
        try:
            entry_id = int(ref.message_id)
        except ValueError:
            raise DeliveryError("unknown message", permanent=True, scope="message") from None
        entry = self.inbox.find(recipient.workspace_external_id, ref.channel, entry_id)
        if entry is None:
            # Reset cleared the chat; the store may still name the old message.
            raise DeliveryError("message no longer in the sandbox", permanent=True, scope="message")
        entry.message = message
