"""An in-memory Messenger: records what would be sent and can be told to fail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from nudges.messages import Message
from nudges.ports import DeliveryError, MessageRef, Recipient


@dataclass
class Sent:
    recipient: Recipient
    message: Message
    ref: MessageRef
    updates: list[Message] = field(default_factory=list)


@dataclass
class SentFile:
    recipient: Recipient
    filename: str
    data: bytes
    message: str


class InMemoryMessenger:
    """Keep every message in a list; ``fail_next`` queues errors for the next sends."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[Sent] = []
        self.files: list[SentFile] = []
        self.failures: list[DeliveryError] = []
        self.delay = delay
        self._counter = 0

    def fail_next(self, *errors: DeliveryError) -> None:
        self.failures.extend(errors)

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        self._counter += 1
        ref = MessageRef(f"D-{recipient.user_external_id}", f"{self._counter}.000")
        self.sent.append(Sent(recipient, message, ref))
        return ref

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        for item in self.sent:
            if item.ref == ref:
                item.updates.append(message)
                return
        raise DeliveryError("message_not_found", permanent=True)

    async def send_file(
        self, recipient: Recipient, filename: str, data: bytes, message: str
    ) -> MessageRef:
        if self.failures:
            raise self.failures.pop(0)
        self._counter += 1
        ref = MessageRef(f"D-{recipient.user_external_id}", f"F{self._counter}")
        self.files.append(SentFile(recipient, filename, data, message))
        return ref

    def to(self, user: str) -> list[Sent]:
        return [s for s in self.sent if s.recipient.user_external_id == user]
