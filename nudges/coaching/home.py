"""Build a person's home page: the next nudge and when, recent nudges, open commitments.

Admins also see a summary of the workspace settings. The page is platform-neutral (Slack renders
it as the App Home tab, Teams as a card) and depends only on the store's state and the time it is
built for, so building it twice in a row gives the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date as babel_format_date
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.inputs import planner_input
from nudges.coaching.planner import choose
from nudges.coaching.upcoming import next_free_occurrence
from nudges.content.catalogue import Catalogue
from nudges.domain import (
    CommitmentState,
    DeliveryKind,
    DeliveryStatus,
    Frequency,
    NudgeState,
    Scope,
)
from nudges.i18n import format_day, format_moment, t
from nudges.messages import Block, Context, Divider, Header, Page, Text
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import (
    DEFAULT_NUDGE_CADENCE,
    CadenceSpec,
)
from nudges.scheduling.workweek import days_text
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

RECENT_NUDGES = 5
OPEN_COMMITMENTS = 10
_NUDGE_KINDS = (DeliveryKind.NUDGE.value, DeliveryKind.SAMPLE.value)
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# Any Monday: babel names weekday n as this date plus n days.
_A_MONDAY = date(2024, 1, 1)


@dataclass(frozen=True)
class HomeContext:
    """Who the page is for and how commands are typed on their platform."""

    workspace: Workspace
    person: Person
    is_admin: bool
    command: str


async def home_page(
    session: AsyncSession,
    catalogue: Catalogue,
    ctx: HomeContext,
    now: datetime,
) -> Page:
    """Build ``ctx.person``'s home page as it stands at ``now``."""
    locale = directory.locale_of(ctx.workspace, ctx.person)
    blocks: list[Block] = [
        Header(t(locale, "home.title")),
        Text(t(locale, "home.intro", user=ctx.person.external_id)),
        Divider(),
        Text(t(locale, "home.next.heading")),
        Text(await _next_nudge(session, catalogue, ctx, locale, now)),
        *await _working_week(session, ctx, locale, now),
        Divider(),
        Text(t(locale, "home.recent.heading")),
        Text(await _recent(session, catalogue, ctx, locale)),
        Divider(),
        Text(t(locale, "home.commitments.heading")),
        Text(await _commitments(session, ctx, locale)),
    ]
    if ctx.is_admin:
        blocks += [
            Divider(),
            Text(t(locale, "home.settings.heading")),
            Text(await _settings(session, ctx, locale)),
            Context(t(locale, "home.settings.hint", command=ctx.command)),
        ]
    blocks.append(Context(t(locale, "home.private")))
    return Page(blocks=tuple(blocks))


async def _working_week(
    session: AsyncSession, ctx: HomeContext, locale: str, now: datetime
) -> list[Block]:
    """Say the person's working week, holiday country and time off, when any is their own."""
    book = await workweeks.WorkweekBook.load(session, ctx.workspace)
    week, source = book.week_for(ctx.person.id)
    today = directory.local_today(ctx.workspace, ctx.person, now)
    ahead = [(first, last) for first, last in book.leave_of(ctx.person.id) if last >= today]
    if source == "default" and ctx.person.country is None and not ahead:
        return []
    names = t(locale, "replies.workweek.day_names").split(",")
    parts = [
        t(
            locale,
            "home.week.days",
            days=days_text(week.days, names),
            start=f"{week.start:%H:%M}",
            end=f"{week.end:%H:%M}",
        )
    ]
    country = ctx.person.country or ctx.workspace.country
    if country:
        parts.append(t(locale, "home.week.country", country=country))
    if ahead:
        first, last = ahead[0]
        parts.append(
            t(
                locale,
                "home.week.away",
                first=format_day(locale, first),
                last=format_day(locale, last),
            )
        )
    parts.append(t(locale, "home.week.change", command=ctx.command))
    return [Context(" · ".join(parts))]


async def _is_manager(session: AsyncSession, person: Person) -> bool:
    managers = await directory.managers(session, person.workspace_id)
    return any(m.id == person.id for m in managers)


async def _next_nudge(
    session: AsyncSession, catalogue: Catalogue, ctx: HomeContext, locale: str, now: datetime
) -> str:
    person, workspace, command = ctx.person, ctx.workspace, ctx.command
    if person.opted_out:
        return t(locale, "home.next.opted_out", command=command)
    today = directory.local_today(workspace, person, now)
    if person.paused_until is not None and person.paused_until >= today:
        # paused_until is the last quiet day; like the pause reply, name the day they start again.
        resume_on = person.paused_until + timedelta(days=1)
        return t(locale, "home.next.paused", day=format_day(locale, resume_on), command=command)
    # A nudge already planned (a snooze, a slot due shortly) is what comes next.
    pending = await session.scalar(
        select(Delivery)
        .where(
            Delivery.recipient_id == person.id,
            Delivery.kind.in_(_NUDGE_KINDS),
            Delivery.status == DeliveryStatus.PENDING.value,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(1)
    )
    if pending is not None:
        return t(
            locale,
            "home.next.planned",
            title=_title(catalogue, pending.content_key, locale),
            when=_when(workspace, person, locale, pending.next_attempt_at),
        )
    if not await _is_manager(session, person):
        return t(locale, "home.next.not_a_manager", command=command)
    occurrence = await next_free_occurrence(session, workspace, person, now)
    if occurrence is None:
        return t(locale, "home.next.none_ahead")
    when = _when(workspace, person, locale, occurrence.utc)
    # What the planner would pick on that day, if nothing changes before then.
    inp = await planner_input(session, workspace, person, occurrence.utc)
    choice = choose(inp, catalogue, occurrence.utc)
    if choice is None:
        return t(locale, "home.next.no_title", when=when)
    return t(
        locale, "home.next.planned", title=_title(catalogue, choice.nudge_key, locale), when=when
    )


async def _recent(
    session: AsyncSession, catalogue: Catalogue, ctx: HomeContext, locale: str
) -> str:
    rows = (
        await session.scalars(
            select(Delivery)
            .where(
                Delivery.recipient_id == ctx.person.id,
                Delivery.kind.in_(_NUDGE_KINDS),
                Delivery.status == DeliveryStatus.SENT.value,
            )
            .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
            .limit(RECENT_NUDGES)
        )
    ).all()
    if not rows:
        return t(locale, "home.recent.empty")
    zone = directory.zone_of(ctx.workspace, ctx.person)
    lines = []
    for delivery in rows:
        sent = (delivery.sent_at or delivery.scheduled_at).astimezone(zone).date()
        lines.append(
            t(
                locale,
                "home.recent.item",
                title=_title(catalogue, delivery.content_key, locale),
                day=format_day(locale, sent),
                state=t(locale, f"home.state.{_state(delivery.outcome)}"),
            )
        )
    return "\n".join(lines)


async def _commitments(session: AsyncSession, ctx: HomeContext, locale: str) -> str:
    open_states = (CommitmentState.OPEN.value, CommitmentState.MOVED.value)
    where = (Commitment.manager_id == ctx.person.id, Commitment.state.in_(open_states))
    rows = (
        await session.execute(
            select(Commitment, Person.external_id)
            .outerjoin(Person, Person.id == Commitment.member_id)
            .where(*where)
            .order_by(Commitment.due_on, Commitment.id)
            .limit(OPEN_COMMITMENTS)
        )
    ).all()
    if not rows:
        return t(locale, "home.commitments.empty")
    lines = []
    for commitment, member in rows:
        day = format_day(locale, commitment.due_on)
        if member:
            lines.append(
                t(
                    locale,
                    "home.commitments.item_member",
                    text=commitment.text,
                    member=member,
                    day=day,
                )
            )
        else:
            lines.append(t(locale, "home.commitments.item", text=commitment.text, day=day))
    total = await session.scalar(select(func.count()).select_from(Commitment).where(*where))
    if total and total > len(rows):
        lines.append(t(locale, "home.commitments.more", count=total - len(rows)))
    return "\n".join(lines)


async def _settings(session: AsyncSession, ctx: HomeContext, locale: str) -> str:
    workspace = ctx.workspace
    policy = directory.policy_of(workspace)
    spec = await _workspace_cadence(session, workspace)
    managers = len(await directory.managers(session, workspace.id))
    people = await session.scalar(
        select(func.count()).select_from(Person).where(Person.workspace_id == workspace.id)
    )
    language = workspace.default_locale if workspace.default_locale in ("en", "nl") else "en"
    lines = [
        t(
            locale,
            "home.settings.language",
            language=t(locale, f"home.language.{language}"),
            zone=workspace.default_timezone,
            country=workspace.country or t(locale, "home.settings.no_country"),
        ),
        t(
            locale,
            "home.settings.cadence",
            cadence=describe_cadence(spec, locale),
            budget=policy.budget,
        ),
        t(
            locale,
            "home.settings.hours",
            start=policy.work_start.strftime("%H:%M"),
            end=policy.work_end.strftime("%H:%M"),
        ),
        t(locale, "home.settings.pulse_on", threshold=policy.anonymity_threshold)
        if policy.pulse_enabled
        else t(locale, "home.settings.pulse_off"),
        t(locale, "home.settings.people", managers=managers, people=int(people or 0)),
    ]
    return "\n".join(lines)


async def _workspace_cadence(session: AsyncSession, workspace: Workspace) -> CadenceSpec:
    rule = await session.scalar(
        select(CadenceRule).where(
            CadenceRule.workspace_id == workspace.id,
            CadenceRule.purpose == directory.NUDGE,
            CadenceRule.scope_key == directory.scope_key(Scope.WORKSPACE),
            CadenceRule.enabled.is_(True),
        )
    )
    return directory.spec_of(rule) if rule is not None else DEFAULT_NUDGE_CADENCE


def describe_cadence(spec: CadenceSpec, locale: str) -> str:
    """Say a cadence in words, e.g. 'weekly on Tuesday at 10:00'."""
    at = spec.at.strftime("%H:%M")
    if spec.frequency is Frequency.WEEKDAYS or spec.weekday is None:
        return t(locale, "home.cadence.weekdays", time=at)
    day = babel_format_date(_A_MONDAY + timedelta(days=spec.weekday), format="EEEE", locale=locale)
    if spec.frequency is Frequency.MONTHLY:
        ordinal = t(locale, f"home.ordinal.{_ORDINALS.get(spec.ordinal or 1, 'first')}")
        return t(locale, "home.cadence.monthly", ordinal=ordinal, day=day, time=at)
    return t(locale, f"home.cadence.{spec.frequency.value}", day=day, time=at)


def _when(workspace: Workspace, person: Person, locale: str, moment: datetime) -> str:
    zone = directory.zone_of(workspace, person)
    return t(
        locale,
        "home.next.when",
        moment=format_moment(locale, moment.astimezone(zone)),
        zone=zone.key,
    )


def _title(catalogue: Catalogue, key: str, locale: str) -> str:
    try:
        return f"**{catalogue.nudge(key).text(locale).title}**"
    except KeyError:
        # A nudge retired from the catalogue still has history; show its key, not nothing.
        return key


def _state(outcome: str | None) -> str:
    try:
        return NudgeState(outcome).value if outcome else NudgeState.OPEN.value
    except ValueError:
        return NudgeState.OPEN.value
