"""Import every mapped table so the metadata is complete for Alembic and queries."""

from nudges.store.audit import AuditEntry
from nudges.store.base import Base
from nudges.store.blackouts import BlackoutDate
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.pulse import (
    PulseAnswer,
    PulseCustomQuestion,
    PulseParticipation,
    PulsePoll,
    PulseRetiredQuestion,
)
from nudges.store.rights import ForgottenPerson, PollTotals
from nudges.store.schema_floor import SchemaFloor
from nudges.store.shared import Mark, SealedDownload, SendPace
from nudges.store.slack_events import ProcessedEvent
from nudges.store.workweeks import TimeOff, WorkPattern

metadata = Base.metadata

__all__ = [
    "AuditEntry",
    "Base",
    "BlackoutDate",
    "CadenceRule",
    "Commitment",
    "Delivery",
    "ForgottenPerson",
    "Mark",
    "Person",
    "PollTotals",
    "ProcessedEvent",
    "PulseAnswer",
    "PulseCustomQuestion",
    "PulseParticipation",
    "PulsePoll",
    "PulseRetiredQuestion",
    "ReportingLine",
    "SchemaFloor",
    "SealedDownload",
    "SendPace",
    "TimeOff",
    "WorkPattern",
    "Workspace",
    "metadata",
]
