"""Map the audit log of admin changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """Record who changed what, when; ``actor_id`` is empty for the operator's CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True, default=None
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


TARGET_MAX = 200


def audit_entry(
    *,
    workspace_id: int | None,
    actor_id: int | None,
    action: str,
    target: str,
    details: dict[str, Any],
    when: datetime,
) -> AuditEntry:
    """Build an audit entry, cutting the target to the column's size."""
    return AuditEntry(
        workspace_id=workspace_id,
        actor_id=actor_id,
        action=action,
        target=target[:TARGET_MAX],
        details=details,
        created_at=when,
    )
