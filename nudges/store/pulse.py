"""Map pulse polls, their anonymous answers, who took part, and the admins' own questions.

Answers and participation live in separate tables that share only the poll: an answer has no
person, no timestamp and a random primary key, so nothing in the database ties it to whoever
gave it. Participation says who was asked and who answered, for reminders and to count each
person once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
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


class PulseAnswer(Base):
    """One anonymous answer: its poll, the hash of its answer key, and the value 1 to 5.

    There is deliberately no person, no timestamp and no sequential id. ``key_hash`` lets the
    recipient change the answer with the key in their own message; it is erased when the poll
    closes. On SQLite the table has no rowid, so not even storage order follows answer order.
    """

    __tablename__ = "pulse_answers"
    __table_args__ = (
        UniqueConstraint("poll_id", "key_hash"),
        CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_polls.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    value: Mapped[int] = mapped_column(SmallInteger)


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
