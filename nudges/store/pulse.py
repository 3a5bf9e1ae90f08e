"""Map pulse polls, their anonymous answers, who took part, and the admins' own questions.

Answers and participation live in separate tables that share only the poll: an answer has no
person, no timestamp and a random primary key, and answers are written only when their poll
closes, all in one transaction and in random order, so nothing in the database ties one to
whoever gave it. Until then an answer waits sealed (encrypted under a key the database never
holds) in ``pulse_pending``, beside the participation that says who was asked and who answered.
See docs/privacy.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class PulsePoll(Base):
    """One question put to one group (a named team, or a manager's unnamed reports)."""

    __tablename__ = "pulse_polls"
    __table_args__ = (UniqueConstraint("workspace_id", "group_key", "period_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # ``team:<name>`` or ``manager:<person id>``: who is asked and whose manager sees the result.
    group_key: Mapped[str] = mapped_column(String(140))
    team: Mapped[str] = mapped_column(String(100), default="")
    period_key: Mapped[str] = mapped_column(String(32))
    # None for an admin's own question asked without a dimension.
    dimension: Mapped[str | None] = mapped_column(String(16), default=None)
    question_key: Mapped[str] = mapped_column(String(100))
    # Fixed when the poll opens; a later, higher workspace threshold still applies on top.
    threshold: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The weekdays its closing was counted in (the group's majority week), as "0,1,2,3".
    working_days: Mapped[str | None] = mapped_column(String(16), default=None)


class PulseAnswer(Base):
    """One anonymous answer of a closed poll: its poll and the value 1 to 5.

    There is deliberately no person, no timestamp, no sequential id and nothing that leads back
    to a message. Rows are written once, when the poll closes, all together in random order,
    and never changed. On SQLite the table has no rowid, so storage order follows the random id.
    """

    __tablename__ = "pulse_answers"
    __table_args__ = (
        CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_polls.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int] = mapped_column(SmallInteger)


class PulsePending(Base):
    """An answer to a poll still open, sealed under a key the database never holds.

    It belongs to its participation (so the person can change it and a crash loses nothing),
    which is harmless only because nobody holding the database can open it. ``key_id`` names
    the key it was sealed under; a row whose key is gone is a lost answer, and its person is
    asked again. Every row is deleted when the poll closes.
    """

    __tablename__ = "pulse_pending"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_polls.id", ondelete="CASCADE"), index=True
    )
    participation_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_participation.id", ondelete="CASCADE"), unique=True
    )
    key_id: Mapped[str] = mapped_column(String(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class PulseParticipation(Base):
    """Say that a person was asked a poll, whether they answered, and how often they were reminded.

    Holds no answer and no time of answering.
    """

    __tablename__ = "pulse_participation"
    __table_args__ = (UniqueConstraint("poll_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("pulse_polls.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # The poll message; participation counts only once it was actually sent.
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), default=None
    )
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)


class PulseCustomQuestion(Base):
    """A question an admin added to the workspace's bank, in the words they typed."""

    __tablename__ = "pulse_custom_questions"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str | None] = mapped_column(String(16), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PulseRetiredQuestion(Base):
    """A question (shipped or custom) the workspace no longer asks."""

    __tablename__ = "pulse_retired_questions"
    __table_args__ = (UniqueConstraint("workspace_id", "question_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(100))
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
