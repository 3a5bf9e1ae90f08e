"""Map what personal-data rights leave behind: tombstones of erased people, frozen poll totals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class ForgottenPerson(Base):
    """Say that a person was erased, by a keyed hash of their platform id only.

    The hash lets the bot tell that someone who shows up again was erased before (so nothing
    but their own use of the bot brings them back); it names nobody by itself.
    """

    __tablename__ = "forgotten_people"
    __table_args__ = (UniqueConstraint("workspace_id", "id_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    id_hash: Mapped[str] = mapped_column(String(64))
    forgotten_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PollTotals(Base):
    """A closed poll's counts, kept when the rows they were counted from are erased or expire."""

    __tablename__ = "pulse_poll_totals"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("pulse_polls.id", ondelete="CASCADE"), primary_key=True
    )
    answered: Mapped[int] = mapped_column(Integer)
    invited: Mapped[int] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)
    answer_sum: Mapped[int] = mapped_column(Integer)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
