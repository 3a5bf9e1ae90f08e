"""Record and change anonymous answers, and seal a poll's answers when it closes.

The answer key is random, made when the poll message is composed, and lives only in that
message's buttons; the store keeps a hash of it next to the answer, so the recipient can change
their answer and nobody else can tie it to them. Whether someone answered is recorded apart,
and a person counts once however many keys they hold.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll

SCALE = (1, 2, 3, 4, 5)
SEPARATOR = ":"
_shuffler = random.SystemRandom()


class AnswerOutcome(StrEnum):
    """Say what happened to a click on an answer button."""

    RECORDED = "recorded"
    CHANGED = "changed"
    CLOSED = "closed"
    NOT_ASKED = "not_asked"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ButtonValue:
    """What an answer button carries: the poll, the recipient's answer key and the value."""

    poll_id: int
    key: str
    value: int

    def encode(self) -> str:
        """Serialise for a button's value."""
        return SEPARATOR.join((str(self.poll_id), self.key, str(self.value)))

    @classmethod
    def decode(cls, raw: str) -> ButtonValue | None:
        """Parse a button's value, or return None when it is not one of ours."""
        parts = raw.split(SEPARATOR)
        if len(parts) != 3 or not parts[1]:
            return None
        try:
            poll_id, value = int(parts[0]), int(parts[2])
        except ValueError:
            return None
        if value not in SCALE:
            return None
        return cls(poll_id, parts[1], value)


def new_answer_key() -> str:
    """Return a fresh random answer key (128 bits); it is never stored."""
    return secrets.token_urlsafe(16)


def key_hash(poll_id: int, key: str) -> str:
    """Hash an answer key for storage; the poll id keeps equal keys of two polls apart."""
    return hashlib.sha256(f"{poll_id}{SEPARATOR}{key}".encode()).hexdigest()


def is_open(poll: PulsePoll, now: datetime) -> bool:
    """Tell whether the poll still takes answers."""
    return not poll.closed and now < poll.closes_at


async def record_answer(
    session: AsyncSession, poll: PulsePoll, person_id: int, button: ButtonValue, now: datetime
) -> AnswerOutcome:
    """Store a first answer or change an earlier one; the caller commits."""
    if not is_open(poll, now):
        return AnswerOutcome.CLOSED
    participation = await session.scalar(
        select(PulseParticipation.id).where(
            PulseParticipation.poll_id == poll.id, PulseParticipation.person_id == person_id
        )
    )
    if participation is None:
        return AnswerOutcome.NOT_ASKED
    hashed = key_hash(poll.id, button.key)
    # Flip the flag only if it was unset: a second key (a resent message) cannot add an answer.
    first = await session.scalar(
        update(PulseParticipation)
        .where(PulseParticipation.id == participation, PulseParticipation.answered.is_(False))
        .values(answered=True)
        .returning(PulseParticipation.id)
    )
    if first is not None:
        await session.execute(
            insert(PulseAnswer).values(
                id=str(uuid.uuid4()), poll_id=poll.id, key_hash=hashed, value=button.value
            )
        )
        return AnswerOutcome.RECORDED
    changed = await session.scalar(
        update(PulseAnswer)
        .where(PulseAnswer.poll_id == poll.id, PulseAnswer.key_hash == hashed)
        .values(value=button.value)
        .returning(PulseAnswer.id)
    )
    return AnswerOutcome.CHANGED if changed is not None else AnswerOutcome.ANSWERED_ELSEWHERE


async def seal(session: AsyncSession, poll: PulsePoll) -> bool:
    """Close a poll once; return False when another worker already did.

    Answers are rewritten in random order under new ids and without their key hashes, so no
    message key or storage order links them to anyone any more. A poll that stayed below its
    own threshold can never be shown (a threshold only ever rises), so its answers are dropped.
    """
    won = await session.scalar(
        update(PulsePoll)
        .where(PulsePoll.id == poll.id, PulsePoll.closed.is_(False))
        .values(closed=True)
        .returning(PulsePoll.id)
        .execution_options(synchronize_session=False)
    )
    if won is None:
        return False
    values = list(
        await session.scalars(select(PulseAnswer.value).where(PulseAnswer.poll_id == poll.id))
    )
    await session.execute(delete(PulseAnswer).where(PulseAnswer.poll_id == poll.id))
    if len(values) >= poll.threshold:
        _shuffler.shuffle(values)
        await session.execute(
            insert(PulseAnswer),
            [
                {"id": str(uuid.uuid4()), "poll_id": poll.id, "key_hash": None, "value": v}
                for v in values
            ],
        )
    poll.closed = True
    return True
