"""Tell when a person's next scheduled nudge goes out, exactly as the dispatcher would plan it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import idempotency_key
from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import NoAllowedDayError, Occurrence, next_occurrence
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

# Periods already taken (sent, or sent early by send-now) are skipped; a nudge planned ahead
# for its slot is that slot's. A handful is plenty, it bounds the loop.
MAX_SKIPPED_PERIODS = 8


async def next_free_occurrence(
    session: AsyncSession, workspace: Workspace, person: Person, now: datetime
) -> Occurrence | None:
    """Return the next occurrence that will produce a nudge: after any pause, not yet taken."""
    spec, _source = await directory.effective_cadence(session, workspace, person)
    availability = await workweeks.availability_of(session, workspace, person)
    after = now
    today = directory.local_today(workspace, person, now)
    if person.paused_until is not None and person.paused_until >= today:
        # The dispatcher skips every occurrence on or before the last paused day.
        resume = datetime.combine(person.paused_until + timedelta(days=1), time(0))
        after = max(after, resume.replace(tzinfo=availability.timezone) - timedelta(seconds=1))
    for _ in range(MAX_SKIPPED_PERIODS):
        try:
            occurrence = next_occurrence(spec, availability, after)
        except NoAllowedDayError:
            return None
        stored = await stored_nudge(session, person, occurrence)
        if stored is None or is_planned(stored):
            return occurrence
        after = occurrence.utc
    return None


async def stored_nudge(
    session: AsyncSession, person: Person, occurrence: Occurrence
) -> Delivery | None:
    """Return the nudge stored for ``occurrence``: planned ahead, sent, or taken by send-now."""
    key = idempotency_key(DeliveryKind.NUDGE, person.id, occurrence.period_key)
    found: Delivery | None = await session.scalar(
        select(Delivery).where(Delivery.idempotency_key == key)
    )
    return found


def is_planned(delivery: Delivery) -> bool:
    """Tell whether a stored nudge is planned ahead and still to go out at its slot."""
    explicit = (delivery.payload or {}).get("explicit")
    return delivery.status == DeliveryStatus.PENDING.value and not explicit
