"""Record and change answers to open polls, and write them out when a poll closes.

An answer to an open poll waits sealed in ``pulse_pending`` beside its participation: the
person who clicked is known from the platform, so they can change it without any key in their
message, and a crash loses nothing. Nobody holding the database can open it (see
``nudges.pulse.sealing``). Plain answers exist only once the poll closes: they are written all
at once, in random order, in the transaction that deletes the sealed ones, so no transaction id,
storage position, commit or log line ties one of them to a person. See docs/privacy.md.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.pulse import sealing
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePending, PulsePoll

logger = logging.getLogger(__name__)

SCALE = (1, 2, 3, 4, 5)
SEPARATOR = ":"
_shuffler = random.SystemRandom()


class AnswerOutcome(StrEnum):
    """Say what happened to a click on an answer button."""

    RECORDED = "recorded"
    CHANGED = "changed"
    CLOSED = "closed"
    NOT_ASKED = "not_asked"
    # Answered before answers were sealed: it counts, but nothing can find it to change it.
    LOCKED = "locked"
    UNKNOWN = "unknown"
    # A newer click of the same person was stored: this older one is dropped, silently.
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class ButtonValue:
    """What an answer button carries: the poll and the value, nothing about who holds it."""

    poll_id: int
    value: int

    def encode(self) -> str:
        """Serialise for a button's value."""
        return SEPARATOR.join((str(self.poll_id), str(self.value)))

    @classmethod
    def decode(cls, raw: str) -> ButtonValue | None:
        """Parse a button's value, or return None when it is not one of ours.

        Messages sent before answers were sealed carry ``poll:key:value``; the key is ignored.
        """
        parts = raw.split(SEPARATOR)
        if len(parts) == 3 and parts[1]:
            parts = [parts[0], parts[2]]
        if len(parts) != 2:
            return None
        try:
            poll_id, value = int(parts[0]), int(parts[1])
        except ValueError:
            return None
        if value not in SCALE:
            return None
        return cls(poll_id, value)


def is_open(poll: PulsePoll, now: datetime) -> bool:
    """Tell whether the poll still takes answers."""
    return not poll.closed and now < poll.closes_at


async def record_answer(
    session: AsyncSession, poll: PulsePoll, person_id: int, button: ButtonValue, now: datetime
) -> AnswerOutcome:
    """Seal a first answer or replace the sealed one; the caller commits."""
    if not is_open(poll, now):
        return AnswerOutcome.CLOSED
    participation = await session.scalar(
        select(PulseParticipation.id).where(
            PulseParticipation.poll_id == poll.id, PulseParticipation.person_id == person_id
        )
    )
    if participation is None:
        return AnswerOutcome.NOT_ASKED
    sealer = sealing.current()
    sealed = sealer.seal(poll.id, participation, button.value)
    # Flip the flag only if it was unset: a second click (or a second message) adds nothing.
    first = await session.scalar(
        update(PulseParticipation)
        .where(PulseParticipation.id == participation, PulseParticipation.answered.is_(False))
        .values(answered=True)
        .returning(PulseParticipation.id)
        .execution_options(synchronize_session=False)
    )
    if first is not None:
        # A sealed row left by a lost key would block the insert; the new answer replaces it.
        await session.execute(
            delete(PulsePending).where(PulsePending.participation_id == participation)
        )
        await session.execute(
            insert(PulsePending).values(
                id=str(uuid.uuid4()),
                poll_id=poll.id,
                participation_id=participation,
                key_id=sealer.key_id,
                sealed=sealed,
            )
        )
        return AnswerOutcome.RECORDED
    changed = await session.scalar(
        update(PulsePending)
        .where(PulsePending.participation_id == participation)
        .values(key_id=sealer.key_id, sealed=sealed)
        .returning(PulsePending.id)
        .execution_options(synchronize_session=False)
    )
    return AnswerOutcome.CHANGED if changed is not None else AnswerOutcome.LOCKED


async def forget_lost(session: AsyncSession, workspace_id: int) -> list[int]:
    """Drop sealed answers whose key is gone and mark their people as not answered.

    Without a configured secret the key lives only in the process, so a restart loses the
    answers of open polls; their people are then asked again rather than counted without an
    answer. Return the poll deliveries to re-render, so their messages take answers again.
    """
    sealer = sealing.current()
    rows = (
        await session.execute(
            select(PulsePending.id, PulseParticipation.id, PulseParticipation.delivery_id)
            .join(PulseParticipation, PulseParticipation.id == PulsePending.participation_id)
            .join(PulsePoll, PulsePoll.id == PulsePending.poll_id)
            .where(
                PulsePoll.workspace_id == workspace_id,
                PulsePoll.closed.is_(False),
                PulsePending.key_id != sealer.key_id,
            )
        )
    ).all()
    if not rows:
        return []
    await session.execute(delete(PulsePending).where(PulsePending.id.in_([r[0] for r in rows])))
    await session.execute(
        update(PulseParticipation)
        .where(PulseParticipation.id.in_([r[1] for r in rows]))
        .values(answered=False)
        .execution_options(synchronize_session=False)
    )
    logger.warning(
        "%d pulse answers were sealed under a key this process does not hold; "
        "those people will be asked again (NUDGEBOT_SECRET_KEY keeps them across restarts)",
        len(rows),
    )
    return sorted(r[2] for r in rows if r[2] is not None)


async def seal(session: AsyncSession, poll: PulsePoll) -> bool:
    """Close a poll once and write its answers; return False when another worker already did.

    The sealed answers are opened, shuffled and inserted in one statement under random ids,
    and the sealed rows deleted, in the caller's transaction, which touches no participation
    unless an answer was lost. A poll below its own threshold can never be shown (a threshold
    only ever rises), so its answers are dropped unread.
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
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        # Deleted sealed rows are overwritten with zeros rather than left in free space.
        await session.execute(text("PRAGMA secure_delete = ON"))
    sealer = sealing.current()
    pending = (
        await session.execute(
            select(PulsePending.participation_id, PulsePending.sealed).where(
                PulsePending.poll_id == poll.id
            )
        )
    ).all()
    values: list[int] = []
    lost: list[int] = []
    for participation_id, sealed in pending:
        value = sealer.open(poll.id, participation_id, sealed)
        if value is None or value not in SCALE:
            lost.append(participation_id)
        else:
            values.append(value)
    await session.execute(delete(PulsePending).where(PulsePending.poll_id == poll.id))
    if lost:
        # An answer nobody can read must not be counted as given.
        await session.execute(
            update(PulseParticipation)
            .where(PulseParticipation.id.in_(lost))
            .values(answered=False)
            .execution_options(synchronize_session=False)
        )
        logger.warning("pulse poll %s closed with %d unreadable answers", poll.id, len(lost))
    # Answers stored before they were sealed still count, and decide the threshold with the rest.
    earlier = await session.scalar(
        select(func.count()).select_from(PulseAnswer).where(PulseAnswer.poll_id == poll.id)
    )
    if len(values) + int(earlier or 0) < poll.threshold:
        await session.execute(delete(PulseAnswer).where(PulseAnswer.poll_id == poll.id))
    elif values:
        _shuffler.shuffle(values)
        await session.execute(
            insert(PulseAnswer),
            [{"id": str(uuid.uuid4()), "poll_id": poll.id, "value": v} for v in values],
        )
    poll.closed = True
    return True


async def scrub(db: Database) -> None:
    """Clear what closing polls left behind outside the live rows, once it is committed.

    On PostgreSQL the deleted sealed rows stay in their pages until a vacuum; on SQLite the
    write-ahead log keeps every earlier version of the pages until a checkpoint. Both hold only
    sealed answers, so this is depth, not the defence itself.
    """
    try:
        if db.engine.dialect.name == "postgresql":
            async with db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM pulse_pending"))
        elif db.engine.dialect.name == "sqlite":
            async with db.engine.connect() as conn:
                await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    except Exception as exc:  # a failed clean-up must never stop the tick
        logger.warning("could not scrub sealed pulse answers: %s", type(exc).__name__)
