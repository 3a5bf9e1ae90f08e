"""Hold the vocabulary every part of the core shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    """Name a chat platform the bot speaks to."""

    SLACK = "slack"
    TEAMS = "teams"


class Kind(StrEnum):
    """Name a kind of nudge."""

    COFFEE_CHECKIN = "coffee_checkin"
    EXPECTATIONS = "expectations"
    COMMITMENT_FOLLOWUP = "commitment_followup"
    LISTENING = "listening"
    CHECK_ASSUMPTION = "check_assumption"
    SHARE_PERSONAL = "share_personal"
    REFLECT_BACK = "reflect_back"
    PHONE_FREE = "phone_free"
    MAKE_ROOM = "make_room"
    OPEN_QUESTIONS = "open_questions"
    RECOGNITION = "recognition"
    OWN_MISTAKE = "own_mistake"
    RETROSPECTIVE = "retrospective"
    FEEDBACK = "feedback"
    COMMON_GROUND = "common_ground"
    EMPATHY = "empathy"


class Dimension(StrEnum):
    """Name a pulse dimension that nudges serve and polls measure."""

    HEARD = "heard"
    CLARITY = "clarity"
    WORKLOAD = "workload"
    TRUST = "trust"
    RECOGNITION = "recognition"
    CONNECTION = "connection"


class Frequency(StrEnum):
    """Name how often a cadence repeats."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    WEEKDAYS = "weekdays"


class Scope(StrEnum):
    """Name the level a cadence rule applies at; the most specific wins."""

    WORKSPACE = "workspace"
    TEAM = "team"
    PERSON = "person"


class DeliveryKind(StrEnum):
    """Name what a delivery carries."""

    NUDGE = "nudge"
    FOLLOWUP = "followup"
    SAMPLE = "sample"
    PULSE = "pulse"
    PULSE_REMINDER = "pulse_reminder"
    DIGEST = "digest"


class DeliveryStatus(StrEnum):
    """Name the life-cycle states of a delivery."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NudgeState(StrEnum):
    """Name what a manager did with a delivered nudge."""

    OPEN = "open"
    DONE = "done"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"
    NOT_RELEVANT = "not_relevant"


class CommitmentState(StrEnum):
    """Name the life-cycle states of a commitment a manager noted."""

    OPEN = "open"
    DONE = "done"
    MOVED = "moved"
    DROPPED = "dropped"


LOCALES: tuple[str, ...] = ("en", "nl")
DEFAULT_LOCALE = "en"
DEFAULT_TIMEZONE = "Europe/Amsterdam"
DEFAULT_COUNTRY = "NL"


@dataclass(frozen=True)
class DimensionSignal:
    """What the pulse says about one dimension: a boost for its nudges and the reason why.

    The pulse feature fills these in; with none, the planner rotates on its own.
    """

    dimension: Dimension
    boost: float
    reason_key: str
    reason_params: Mapping[str, str | int] = field(default_factory=dict)
