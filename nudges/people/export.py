"""Export what is stored about a person, with what each field means; never a pulse answer.

Answers carry no person, so an export has none to give.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.i18n import t
from nudges.store.audit import AuditEntry
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll
from nudges.store.workweeks import TimeOff, WorkPattern

EXPORT_VERSION = 1


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_person(
    session: AsyncSession, workspace: Workspace, person: Person, locale: str, now: datetime
) -> dict[str, Any]:
    """Collect everything stored about ``person``, with what each field means; no answers."""
    ids = await _external_ids(session, workspace.id)
    manages = await session.scalars(
        select(ReportingLine).where(ReportingLine.manager_id == person.id)
    )
    reports_to = await session.scalars(
        select(ReportingLine).where(ReportingLine.member_id == person.id)
    )
    rules = await session.scalars(select(CadenceRule).where(CadenceRule.person_id == person.id))
    weeks = await session.scalars(select(WorkPattern).where(WorkPattern.person_id == person.id))
    leave = await session.scalars(
        select(TimeOff).where(TimeOff.person_id == person.id).order_by(TimeOff.first_day)
    )
    messages = await session.scalars(
        select(Delivery).where(Delivery.recipient_id == person.id).order_by(Delivery.id)
    )
    named = await session.scalars(
        select(Delivery).where(Delivery.subject_id == person.id).order_by(Delivery.id)
    )
    promises = await session.scalars(
        select(Commitment)
        .where(or_(Commitment.manager_id == person.id, Commitment.member_id == person.id))
        .order_by(Commitment.id)
    )
    asked = await session.execute(
        select(PulsePoll.period_key, PulsePoll.team, PulseParticipation.answered)
        .join(PulsePoll, PulsePoll.id == PulseParticipation.poll_id)
        .where(PulseParticipation.person_id == person.id)
        .order_by(PulsePoll.id)
    )
    audit = await session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.workspace_id == workspace.id,
            or_(
                AuditEntry.actor_id == person.id,
                AuditEntry.target == f"person:{person.external_id}",
            ),
        )
        .order_by(AuditEntry.id)
    )
    data: dict[str, Any] = {
        "about": t(locale, "rights.export.about"),
        "exported_at": now.isoformat(),
        "format_version": EXPORT_VERSION,
        "person": {
            "platform": workspace.platform,
            "workspace": workspace.external_id,
            "user_id": person.external_id,
            "timezone": person.timezone,
            "holiday_country": person.country,
            "language": person.locale,
            "is_admin": person.is_admin,
            "opted_out": person.opted_out,
            "paused_until": _when(person.paused_until),
            "reachable": person.reachable,
            "unreachable_reason": person.unreachable_reason,
            "enabled_kinds": person.enabled_kinds,
            "programme": person.programme,
            "programme_started_on": _when(person.programme_started_on),
            "created_at": _when(person.created_at),
            "updated_at": _when(person.updated_at),
        },
        "manages": [
            {"member": ids.get(line.member_id), "team": line.team, "since": _when(line.created_at)}
            for line in manages
        ],
        "reports_to": [
            {
                "manager": ids.get(line.manager_id),
                "team": line.team,
                "since": _when(line.created_at),
            }
            for line in reports_to
        ],
        "cadence_rules": [
            {
                "purpose": rule.purpose,
                "frequency": rule.frequency,
                "weekday": rule.weekday,
                "ordinal": rule.ordinal,
                "at": rule.at_time,
                "enabled": rule.enabled,
            }
            for rule in rules
        ],
        "working_week": [
            {
                "days": row.days,
                "start": row.start_time,
                "end": row.end_time,
                "set_by": row.source,
            }
            for row in weeks
        ],
        "time_off": [{"from": _when(row.first_day), "to": _when(row.last_day)} for row in leave],
        "messages": [
            {
                "kind": row.kind,
                "content": row.content_key,
                "about": ids.get(row.subject_id) if row.subject_id else None,
                "reason": row.reason,
                "scheduled_at": _when(row.scheduled_at),
                "status": row.status,
                "sent_at": _when(row.sent_at),
                "outcome": row.outcome,
            }
            for row in messages
        ],
        "named_in_messages": [
            {
                "kind": row.kind,
                "to": ids.get(row.recipient_id),
                "scheduled_at": _when(row.scheduled_at),
            }
            for row in named
        ],
        "commitments": [
            {
                "text": row.text,
                "made_by": ids.get(row.manager_id),
                "to": ids.get(row.member_id) if row.member_id else None,
                "due_on": _when(row.due_on),
                "state": row.state,
                "created_at": _when(row.created_at),
            }
            for row in promises
        ],
        "pulse_polls_asked": [
            {"period": period, "team": team, "answered": bool(answered)}
            for period, team, answered in asked.all()
        ],
        "audit_log": [
            {
                "at": _when(entry.created_at),
                "by": ids.get(entry.actor_id) if entry.actor_id else None,
                "action": entry.action,
                "target": entry.target,
                "details": entry.details,
            }
            for entry in audit
        ],
    }
    data["fields"] = {
        name: t(locale, f"rights.export.fields.{name}") for name in data if name != "fields"
    }
    return data


def export_bytes(data: dict[str, Any]) -> bytes:
    """Serialise an export as readable UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


async def _external_ids(session: AsyncSession, workspace_id: int) -> dict[int, str]:
    rows = await session.execute(
        select(Person.id, Person.external_id).where(Person.workspace_id == workspace_id)
    )
    return dict(rows.all())
