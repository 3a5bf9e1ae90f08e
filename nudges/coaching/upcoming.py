"""Tell when a person's next scheduled nudge goes out, exactly as the dispatcher would plan it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import idempotency_key
from nudges.domain import DeliveryKind
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import NoAllowedDayError, Occurrence, next_occurrence
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

# Periods already taken (by send-now) are skipped; a handful is plenty, it bounds the loop.
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
        key = idempotency_key(DeliveryKind.NUDGE, person.id, occurrence.period_key)
        taken = await session.scalar(select(Delivery.id).where(Delivery.idempotency_key == key))
        if taken is None:
            return occurrence
        after = occurrence.utc
    return None
