"""Map workspaces, people and who reports to whom."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nudges.domain import DEFAULT_COUNTRY, DEFAULT_LOCALE, DEFAULT_TIMEZONE
from nudges.store.base import Base, UTCDateTime, utcnow


class Workspace(Base):
    """A Slack workspace or a Teams tenant the bot serves."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    default_locale: Mapped[str] = mapped_column(String(8), default=DEFAULT_LOCALE)
    default_timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    country: Mapped[str | None] = mapped_column(String(8), default=DEFAULT_COUNTRY)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Person(Base):
    """Someone in a workspace: the platform's user id and the name the platform shows."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(128))
    # The name the platform shows for them, refreshed whenever their profile is read.
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    # Who set the zone when not a person or an admin: "platform" (the chat client) or "outlook"
    # (Outlook working hours); None is an explicit choice (or unknown), which nothing overrides.
    timezone_source: Mapped[str | None] = mapped_column(String(16), default=None)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[date | None] = mapped_column(Date, default=None)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # None means every kind; a list limits the planner to those kinds.
    enabled_kinds: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    programme: Mapped[str | None] = mapped_column(String(64), default=None)
    programme_started_on: Mapped[date | None] = mapped_column(Date, default=None)
    # Public holidays of this country (or subdivision, like DE-BY); None means the workspace's.
    country: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ReportingLine(Base):
    """Say that ``member`` reports to ``manager``, in an optional named team."""

    __tablename__ = "reporting_lines"
    __table_args__ = (UniqueConstraint("manager_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    manager_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    team: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
