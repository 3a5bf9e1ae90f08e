"""Map the events a platform delivered, so a redelivery never repeats a side effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class ProcessedEvent(Base):
    """One event id a platform sent, recorded when it first arrived."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Slack's event ids are short (Ev0PV52K21); the room is for other platforms' activity ids.
    event_id: Mapped[str] = mapped_column(String(255))
    workspace_external_id: Mapped[str] = mapped_column(String(128), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
