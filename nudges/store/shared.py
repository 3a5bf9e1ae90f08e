"""Map what the replicas of one deployment share through the store instead of their memory.

Sealed download files (any replica serves the link), short marks with an expiry (a direct
message's reply cooldown, an open Home and its pending republish) and each workspace's send
pace (one token bucket for every process that sends).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime


class SealedDownload(Base):
    """A file waiting to be downloaded through its link, sealed under a key only the link holds."""

    __tablename__ = "sealed_downloads"

    # A hash of the link's secret token: the store alone can neither find nor open the file.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Mark(Base):
    """A named fact that holds until a moment: taken by one replica, seen by all."""

    __tablename__ = "edge_marks"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SendPace(Base):
    """When the workspace's next send may start, whichever process sends it."""

    __tablename__ = "send_pace"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
