"""Map working weeks (workspace, team and person level) and each person's time off."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class WorkPattern(Base):
    """The weekdays and hours one scope works.

    ``scope_key`` is ``workspace``, ``team:<name>`` or ``person:<id>``, as for cadence rules;
    ``source`` says who set it (``admin``, ``self`` or ``outlook``) so a synced value never
    overwrites a choice a person or an admin made.
    """

    __tablename__ = "work_patterns"
    __table_args__ = (UniqueConstraint("workspace_id", "scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String(140))
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), default=None
    )
    # Weekday numbers (Monday is 0) joined by commas: "0,1,2,3".
    days: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    source: Mapped[str] = mapped_column(String(16), default="admin")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TimeOff(Base):
    """One stretch of leave, first and last day included, in the person's own calendar."""

    __tablename__ = "time_off"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
