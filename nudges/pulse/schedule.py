"""Open pulse polls on their cadence, remind those who have not answered, and close polls.

A poll belongs to a group and a period. Each member gets it at the cadence's wall-clock time in
their own zone, through the dispatcher like every other message (same idempotency, claims,
working hours and weekly budget). A poll stays open for a number of working days counted from
the latest zone it reached, and at most two reminders go to people who have not answered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.delivery import EngineConfig
from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.i18n import t
from nudges.messages import Message
from nudges.people import directory, workweeks
from nudges.policy import WorkspacePolicy
from nudges.pulse.answers import forget_lost, is_open, seal
from nudges.pulse.bank import Bank, choose_question, load_bank
from nudges.pulse.groups import Group, PulseCadences, groups_of_workspace
from nudges.pulse.messages import poll_message, reminder_message
from nudges.pulse.results import effective_threshold
from nudges.scheduling.cadences import OccurrenceMemo
from nudges.scheduling.calendar import (
    Availability,
    NoAllowedDayError,
    Occurrence,
    is_allowed_day,
    next_allowed_moment,
)
from nudges.scheduling.workweek import (
    DEFAULT_WORKWEEK,
    days_text,
    decode_days,
    encode_days,
    majority_week,
)
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll

logger = logging.getLogger(__name__)

MAX_REMINDERS = 2
PULSE_KINDS = frozenset({DeliveryKind.PULSE, DeliveryKind.PULSE_REMINDER})
# How far ahead a working day is searched for before giving up (a year of blackouts).
SEARCH_DAYS = 400


class Dispatcher(Protocol):
    """What planning polls needs from the dispatcher: keys, rows and the catalogue."""

    catalogue: Catalogue
    config: EngineConfig

    def key_for(self, kind: Any, recipient_id: int, item: str) -> str:
        """Build a delivery's idempotency key."""
        ...

    async def insert_delivery(self, session: AsyncSession, **values: Any) -> int | None:
        """Insert a delivery unless its key exists; return its id if inserted."""
        ...

    async def existing_keys(self, session: AsyncSession, keys: Sequence[str]) -> set[str]:
        """Return which of these idempotency keys already have a delivery."""
        ...


def reminder_offsets(window_days: int) -> list[int]:
    """Return the working days after the poll on which reminders go: two at most, in the window."""
    offsets = sorted({round(window_days * share / 3) for share in (1, 2)})
    return [o for o in offsets if 0 < o < window_days][:MAX_REMINDERS]


def add_working_days(local: datetime, days: int, avail: Availability) -> datetime:
    """Return the same wall-clock time ``days`` allowed days after ``local``."""
    day = local.date()
    counted = 0
    for _ in range(SEARCH_DAYS):
        if counted >= days:
            break
        day += timedelta(days=1)
        if is_allowed_day(day, avail):
            counted += 1
    else:
        raise NoAllowedDayError(f"no {days} working days within {SEARCH_DAYS} days")
    return datetime.combine(day, local.time().replace(tzinfo=None), avail.timezone)


def eligible(person: Person) -> bool:
    """Tell whether a person can be asked at all."""
    return person.reachable and not person.opted_out


def poll_item(poll_id: int) -> str:
    """Return the occurrence part of a poll delivery's key and its content key."""
    return f"poll-{poll_id}"


@dataclass
class PlanContext:
    """What planning one workspace needs, loaded once."""

    workspace: Workspace
    policy: WorkspacePolicy
    people: dict[int, Person]
    weeks: workweeks.WorkweekBook
    catalogue: Catalogue
    bank: Bank | None = None
    avails: dict[int, Availability] = field(default_factory=dict)

    @classmethod
    async def load(
        cls, session: AsyncSession, workspace: Workspace, catalogue: Catalogue
    ) -> PlanContext:
        """Read the workspace's people, their working weeks and the blackout days."""
        people = (
            await session.scalars(select(Person).where(Person.workspace_id == workspace.id))
        ).all()
        return cls(
            workspace=workspace,
            policy=directory.policy_of(workspace),
            people={p.id: p for p in people},
            weeks=await workweeks.WorkweekBook.load(session, workspace),
            catalogue=catalogue,
        )

    def avail(self, person: Person) -> Availability:
        """Return when ``person`` may be messaged: their zone, working week, country and leave."""
        if person.id not in self.avails:
            self.avails[person.id] = self.weeks.availability(person)
        return self.avails[person.id]

    def majority_days(self, members: Sequence[Person]) -> frozenset[int]:
        """Return the working days most of these members share."""
        return majority_week(self.weeks.week_for(m.id)[0].days for m in members)

    def members(self, group: Group) -> list[Person]:
        """Return the group's members who can be asked."""
        return [
            self.people[i]
            for i in group.member_ids
            if i in self.people and eligible(self.people[i])
        ]

    async def question_bank(self, session: AsyncSession) -> Bank:
        """Return the workspace's bank, read once."""
        if self.bank is None:
            self.bank = await load_bank(session, self.workspace.id, self.catalogue)
        return self.bank


def closing_time(
    opens: Sequence[tuple[datetime, Availability]],
    window_days: int,
    days: frozenset[int] = DEFAULT_WORKWEEK.days,
) -> datetime:
    """Return when a poll closes: ``window_days`` working days after the latest local opening.

    The days are counted in the group's shared pattern ``days`` (someone's leave does not
    stretch a poll), each in the opener's zone and with their country's holidays.
    """
    weekend = frozenset(range(7)) - days
    ends = [
        add_working_days(local, window_days, replace(avail, weekend=weekend, time_off=frozenset()))
        for local, avail in opens
    ]
    return max(ends).astimezone(UTC)


async def _insert_poll(session: AsyncSession, **values: Any) -> PulsePoll | None:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(PulsePoll)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "group_key", "period_key"])
    )
    found: PulsePoll | None = await session.scalar(
        select(PulsePoll).where(
            PulsePoll.workspace_id == values["workspace_id"],
            PulsePoll.group_key == values["group_key"],
            PulsePoll.period_key == values["period_key"],
        )
    )
    return found


async def open_poll_of(
    session: AsyncSession, workspace_id: int, group_key: str, now: datetime
) -> PulsePoll | None:
    """Return the group's poll that is open now, if any."""
    found: PulsePoll | None = await session.scalar(
        select(PulsePoll)
        .where(
            PulsePoll.workspace_id == workspace_id,
            PulsePoll.group_key == group_key,
            PulsePoll.closed.is_(False),
            PulsePoll.closes_at > now,
        )
        .order_by(PulsePoll.id)
        .limit(1)
    )
    return found


async def _create_poll(
    session: AsyncSession,
    ctx: PlanContext,
    group: Group,
    members: Sequence[Person],
    period_key: str,
    opens: Sequence[tuple[datetime, Availability]],
    now: datetime,
    *,
    requested: bool,
) -> PulsePoll | None:
    bank = await ctx.question_bank(session)
    question = await choose_question(
        session, bank, ctx.workspace.id, group.key, [m.id for m in members]
    )
    if question is None:
        return None
    days = ctx.majority_days(members)
    try:
        closes_at = closing_time(opens, ctx.policy.pulse_window_days, days)
    except NoAllowedDayError:
        return None
    return await _insert_poll(
        session,
        workspace_id=ctx.workspace.id,
        group_key=group.key,
        team=group.team,
        period_key=period_key,
        dimension=question.dimension.value if question.dimension else None,
        question_key=question.key,
        threshold=ctx.policy.anonymity_threshold,
        opened_at=now,
        closes_at=closes_at,
        closed=False,
        requested=requested,
        working_days=encode_days(days),
    )


def poll_key(dispatcher: Dispatcher, person_id: int, group_key: str, period_key: str) -> str:
    """Return the idempotency key of a person's poll, known before the poll itself exists."""
    return dispatcher.key_for(DeliveryKind.PULSE, person_id, f"{group_key}@{period_key}")


async def _invite(
    dispatcher: Dispatcher,
    session: AsyncSession,
    poll: PulsePoll,
    member: Person,
    when: datetime,
) -> int:
    delivery_id = await dispatcher.insert_delivery(
        session,
        idempotency_key=poll_key(dispatcher, member.id, poll.group_key, poll.period_key),
        workspace_id=poll.workspace_id,
        recipient_id=member.id,
        kind=DeliveryKind.PULSE.value,
        content_key=poll_item(poll.id),
        period_key=poll.period_key[:32],
        payload={"poll_id": poll.id},
        scheduled_at=when,
    )
    if delivery_id is None:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(PulseParticipation)
        .values(poll_id=poll.id, person_id=member.id, delivery_id=delivery_id)
        .on_conflict_do_nothing(index_elements=["poll_id", "person_id"])
    )
    return 1


async def _scheduled_poll(
    session: AsyncSession,
    ctx: PlanContext,
    group: Group,
    members: Sequence[Person],
    occurrence: Occurrence,
    now: datetime,
) -> PulsePoll | None:
    existing: PulsePoll | None = await session.scalar(
        select(PulsePoll).where(
            PulsePoll.workspace_id == ctx.workspace.id,
            PulsePoll.group_key == group.key,
            PulsePoll.period_key == occurrence.period_key,
        )
    )
    if existing is not None:
        return existing
    # One open poll per group: a poll opened on request takes this period's place.
    if await open_poll_of(session, ctx.workspace.id, group.key, now) is not None:
        return None
    # Every member gets the same wall-clock moment in their own zone.
    local = occurrence.local.replace(tzinfo=None)
    opens = [(local.replace(tzinfo=ctx.avail(m).timezone), ctx.avail(m)) for m in members]
    return await _create_poll(
        session, ctx, group, members, occurrence.period_key, opens, now, requested=False
    )


async def _may_be_due(
    session: AsyncSession,
    workspace: Workspace,
    cadences: PulseCadences,
    memo: OccurrenceMemo,
    start: datetime,
    end: datetime,
) -> bool:
    """Tell cheaply whether any cadence in use has a slot in ``[start, end)`` for anyone."""
    weeks = await workweeks.WorkweekBook.load(session, workspace)
    # Most people share a zone and country and follow the workspace's week: one stand-in for
    # each such mix, plus everyone with a week, a team week or leave of their own.
    mixes = await session.execute(
        select(Person.timezone, Person.country)
        .where(Person.workspace_id == workspace.id)
        .distinct()
    )
    stand_ins = [Person(id=0, timezone=zone, country=country) for zone, country in mixes]
    own = weeks.people_with_their_own()
    if own:
        stand_ins += (
            await session.scalars(
                select(Person).where(Person.workspace_id == workspace.id, Person.id.in_(own))
            )
        ).all()
    for avail in {weeks.availability(person) for person in stand_ins}:
        if any(memo.between(spec, avail, start, end) for spec in cadences.specs()):
            return True
    return False


async def plan_polls(
    dispatcher: Dispatcher,
    session: AsyncSession,
    ctx: PlanContext,
    now: datetime,
    cadences: PulseCadences,
    memo: OccurrenceMemo,
) -> int:
    """Create the poll deliveries that fell due in one workspace."""
    due: dict[str, tuple[Group, list[Person], Person, Occurrence]] = {}
    for group in await groups_of_workspace(session, ctx.workspace.id):
        members = ctx.members(group)
        # A group smaller than the threshold could never see a result; asking it wastes time.
        if len(members) < ctx.policy.anonymity_threshold:
            continue
        spec, _source = cadences.spec_for(group)
        for member in members:
            start = max(now - dispatcher.config.lookback, member.created_at)
            end = now + timedelta(seconds=1)
            for occurrence in memo.between(spec, ctx.avail(member), start, end):
                key = poll_key(dispatcher, member.id, group.key, occurrence.period_key)
                due[key] = (group, members, member, occurrence)
    existing = await dispatcher.existing_keys(session, list(due))
    planned = 0
    for key, (group, members, member, occurrence) in due.items():
        if key in existing:
            continue
        poll = await _scheduled_poll(session, ctx, group, members, occurrence, now)
        if poll is None or poll.closed or occurrence.utc >= poll.closes_at:
            continue
        planned += await _invite(dispatcher, session, poll, member, occurrence.utc)
    return planned


async def _reminder_rows(
    session: AsyncSession, workspace: Workspace, now: datetime, count: int
) -> list[Any]:
    """Return (participation, poll, poll sent at) of people who may still need a reminder."""
    rows = await session.execute(
        select(PulseParticipation, PulsePoll, Delivery.sent_at)
        .join(PulsePoll, PulsePoll.id == PulseParticipation.poll_id)
        .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
        .where(
            PulsePoll.workspace_id == workspace.id,
            PulsePoll.closed.is_(False),
            PulsePoll.closes_at > now,
            PulseParticipation.answered.is_(False),
            PulseParticipation.reminders_sent < count,
            Delivery.status == DeliveryStatus.SENT.value,
        )
        .order_by(PulseParticipation.id)
    )
    return list(rows.all())


async def plan_reminders(
    dispatcher: Dispatcher,
    session: AsyncSession,
    ctx: PlanContext,
    now: datetime,
    rows: Sequence[Any],
) -> int:
    """Create the reminders that fell due for people who have not answered an open poll."""
    offsets = reminder_offsets(ctx.policy.pulse_window_days)
    planned = 0
    for participation, poll, sent_at in rows:
        person = ctx.people.get(participation.person_id)
        if person is None or not eligible(person) or sent_at is None:
            continue
        avail = ctx.avail(person)
        number = participation.reminders_sent
        try:
            target = add_working_days(sent_at.astimezone(avail.timezone), offsets[number], avail)
            when = next_allowed_moment(target, avail)
        except NoAllowedDayError:
            continue
        if when > now or when >= poll.closes_at:
            continue
        # Count the reminder before it exists, and only once, even with two dispatchers.
        claimed = await session.scalar(
            update(PulseParticipation)
            .where(
                PulseParticipation.id == participation.id,
                PulseParticipation.reminders_sent == number,
            )
            .values(reminders_sent=number + 1)
            .returning(PulseParticipation.id)
            .execution_options(synchronize_session=False)
        )
        if claimed is None:
            continue
        new_id = await dispatcher.insert_delivery(
            session,
            idempotency_key=dispatcher.key_for(
                DeliveryKind.PULSE_REMINDER, person.id, f"{poll_item(poll.id)}:{number + 1}"
            ),
            workspace_id=ctx.workspace.id,
            recipient_id=person.id,
            kind=DeliveryKind.PULSE_REMINDER.value,
            content_key=poll_item(poll.id),
            period_key=poll.period_key[:32],
            payload={"poll_id": poll.id, "reminder": number + 1},
            scheduled_at=when,
        )
        planned += new_id is not None
    return planned


async def plan_pulses(
    dispatcher: Dispatcher, session: AsyncSession, workspace: Workspace, now: datetime
) -> int:
    """Plan one workspace's polls and reminders that fell due.

    Most ticks have nothing to do, so people and groups are read only when a slot or a
    reminder may be due.
    """
    policy = directory.policy_of(workspace)
    if not policy.pulse_enabled:
        return 0
    planned = 0
    ctx: PlanContext | None = None
    cadences = await PulseCadences.load(session, workspace.id)
    memo = OccurrenceMemo()
    start, end = now - dispatcher.config.lookback, now + timedelta(seconds=1)
    if await _may_be_due(session, workspace, cadences, memo, start, end):
        ctx = await PlanContext.load(session, workspace, dispatcher.catalogue)
        planned += await plan_polls(dispatcher, session, ctx, now, cadences, memo)
    offsets = reminder_offsets(policy.pulse_window_days)
    rows = await _reminder_rows(session, workspace, now, len(offsets)) if offsets else []
    if rows:
        ctx = ctx or await PlanContext.load(session, workspace, dispatcher.catalogue)
        planned += await plan_reminders(dispatcher, session, ctx, now, rows)
    return planned


async def close_due(session: AsyncSession, workspace: Workspace, now: datetime) -> list[int]:
    """Close the workspace's polls whose window ended; return the poll messages to re-render.

    Answers lost with a key this process does not hold are dropped first, and their people's
    poll messages re-rendered to take an answer again.
    """
    refresh = await forget_lost(session, workspace.id)
    polls = (
        await session.scalars(
            select(PulsePoll).where(
                PulsePoll.workspace_id == workspace.id,
                PulsePoll.closed.is_(False),
                PulsePoll.closes_at <= now,
            )
        )
    ).all()
    for poll in polls:
        if not await seal(session, poll):
            continue
        ids = await session.scalars(
            select(PulseParticipation.delivery_id)
            .join(Delivery, Delivery.id == PulseParticipation.delivery_id)
            .where(
                PulseParticipation.poll_id == poll.id,
                Delivery.status == DeliveryStatus.SENT.value,
            )
            .order_by(PulseParticipation.delivery_id)
        )
        refresh.extend(i for i in ids.all() if i is not None)
        logger.info("closed pulse poll %s", poll.id)
    return refresh


@dataclass
class Opened:
    """What ``pulse now`` did: polls opened, people asked, and why other groups were skipped."""

    polls: list[PulsePoll] = field(default_factory=list)
    people: int = 0
    # (group, reason, params) with reason one of already_open, too_small, no_question.
    skipped: list[tuple[Group, str, dict[str, Any]]] = field(default_factory=list)


async def open_now(
    dispatcher: Dispatcher,
    session: AsyncSession,
    workspace: Workspace,
    groups: Sequence[Group],
    now: datetime,
) -> Opened:
    """Open a poll for each group at once; each member gets it at their next working moment."""
    ctx = await PlanContext.load(session, workspace, dispatcher.catalogue)
    result = Opened()
    for group in groups:
        current = await open_poll_of(session, workspace.id, group.key, now)
        if current is not None:
            result.skipped.append((group, "already_open", {"closes_at": current.closes_at}))
            continue
        members = ctx.members(group)
        if len(members) < ctx.policy.anonymity_threshold:
            result.skipped.append((group, "too_small", {"count": len(members)}))
            continue
        moments: list[tuple[Person, datetime]] = []
        for member in members:
            avail = ctx.avail(member)
            try:
                moments.append((member, next_allowed_moment(now.astimezone(avail.timezone), avail)))
            except NoAllowedDayError:
                continue
        period = f"now-{now.astimezone(UTC):%Y%m%dT%H%M%S}"
        opens = [(moment, ctx.avail(member)) for member, moment in moments]
        poll = await _create_poll(session, ctx, group, members, period, opens, now, requested=True)
        if poll is None:
            result.skipped.append((group, "no_question", {}))
            continue
        for member, moment in moments:
            result.people += await _invite(
                dispatcher, session, poll, member, moment.astimezone(UTC)
            )
        result.polls.append(poll)
    return result


async def hold_back(session: AsyncSession, delivery: Delivery, now: datetime) -> str | None:
    """Say why a poll or reminder must not go out any more, or None when it may."""
    if DeliveryKind(delivery.kind) not in PULSE_KINDS:
        return None
    poll = await session.get(PulsePoll, (delivery.payload or {}).get("poll_id"))
    if poll is None:
        return "the poll no longer exists"
    if not is_open(poll, now):
        return "the poll has closed"
    workspace = await session.get(Workspace, poll.workspace_id)
    if workspace is None or not directory.policy_of(workspace).pulse_enabled:
        return "pulse polls are off"
    if delivery.kind == DeliveryKind.PULSE_REMINDER.value:
        answered = await session.scalar(
            select(PulseParticipation.answered).where(
                PulseParticipation.poll_id == poll.id,
                PulseParticipation.person_id == delivery.recipient_id,
            )
        )
        if answered:
            return "already answered"
    return None


async def compose(
    session: AsyncSession,
    catalogue: Catalogue,
    delivery: Delivery,
    workspace: Workspace,
    person: Person,
    now: datetime,
) -> Message | None:
    """Render a poll (answered or not, never with the answer) or a reminder."""
    poll = await session.get(PulsePoll, (delivery.payload or {}).get("poll_id"))
    if poll is None:
        return None
    locale = directory.locale_of(workspace, person)
    zone = directory.zone_of(workspace, person)
    bank = await load_bank(session, workspace.id, catalogue)
    question = bank.find(poll.question_key)
    if question is None:
        return None
    text = question.text(locale)
    participation = await session.scalar(
        select(PulseParticipation).where(
            PulseParticipation.poll_id == poll.id, PulseParticipation.person_id == person.id
        )
    )
    if delivery.kind == DeliveryKind.PULSE_REMINDER.value:
        poll_delivery = (
            await session.get(Delivery, participation.delivery_id)
            if participation is not None and participation.delivery_id is not None
            else None
        )
        sent = poll_delivery.sent_at if poll_delivery and poll_delivery.sent_at else now
        return reminder_message(
            delivery_id=delivery.id,
            question=text,
            locale=locale,
            threshold=effective_threshold(poll, directory.policy_of(workspace)),
            sent_on=sent.astimezone(zone).date(),
            closes_at=poll.closes_at,
            zone=zone,
        )
    return render_poll(
        delivery.id,
        poll,
        text,
        workspace,
        person,
        now,
        answered=bool(participation and participation.answered),
    )


def render_poll(
    delivery_id: int,
    poll: PulsePoll,
    question: str,
    workspace: Workspace,
    person: Person,
    now: datetime,
    *,
    answered: bool,
) -> Message:
    """Render a poll message as ``person`` sees it at ``now`` (never with their answer)."""
    return poll_message(
        delivery_id=delivery_id,
        poll_id=poll.id,
        question=question,
        locale=directory.locale_of(workspace, person),
        threshold=effective_threshold(poll, directory.policy_of(workspace)),
        closes_at=poll.closes_at,
        zone=directory.zone_of(workspace, person),
        is_closed=not is_open(poll, now),
        answered=answered,
        window=_window(poll, workspace, directory.locale_of(workspace, person)),
    )


def _window(poll: PulsePoll, workspace: Workspace, locale: str) -> tuple[int, str] | None:
    """Return how many working days a poll is open and the week they count in, if not Mon-Fri."""
    if not poll.working_days or decode_days(poll.working_days) == DEFAULT_WORKWEEK.days:
        return None
    names = t(locale, "replies.workweek.day_names").split(",")
    days_word = days_text(decode_days(poll.working_days), names)
    return directory.policy_of(workspace).pulse_window_days, days_word
