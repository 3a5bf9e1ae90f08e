"""Map deliveries: every message the bot means to send, claimed before it is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nudges.domain import DeliveryStatus
from nudges.store.base import Base, UTCDateTime, utcnow


class Delivery(Base):
    """One message to one person for one occurrence, unique by its idempotency key."""

    __tablename__ = "deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    content_key: Mapped[str] = mapped_column(String(100), default="")
    period_key: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    # Renewed by the claimer's heartbeat: a claim older than the lease belongs to a dead worker.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Committed before the platform call: only a row with this set may already have gone out.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    message_ref: Mapped[str | None] = mapped_column(String(255), default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The platform's time of the newest click applied to the message: an older one that
    # reaches any replica later is dropped, so the person's last click wins.
    last_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
