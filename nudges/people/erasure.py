"""Erase a person: their rows go, anonymous counts stay, and a tombstone keeps them from returning.

Pulse answers carry no person, so an erasure keeps them as the anonymous counts they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryStatus
from nudges.people.poll_totals import freeze_polls
from nudges.people.tombstones import came_back, id_hash, pseudonym
from nudges.store import marks
from nudges.store.audit import AuditEntry
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.pulse import PulseParticipation
from nudges.store.rights import ForgottenPerson
from nudges.store.workweeks import TimeOff, WorkPattern


@dataclass(frozen=True)
class Erased:
    """Say what an erasure removed."""

    pseudonym: str
    rows: int


def _pseudonymise(value: Any, external_id: str, alias: str) -> Any:
    """Replace a platform id wherever it appears in stored JSON."""
    if isinstance(value, str):
        return value.replace(external_id, alias)
    if isinstance(value, list):
        return [_pseudonymise(item, external_id, alias) for item in value]
    if isinstance(value, dict):
        return {key: _pseudonymise(item, external_id, alias) for key, item in value.items()}
    return value


async def forget_person(
    session: AsyncSession, workspace: Workspace, person: Person, now: datetime
) -> Erased:
    """Erase a person's data; anonymous counts stay, and a tombstone keeps them from returning."""
    external_id = person.external_id
    alias = pseudonym(workspace, external_id)
    # Closed polls keep their counts although this person's participation goes.
    polls = (
        await session.scalars(
            select(PulseParticipation.poll_id).where(PulseParticipation.person_id == person.id)
        )
    ).all()
    await freeze_polls(session, list(polls), now)
    removed = 0
    statements = [
        delete(PulseParticipation).where(PulseParticipation.person_id == person.id),
        delete(Commitment).where(Commitment.manager_id == person.id),
        update(Commitment).where(Commitment.member_id == person.id).values(member_id=None),
        # A nudge about them planned ahead and not sent yet goes; the next pass plans anew.
        delete(Delivery).where(
            Delivery.subject_id == person.id, Delivery.status == DeliveryStatus.PENDING.value
        ),
        update(Delivery).where(Delivery.subject_id == person.id).values(subject_id=None),
        delete(Delivery).where(Delivery.recipient_id == person.id),
        delete(ReportingLine).where(
            or_(ReportingLine.manager_id == person.id, ReportingLine.member_id == person.id)
        ),
        delete(CadenceRule).where(CadenceRule.person_id == person.id),
        delete(WorkPattern).where(WorkPattern.person_id == person.id),
        delete(TimeOff).where(TimeOff.person_id == person.id),
        update(AuditEntry).where(AuditEntry.actor_id == person.id).values(actor_id=None),
    ]
    for statement in statements:
        result = await session.execute(statement.execution_options(synchronize_session=False))
        removed += max(getattr(result, "rowcount", 0) or 0, 0)
    # The replicas' short marks (a reply cooldown, an open Home) name the person too.
    removed += await marks.forget(session, workspace.platform, workspace.external_id, external_id)
    entries = await session.scalars(
        select(AuditEntry).where(AuditEntry.workspace_id == workspace.id)
    )
    for entry in entries:
        target = _pseudonymise(entry.target, external_id, alias)
        details = _pseudonymise(entry.details, external_id, alias)
        if target != entry.target or details != entry.details:
            entry.target = target
            entry.details = details
            removed += 1
    await session.delete(person)
    # Someone erased before who came back through an event rather than a command may still
    # have a tombstone; one is enough.
    await came_back(session, workspace, external_id)
    session.add(
        ForgottenPerson(
            workspace_id=workspace.id, id_hash=id_hash(workspace, external_id), forgotten_at=now
        )
    )
    await session.flush()
    return Erased(alias, removed + 1)
