"""Map cadence rules at workspace, team and person level."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class CadenceRule(Base):
    """How often a purpose (nudges, pulse polls) recurs for one scope.

    ``scope_key`` is ``workspace``, ``team:<name>`` or ``person:<id>``; it exists so a
    unique constraint can hold without relying on NULL semantics that differ per backend.
    """

    __tablename__ = "cadence_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "purpose", "scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), default="nudge")
    scope: Mapped[str] = mapped_column(String(16))
    scope_key: Mapped[str] = mapped_column(String(140))
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), default=None
    )
    frequency: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int | None] = mapped_column(Integer, default=None)
    ordinal: Mapped[int | None] = mapped_column(Integer, default=None)
    at_time: Mapped[str] = mapped_column(String(5))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
