"""Answer personal-data requests: export what is stored about a person, erase it, expire old rows.

Nothing here ever reads a pulse answer for a person: answers carry no person, so an export has
none to give, and an erasure keeps them as the anonymous counts they are.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryStatus
from nudges.i18n import t
from nudges.store import marks
from nudges.store.audit import AuditEntry, audit_entry
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll
from nudges.store.rights import ForgottenPerson, PollTotals
from nudges.store.workweeks import TimeOff, WorkPattern

logger = logging.getLogger(__name__)

SALT_KEY = "privacy_salt"
RETENTION_ANSWERS = "retention_answers_months"
RETENTION_DELIVERIES = "retention_deliveries_months"
RETENTION_KEYS = {"answers": RETENTION_ANSWERS, "deliveries": RETENTION_DELIVERIES}
# Rows still waiting to be sent are work, not history: retention never touches them.
_UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
EXPORT_VERSION = 1


def _salt(workspace: Workspace) -> str:
    """Return the workspace's tombstone key, creating it on first use."""
    settings = dict(workspace.settings or {})
    salt = settings.get(SALT_KEY)
    if not isinstance(salt, str):
        salt = secrets.token_hex(32)
        workspace.settings = {**settings, SALT_KEY: salt}
    return salt


def id_hash(workspace: Workspace, external_id: str) -> str:
    """Return the keyed hash that stands for an erased person's platform id."""
    return hmac.new(_salt(workspace).encode(), external_id.encode(), hashlib.sha256).hexdigest()


def pseudonym(workspace: Workspace, external_id: str) -> str:
    """Return the name an erased person keeps in the audit log."""
    return "erased-" + id_hash(workspace, external_id)[:12]


def _has_salt(workspace: Workspace) -> bool:
    # Without a key nobody was ever erased here, and nothing needs writing to find that out.
    return isinstance((workspace.settings or {}).get(SALT_KEY), str)


async def is_forgotten(session: AsyncSession, workspace: Workspace, external_id: str) -> bool:
    """Tell whether this platform id belongs to someone erased, who has not come back since."""
    if not _has_salt(workspace):
        return False
    found = await session.scalar(
        select(ForgottenPerson.id).where(
            ForgottenPerson.workspace_id == workspace.id,
            ForgottenPerson.id_hash == id_hash(workspace, external_id),
        )
    )
    return found is not None


async def came_back(session: AsyncSession, workspace: Workspace, external_id: str) -> None:
    """Drop the tombstone of someone erased who uses the bot again of their own accord."""
    if not _has_salt(workspace):
        return
    await session.execute(
        delete(ForgottenPerson).where(
            ForgottenPerson.workspace_id == workspace.id,
            ForgottenPerson.id_hash == id_hash(workspace, external_id),
        )
    )


# --- frozen poll totals ---


async def freeze_polls(session: AsyncSession, poll_ids: list[int], now: datetime) -> int:
    """Store the counts of closed polls before the rows they come from go; return how many."""
    if not poll_ids:
        return 0
    frozen = set(
        (
            await session.scalars(
                select(PollTotals.poll_id).where(PollTotals.poll_id.in_(poll_ids))
            )
        ).all()
    )
    closed = (
        await session.scalars(
            select(PulsePoll.id).where(PulsePoll.id.in_(poll_ids), PulsePoll.closed.is_(True))
        )
    ).all()
    todo = [poll_id for poll_id in closed if poll_id not in frozen]
    if not todo:
        return 0
    answered = dict(
        (
            await session.execute(
                select(PulseParticipation.poll_id, func.count())
                .where(PulseParticipation.poll_id.in_(todo), PulseParticipation.answered.is_(True))
                .group_by(PulseParticipation.poll_id)
            )
        ).all()
    )
    invited = dict(
        (
            await session.execute(
                select(PulseParticipation.poll_id, func.count())
                .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
                .where(
                    PulseParticipation.poll_id.in_(todo),
                    Delivery.status == DeliveryStatus.SENT.value,
                )
                .group_by(PulseParticipation.poll_id)
            )
        ).all()
    )
    sums = {
        poll_id: (int(count), int(total or 0))
        for poll_id, count, total in (
            await session.execute(
                select(PulseAnswer.poll_id, func.count(), func.sum(PulseAnswer.value))
                .where(PulseAnswer.poll_id.in_(todo))
                .group_by(PulseAnswer.poll_id)
            )
        ).all()
    }
    for poll_id in todo:
        count, total = sums.get(poll_id, (0, 0))
        session.add(
            PollTotals(
                poll_id=poll_id,
                answered=int(answered.get(poll_id, 0)),
                invited=max(int(invited.get(poll_id, 0)), int(answered.get(poll_id, 0))),
                answers=count,
                answer_sum=total,
                frozen_at=now,
            )
        )
    await session.flush()
    return len(todo)


# --- export ---


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


# --- erasure ---


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


# --- retention ---


def months_ago(now: datetime, months: int) -> datetime:
    """Return the same moment ``months`` calendar months earlier (clamped to the month's end)."""
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, _days_in(year, month + 1))
    return now.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_next - timedelta(days=1)).day


def retention_of(workspace: Workspace) -> dict[str, int | None]:
    """Return the workspace's retention in months per kind of row; None keeps them."""
    settings = workspace.settings or {}
    out: dict[str, int | None] = {}
    for kind, key in RETENTION_KEYS.items():
        value = settings.get(key)
        out[kind] = value if isinstance(value, int) and value > 0 else None
    return out


@dataclass(frozen=True)
class Expired:
    """Say what one retention run deleted in one workspace."""

    polls: int
    answers: int
    participation: int
    deliveries: int

    @property
    def anything(self) -> bool:
        """Tell whether anything was deleted."""
        return bool(self.answers or self.participation or self.deliveries)


async def apply_retention(session: AsyncSession, workspace: Workspace, now: datetime) -> Expired:
    """Delete raw answers and old deliveries past the workspace's retention, keeping totals."""
    keep = retention_of(workspace)
    polls = answers = participation = deliveries = 0
    if keep["answers"] is not None:
        cutoff = months_ago(now, keep["answers"])
        old = list(
            (
                await session.scalars(
                    select(PulsePoll.id).where(
                        PulsePoll.workspace_id == workspace.id,
                        PulsePoll.closed.is_(True),
                        PulsePoll.closes_at < cutoff,
                    )
                )
            ).all()
        )
        if old:
            polls = await freeze_polls(session, old, now)
            answers = _count(
                await session.execute(delete(PulseAnswer).where(PulseAnswer.poll_id.in_(old)))
            )
            participation = _count(
                await session.execute(
                    delete(PulseParticipation).where(PulseParticipation.poll_id.in_(old))
                )
            )
    if keep["deliveries"] is not None:
        cutoff = months_ago(now, keep["deliveries"])
        expiring = (
            select(Delivery.id)
            .where(
                Delivery.workspace_id == workspace.id,
                Delivery.scheduled_at < cutoff,
                Delivery.status.not_in(_UNFINISHED),
            )
            .scalar_subquery()
        )
        # A poll's invited count is read through its deliveries: freeze it before they go.
        touched = (
            await session.scalars(
                select(PulseParticipation.poll_id)
                .where(PulseParticipation.delivery_id.in_(expiring))
                .distinct()
            )
        ).all()
        polls += await freeze_polls(session, list(touched), now)
        await session.execute(
            update(PulseParticipation)
            .where(PulseParticipation.delivery_id.in_(expiring))
            .values(delivery_id=None)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(Commitment)
            .where(Commitment.source_delivery_id.in_(expiring))
            .values(source_delivery_id=None)
            .execution_options(synchronize_session=False)
        )
        deliveries = _count(
            await session.execute(
                delete(Delivery)
                .where(
                    Delivery.workspace_id == workspace.id,
                    Delivery.scheduled_at < cutoff,
                    Delivery.status.not_in(_UNFINISHED),
                )
                .execution_options(synchronize_session=False)
            )
        )
    expired = Expired(polls, answers, participation, deliveries)
    if expired.anything:
        session.add(
            audit_entry(
                workspace_id=workspace.id,
                actor_id=None,
                action="retention.expire",
                target="workspace",
                details={
                    "answers": answers,
                    "participation": participation,
                    "deliveries": deliveries,
                    "polls_frozen": polls,
                },
                when=now,
            )
        )
    return expired


def _count(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def run_retention(db: Database, now: datetime) -> dict[int, Expired]:
    """Apply retention in every workspace that has it set, one transaction each."""
    async with db.session() as session:
        workspaces = (await session.scalars(select(Workspace.id))).all()
    done: dict[int, Expired] = {}
    for workspace_id in workspaces:
        async with db.session() as session:
            workspace = await session.get(Workspace, workspace_id)
            if workspace is None or not any(retention_of(workspace).values()):
                continue
            done[workspace_id] = await apply_retention(session, workspace, now)
            await session.commit()
        if done[workspace_id].anything:
            logger.info(
                "retention in workspace %s: %d answers, %d participation rows, %d deliveries",
                workspace_id,
                done[workspace_id].answers,
                done[workspace_id].participation,
                done[workspace_id].deliveries,
            )
    return done
