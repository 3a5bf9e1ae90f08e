"""Decide whether a delivery may go now: opt-outs, pauses, working time and the weekly budget."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.ground import CANCELLED, FAILED, PENDING, SENT
from nudges.delivery.kinds import KindHandler
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import NoAllowedDayError, is_allowed_day, next_allowed_moment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

# Why a delivery does not go now: (status, reason, when to try again or None).
Verdict = tuple[str, str, datetime | None]


async def sent_this_week(
    session: AsyncSession,
    workspace: Workspace,
    people: Iterable[Person],
    now: datetime,
) -> dict[int, int]:
    """Count each person's messages since their own working week began, in one query."""
    mondays: dict[int, datetime] = {}
    for person in people:
        mondays[person.id] = await workweeks.budget_week_began(session, workspace, person, now)
    if not mondays:
        return {}
    rows = await session.execute(
        select(Delivery.recipient_id, Delivery.sent_at).where(
            Delivery.recipient_id.in_(list(mondays)),
            Delivery.status == SENT,
            Delivery.sent_at >= min(mondays.values()),
        )
    )
    counts: dict[int, int] = defaultdict(int)
    for recipient_id, sent_at in rows.all():
        if sent_at is not None and sent_at >= mondays[recipient_id]:
            counts[recipient_id] += 1
    return counts


class HoldBacks:
    """The checks every delivery passes just before it is sent, whatever its kind."""

    def __init__(self, handlers: Mapping[str, KindHandler]) -> None:
        self.handlers = handlers

    async def verdict(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
        sent_this_week: MutableMapping[int, int],
    ) -> Verdict | None:
        """Say why this delivery must not go out now: (status, reason, new time) or None."""
        handler = self.handlers.get(delivery.kind)
        if handler is None:
            return (FAILED, f"no handler for kind {delivery.kind!r}", None)
        if person.opted_out:
            return (CANCELLED, "recipient opted out", None)
        if not person.reachable:
            return (CANCELLED, "recipient unreachable", None)
        reason = await handler.hold_back(session, delivery, now)
        if reason is not None:
            return (CANCELLED, reason, None)
        payload = delivery.payload or {}
        if payload.get("explicit"):
            return None
        today = directory.local_today(workspace, person, now)
        avail = await workweeks.availability_of(session, workspace, person)
        if person.paused_until and today <= person.paused_until:
            if handler.rules.deferred_while_paused:
                resume = datetime.combine(
                    person.paused_until + timedelta(days=1), avail.work_start, avail.timezone
                )
                return (PENDING, "paused", next_allowed_moment(resume, avail))
            return (CANCELLED, "recipient paused", None)
        if today in avail.time_off and not handler.rules.deferred_while_paused:
            # Like a pause: what falls due during leave lapses instead of piling up after it.
            return (CANCELLED, "recipient on time off", None)
        local = now.astimezone(avail.timezone)
        in_hours = avail.work_start <= local.time().replace(tzinfo=None) <= avail.work_end
        if not (is_allowed_day(local.date(), avail) and in_hours):
            try:
                return (PENDING, "outside working time", next_allowed_moment(local, avail))
            except NoAllowedDayError:
                return (CANCELLED, "no allowed day ahead", None)
        if handler.rules.budgeted and not payload.get("requested"):
            budget = directory.policy_of(workspace).budget
            if sent_this_week.get(person.id, 0) >= budget:
                return (CANCELLED, "weekly message budget reached", None)
            # Counted now, so a second message in the same batch sees this one.
            sent_this_week[person.id] = sent_this_week.get(person.id, 0) + 1
        return None
