"""Describe a person's or the workspace's settings for ``status`` and ``me status``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from nudges.coaching.upcoming import is_planned, stored_nudge
from nudges.commands.context import Context, Outcome
from nudges.commands.topics import echo
from nudges.commands.wording import (
    cadence_words,
    country_name,
    join_words,
    language_name,
    mentions,
    moment_words,
    next_nudge,
    nudge_title,
    workspace_availability,
    zone_name,
)
from nudges.commands.workweeks import working_time_lines, workspace_week_line
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, Kind, NudgeState, Scope
from nudges.i18n import format_day, normalize_locale
from nudges.people import directory
from nudges.people.workweeks import moved_words
from nudges.policy import WorkspacePolicy
from nudges.scheduling.cadences import PULSE, CadenceBook, spec_of
from nudges.scheduling.calendar import (
    DEFAULT_NUDGE_CADENCE,
    DEFAULT_PULSE_CADENCE,
    NoAllowedDayError,
    next_occurrence,
)
from nudges.store.blackouts import BlackoutDate
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person

RECENT_NUDGES = 3
SHOWN_COMMITMENTS = 3
_OPEN_COMMITMENTS = (CommitmentState.OPEN.value, CommitmentState.MOVED.value)


def kind_words(kinds: list[str] | None) -> str | None:
    """List enabled kinds as people type them, or None when every kind is on."""
    if kinds is None or set(kinds) >= {kind.value for kind in Kind}:
        return None
    known = [kind for kind in Kind if kind.value in kinds]
    return ", ".join(f"`{kind.value.replace('_', '-')}`" for kind in known)


async def person_status(ctx: Context, person: Person) -> Outcome:
    """Describe one person's cadence, next nudge, state, recent nudges and open commitments."""
    say = ctx.say
    lines = [ctx.about(person, "status.title")]
    reports = len(await directory.reports_of(ctx.session, person))
    lines.extend(await _schedule_lines(ctx, person, reports))
    lines.extend(_state_lines(ctx, person))
    lines.extend(_profile_lines(ctx, person))
    lines.extend(await working_time_lines(ctx, person))
    lines.append(say("status.reports", count=reports))
    if person.programme and person.programme_started_on:
        lines.append(_programme_line(ctx, person))
    if person.is_admin:
        lines.append(say("status.admin"))
    lines.append("")
    lines.extend(await _recent_lines(ctx, person))
    lines.append("")
    lines.extend(await _commitment_lines(ctx, person))
    if person.id == ctx.actor.id:
        lines.append("")
        lines.append(say("status.me_hint"))
    return Outcome("\n".join(lines))


async def _schedule_lines(ctx: Context, person: Person, reports: int) -> list[str]:
    spec, source = await directory.effective_cadence(ctx.session, ctx.workspace, person)
    lines = [
        ctx.say(
            "status.cadence", cadence=cadence_words(ctx.locale, spec), source=_source(ctx, source)
        )
    ]
    # The same test the dispatcher uses to decide who gets nudges at all.
    gets_nudges = reports > 0 or source == "person" or person.programme is not None
    if person.opted_out:
        lines.append(ctx.say("status.next.opted_out"))
    elif not person.reachable:
        lines.append(ctx.say("status.next.unreachable"))
    elif not gets_nudges:
        lines.append(ctx.about(person, "status.next.no_team"))
    else:
        occurrence = await next_nudge(ctx, person)
        if occurrence is None:
            lines.append(ctx.say("status.next.no_slot"))
        else:
            moment = moment_words(ctx.locale, occurrence)
            lines.append(ctx.say("status.next.at", moment=moment, zone=zone_name(occurrence)))
            moved = moved_words(ctx.locale, person, occurrence)
            if moved is not None:
                lines.append(moved)
            stored = await stored_nudge(ctx.session, person, occurrence)
            if stored is not None and is_planned(stored):
                title = nudge_title(ctx, stored.content_key)
                lines.append(ctx.say("status.next.planned", title=title))
    return lines


def _source(ctx: Context, source: str) -> str:
    kind, _, team = source.partition(":")
    if kind == "team":
        return ctx.say("status.source.team", team=echo(team))
    return ctx.say(f"status.source.{kind}")


def _state_lines(ctx: Context, person: Person) -> list[str]:
    lines = []
    today = ctx.today_of(person)
    if person.paused_until is not None and person.paused_until >= today:
        resume = format_day(ctx.locale, person.paused_until + timedelta(days=1))
        lines.append(ctx.say("status.paused", day=resume))
    if person.opted_out:
        lines.append(ctx.say("status.opted_out"))
    if not person.reachable:
        reason = echo(person.unreachable_reason or "?")
        lines.append(ctx.say("status.unreachable", reason=reason))
    return lines


def _profile_lines(ctx: Context, person: Person) -> list[str]:
    language = directory.locale_of(ctx.workspace, person)
    own_language = normalize_locale(person.locale) == language
    zone = directory.zone_of(ctx.workspace, person)
    own_zone = person.timezone is not None and zone.key == person.timezone
    kinds = kind_words(person.enabled_kinds)
    return [
        ctx.say(
            "status.language",
            language=language_name(ctx.locale, language),
            source=ctx.say("status.source.own" if own_language else "status.source.workspace"),
        ),
        ctx.say(
            "status.zone",
            zone=zone.key,
            source=ctx.say(f"status.source.{_zone_source(person) if own_zone else 'workspace'}"),
        ),
        ctx.say("status.kinds.all") if kinds is None else ctx.say("status.kinds.some", kinds=kinds),
    ]


def _zone_source(person: Person) -> str:
    return "outlook" if person.timezone_source == "outlook" else "own"


def _programme_line(ctx: Context, person: Person) -> str:
    assert person.programme is not None and person.programme_started_on is not None
    try:
        programme = ctx.catalogue.programme(person.programme)
    except KeyError:
        return ctx.say("status.programme", programme=echo(person.programme), week=1, weeks=1)
    weeks = len(programme.weeks)
    week = min(weeks, (ctx.today_of(person) - person.programme_started_on).days // 7 + 1)
    title = programme.title(ctx.locale)
    return ctx.say("status.programme", programme=title, week=max(1, week), weeks=weeks)


def _delivery_state(ctx: Context, delivery: Delivery) -> str:
    if delivery.status == DeliveryStatus.SENT.value:
        outcome = delivery.outcome or NudgeState.OPEN.value
        return ctx.say(f"status.outcome.{outcome}")
    return ctx.say(f"status.delivery.{delivery.status}")


async def _recent_lines(ctx: Context, person: Person) -> list[str]:
    rows = (
        await ctx.session.scalars(
            select(Delivery)
            .where(
                Delivery.recipient_id == person.id,
                Delivery.kind == DeliveryKind.NUDGE.value,
            )
            .order_by(Delivery.scheduled_at.desc(), Delivery.id.desc())
            .limit(RECENT_NUDGES)
        )
    ).all()
    if not rows:
        return [ctx.say("status.recent.none")]
    zone = directory.zone_of(ctx.workspace, person)
    lines = [ctx.say("status.recent.title")]
    for delivery in rows:
        when = (delivery.sent_at or delivery.scheduled_at).astimezone(zone).date()
        lines.append(
            ctx.say(
                "status.recent.line",
                day=format_day(ctx.locale, when),
                title=nudge_title(ctx, delivery.content_key),
                state=_delivery_state(ctx, delivery),
            )
        )
    return lines


async def _commitment_lines(ctx: Context, person: Person) -> list[str]:
    rows = (
        await ctx.session.scalars(
            select(Commitment)
            .where(Commitment.manager_id == person.id, Commitment.state.in_(_OPEN_COMMITMENTS))
            .order_by(Commitment.due_on, Commitment.id)
        )
    ).all()
    if not rows:
        return [ctx.say("status.commitments.none")]
    lines = [ctx.say("status.commitments.title", count=len(rows))]
    for commitment in rows[:SHOWN_COMMITMENTS]:
        day = format_day(ctx.locale, commitment.due_on)
        text = echo(commitment.text)
        member = (
            await ctx.session.get(Person, commitment.member_id) if commitment.member_id else None
        )
        if member is None:
            lines.append(ctx.say("status.commitments.line", text=text, day=day))
        else:
            lines.append(
                ctx.say(
                    "status.commitments.line_member",
                    text=text,
                    day=day,
                    member=member.external_id,
                )
            )
    if len(rows) > SHOWN_COMMITMENTS:
        lines.append(ctx.say("status.commitments.more", count=len(rows) - SHOWN_COMMITMENTS))
    return lines


async def workspace_status(ctx: Context) -> Outcome:
    """Describe the workspace defaults: cadence, language, zone, country, budget, admins."""
    say = ctx.say
    locale = ctx.locale
    workspace = ctx.workspace
    rules = (
        await ctx.session.scalars(
            select(CadenceRule)
            .where(
                CadenceRule.workspace_id == workspace.id,
                CadenceRule.purpose == directory.NUDGE,
                CadenceRule.enabled.is_(True),
            )
            .order_by(CadenceRule.scope_key)
        )
    ).all()
    default_rule = next((r for r in rules if r.scope == Scope.WORKSPACE.value), None)
    spec = directory.spec_of(default_rule) if default_rule else DEFAULT_NUDGE_CADENCE
    source = "workspace" if default_rule else "default"
    lines = [
        say("status.title.workspace"),
        say("status.cadence", cadence=cadence_words(locale, spec), source=_source(ctx, source)),
    ]
    try:
        availability = await workspace_availability(ctx.session, workspace)
        occurrence = next_occurrence(spec, availability, ctx.now)
        lines.append(
            say(
                "status.workspace.next",
                moment=moment_words(locale, occurrence),
                zone=zone_name(occurrence),
            )
        )
    except NoAllowedDayError:
        lines.append(say("status.next.no_slot"))
    teams = [
        say(
            "status.workspace.team_line",
            team=echo(rule.team or ""),
            cadence=cadence_words(locale, directory.spec_of(rule)),
        )
        for rule in rules
        if rule.scope == Scope.TEAM.value
    ]
    if teams:
        lines.append(say("status.workspace.teams"))
        lines.extend(teams)
    personal = sum(1 for rule in rules if rule.scope == Scope.PERSON.value)
    if personal:
        lines.append(say("status.workspace.personal", count=personal))
    policy = directory.policy_of(workspace)
    country = (
        say("status.workspace.country", country=country_name(locale, workspace.country))
        if workspace.country
        else say("status.workspace.no_country")
    )
    lines.extend(
        [
            say(
                "status.workspace.language",
                language=language_name(locale, directory.locale_of(workspace)),
            ),
            say("status.workspace.zone", zone=directory.zone_of(workspace).key),
            country,
            await workspace_week_line(ctx),
            say("status.workspace.budget", budget=policy.budget),
            await _pulse_line(ctx, policy),
        ]
    )
    lines.append(await _blackout_line(ctx))
    lines.append(await _people_line(ctx))
    admins = await ctx.stored_admins()
    if admins:
        names = mentions(locale, [a.external_id for a in admins])
        lines.append(say("status.workspace.admins", admins=names))
    else:
        lines.append(say("status.workspace.no_admins"))
    return Outcome("\n".join(lines))


async def _blackout_line(ctx: Context) -> str:
    today = ctx.now.astimezone(directory.zone_of(ctx.workspace)).date()
    upcoming = (
        await ctx.session.scalars(
            select(BlackoutDate.day)
            .where(BlackoutDate.workspace_id == ctx.workspace.id, BlackoutDate.day >= today)
            .order_by(BlackoutDate.day)
        )
    ).all()
    if not upcoming:
        return ctx.say("status.workspace.no_blackouts")
    shown = [day.isoformat() for day in upcoming[:3]]
    return ctx.say(
        "status.workspace.blackouts",
        count=len(upcoming),
        days=join_words(ctx.locale, shown),
    )


async def _people_line(ctx: Context) -> str:
    people = await ctx.session.scalar(
        select(func.count()).select_from(Person).where(Person.workspace_id == ctx.workspace.id)
    )
    managers = len(await directory.managers(ctx.session, ctx.workspace.id))
    return ctx.say("status.workspace.people", people=int(people or 0), managers=managers)


async def _pulse_line(ctx: Context, policy: WorkspacePolicy) -> str:
    """Say whether pulse polls run, on which workspace cadence, and from how many answers."""
    if not policy.pulse_enabled:
        return ctx.say("status.workspace.pulse_off")
    book = await CadenceBook.load(ctx.session, ctx.workspace.id, PULSE)
    rule = book.rules.get("workspace")
    spec = spec_of(rule) if rule is not None else DEFAULT_PULSE_CADENCE
    return ctx.say(
        "status.workspace.pulse_on",
        cadence=cadence_words(ctx.locale, spec),
        threshold=policy.anonymity_threshold,
    )
