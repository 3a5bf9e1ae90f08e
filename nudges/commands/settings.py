"""Change cadences, kinds, pauses, zones, languages, the country, blackout days and the budget."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from nudges.commands import ast
from nudges.commands.context import (
    MAX_TEAM_NAME,
    Context,
    Outcome,
    person_target,
    shown,
)
from nudges.commands.parser import MAX_PAUSE_DAYS
from nudges.commands.status import kind_words
from nudges.commands.topics import echo
from nudges.commands.wording import (
    cadence_words,
    clock_time,
    country_name,
    language_name,
    moment_words,
    next_nudge,
    workspace_availability,
    zone_name,
)
from nudges.commands.workweeks import set_person_country
from nudges.domain import Kind, Scope
from nudges.i18n import format_day
from nudges.people import directory
from nudges.scheduling.cadences import apply_spec, find_or_add_rule
from nudges.scheduling.calendar import CadenceSpec, NoAllowedDayError, Occurrence, next_occurrence
from nudges.store.blackouts import BlackoutDate
from nudges.store.cadence import CadenceRule
from nudges.store.org import Person, ReportingLine

# --- cadence ------------------------------------------------------------------------------


async def _known_teams(ctx: Context) -> list[str]:
    lines = await ctx.session.scalars(
        select(ReportingLine.team)
        .where(ReportingLine.workspace_id == ctx.workspace.id, ReportingLine.team != "")
        .distinct()
    )
    return sorted(set(lines.all()))


async def _team_name(ctx: Context, typed: str) -> tuple[str, bool]:
    """Return the stored spelling of a team name and whether the org chart knows it."""
    name = " ".join(typed.split())
    if not name or len(name) > MAX_TEAM_NAME or not name.isprintable():
        raise ctx.fail("cadence.bad_team", team=shown(typed), max=MAX_TEAM_NAME)
    for known in await _known_teams(ctx):
        if known.casefold() == name.casefold():
            return known, True
    ruled = await ctx.session.scalars(
        select(CadenceRule.team).where(
            CadenceRule.workspace_id == ctx.workspace.id,
            CadenceRule.purpose == directory.NUDGE,
            CadenceRule.team.is_not(None),
        )
    )
    # A cadence set earlier for a team nobody is in yet keeps its first spelling.
    for earlier in ruled.all():
        if earlier is not None and earlier.casefold() == name.casefold():
            return earlier, False
    return name, False


async def set_cadence(ctx: Context, command: ast.Cadence) -> Outcome:
    """Create or replace the nudge cadence of a person, a team or the workspace."""
    spec = CadenceSpec(command.frequency, command.weekday, command.at, command.ordinal)
    target = command.target
    person: Person | None = None
    team: str | None = None
    notes: list[str] = []
    if isinstance(target, ast.PersonRef):
        person = await ctx.person(target)
        scope, key, audit_target = (
            Scope.PERSON,
            directory.scope_key(Scope.PERSON, person_id=person.id),
            person_target(person),
        )
    elif isinstance(target, ast.TeamRef):
        team, known = await _team_name(ctx, target.name)
        if not known:
            notes.append(ctx.say("cadence.unknown_team", team=echo(team)))
        scope, key, audit_target = (
            Scope.TEAM,
            directory.scope_key(Scope.TEAM, team=team),
            f"team:{team}",
        )
    else:
        scope, key, audit_target = (
            Scope.WORKSPACE,
            directory.scope_key(Scope.WORKSPACE),
            "workspace",
        )
    rule, added = await find_or_add_rule(
        ctx.session,
        workspace_id=ctx.workspace.id,
        purpose=directory.NUDGE,
        scope=scope,
        key=key,
        team=team,
        person_id=person.id if person else None,
    )
    previous = None if added else _rule_details(rule)
    apply_spec(rule, spec, ctx.now)
    await ctx.session.flush()
    ctx.audit("cadence.set", audit_target, **_rule_details(rule), previous=previous)

    words = cadence_words(ctx.locale, spec)
    if person is not None:
        lines = [ctx.about(person, "cadence.set", cadence=words)]
        occurrence = await next_nudge(ctx, person)
    else:
        if team is not None:
            lines = [ctx.say("cadence.set.team", team=echo(team), cadence=words)]
        else:
            lines = [ctx.say("cadence.set.workspace", cadence=words)]
        try:
            occurrence = next_occurrence(
                spec, await workspace_availability(ctx.session, ctx.workspace), ctx.now
            )
        except NoAllowedDayError:
            occurrence = None
    lines.append(_next_line(ctx, occurrence))
    policy = directory.policy_of(ctx.workspace)
    if not policy.work_start <= spec.at <= policy.work_end:
        notes.append(
            ctx.say(
                "cadence.outside_hours",
                time=clock_time(spec.at),
                start=clock_time(policy.work_start),
                end=clock_time(policy.work_end),
            )
        )
    return Outcome("\n".join(lines + notes))


def _rule_details(rule: CadenceRule) -> dict[str, object]:
    return {
        "frequency": rule.frequency,
        "weekday": rule.weekday,
        "ordinal": rule.ordinal,
        "at": rule.at_time,
    }


def _next_line(ctx: Context, occurrence: Occurrence | None) -> str:
    if occurrence is None:
        return ctx.say("cadence.next_none")
    return ctx.say(
        "cadence.next", moment=moment_words(ctx.locale, occurrence), zone=zone_name(occurrence)
    )


# --- kinds ---------------------------------------------------------------------------------


def apply_kinds(person: Person, kinds: tuple[Kind, ...]) -> list[str] | None:
    """Store the kinds a manager gets; every kind is stored as None (no limit)."""
    value = None if set(kinds) >= set(Kind) else [kind.value for kind in kinds]
    person.enabled_kinds = value
    return value


def kinds_reply(ctx: Context, person: Person) -> str:
    """Say which kinds of nudge ``person`` gets now."""
    words = kind_words(person.enabled_kinds)
    if words is None:
        return ctx.about(person, "kinds.all")
    return ctx.about(person, "kinds.some", kinds=words)


async def set_kinds(ctx: Context, command: ast.Kinds) -> Outcome:
    """Limit the kinds of nudge a manager gets, or lift the limit."""
    person = await ctx.person(command.manager)
    previous = person.enabled_kinds
    value = apply_kinds(person, command.kinds)
    ctx.audit("kinds.set", person_target(person), kinds=value, previous=previous)
    return Outcome(kinds_reply(ctx, person))


# --- pause and resume ----------------------------------------------------------------------


def pause_person(ctx: Context, person: Person, until: ast.PauseUntil) -> date:
    """Pause ``person`` and return the day messages start again; fail on a day not ahead."""
    today = ctx.today_of(person)
    resume_on = (
        today + timedelta(days=until.days) if isinstance(until, ast.RelativePause) else until
    )
    if resume_on <= today:
        raise ctx.fail("pause.not_ahead", date=resume_on.isoformat())
    if (resume_on - today).days > MAX_PAUSE_DAYS:
        raise ctx.fail("pause.too_far", date=resume_on.isoformat(), max=MAX_PAUSE_DAYS)
    # paused_until is the last quiet day: messages start again on the day that was named.
    person.paused_until = resume_on - timedelta(days=1)
    return resume_on


async def pause(ctx: Context, command: ast.Pause) -> Outcome:
    """Pause all messages to a person until a day."""
    person = await ctx.person(command.target)
    previous = person.paused_until
    resume_on = pause_person(ctx, person, command.until)
    ctx.audit(
        "pause.set",
        person_target(person),
        resume_on=resume_on.isoformat(),
        previous=previous.isoformat() if previous else None,
    )
    return Outcome(ctx.about(person, "pause.set", day=format_day(ctx.locale, resume_on)))


def is_paused(ctx: Context, person: Person) -> bool:
    """Tell whether ``person`` is paused today."""
    return person.paused_until is not None and person.paused_until >= ctx.today_of(person)


async def resume(ctx: Context, command: ast.Resume) -> Outcome:
    """End a person's pause now."""
    person = await ctx.person(command.target)
    if not is_paused(ctx, person):
        return Outcome(ctx.about(person, "resume.not_paused"))
    previous = person.paused_until
    person.paused_until = None
    ctx.audit(
        "pause.end", person_target(person), previous=previous.isoformat() if previous else None
    )
    return Outcome(ctx.about(person, "resume.done"))


# --- time zone, language, country -----------------------------------------------------------


def timezone_reply(ctx: Context, person: Person) -> str:
    """Say a person's zone and the time there now."""
    zone = directory.zone_of(ctx.workspace, person)
    local = clock_time(ctx.now.astimezone(zone).time())
    return ctx.about(person, "timezone.set", zone=zone.key, time=local)


async def set_timezone(ctx: Context, command: ast.Timezone) -> Outcome:
    """Set a person's time zone."""
    person = await ctx.person(command.target)
    previous = person.timezone
    person.timezone = command.zone
    person.timezone_source = None  # an explicit choice: Outlook never overrides it
    ctx.audit("timezone.set", person_target(person), zone=command.zone, previous=previous)
    return Outcome(timezone_reply(ctx, person))


async def set_language(ctx: Context, command: ast.Language) -> Outcome:
    """Set a person's language, or the workspace default when nobody is mentioned."""
    if isinstance(command.target, ast.SelfRef):
        previous = ctx.workspace.default_locale
        ctx.workspace.default_locale = command.locale
        ctx.audit("language.set", "workspace", language=command.locale, previous=previous)
        name = language_name(ctx.locale, command.locale)
        return Outcome(ctx.say("language.workspace", language=name))
    person = await ctx.person(command.target)
    earlier = person.locale
    person.locale = command.locale
    ctx.audit("language.set", person_target(person), language=command.locale, previous=earlier)
    return Outcome(
        ctx.about(person, "language.set", language=language_name(ctx.locale, command.locale))
    )


async def set_country(ctx: Context, command: ast.Country) -> Outcome:
    """Set the country whose public holidays nothing is sent on: the workspace's or a person's."""
    if command.person is not None or command.code is None:
        return await set_person_country(ctx, command)
    previous = ctx.workspace.country
    ctx.workspace.country = command.code
    ctx.audit("country.set", "workspace", country=command.code, previous=previous)
    return Outcome(ctx.say("country.set", country=country_name(ctx.locale, command.code)))


# --- blackout days -------------------------------------------------------------------------


def _workspace_today(ctx: Context) -> date:
    return ctx.now.astimezone(directory.zone_of(ctx.workspace)).date()


def _day_words(ctx: Context, day: date) -> str:
    return ctx.say("blackout.day", date=day.isoformat(), day=format_day(ctx.locale, day))


async def _blackout(ctx: Context, day: date) -> BlackoutDate | None:
    found: BlackoutDate | None = await ctx.session.scalar(
        select(BlackoutDate).where(
            BlackoutDate.workspace_id == ctx.workspace.id, BlackoutDate.day == day
        )
    )
    return found


async def list_blackouts(ctx: Context, command: ast.BlackoutList) -> Outcome:
    """List the blackout days from today on."""
    days = (
        await ctx.session.scalars(
            select(BlackoutDate.day)
            .where(
                BlackoutDate.workspace_id == ctx.workspace.id,
                BlackoutDate.day >= _workspace_today(ctx),
            )
            .order_by(BlackoutDate.day)
        )
    ).all()
    if not days:
        return Outcome(ctx.say("blackout.none"))
    lines = [ctx.say("blackout.title", count=len(days))]
    lines.extend(ctx.say("blackout.line", day=_day_words(ctx, day)) for day in days)
    if ctx.workspace.country:
        country = country_name(ctx.locale, ctx.workspace.country)
        lines.append(ctx.say("blackout.holidays", country=country))
    return Outcome("\n".join(lines))


async def add_blackout(ctx: Context, command: ast.BlackoutAdd) -> Outcome:
    """Add a day on which nothing is sent."""
    words = _day_words(ctx, command.day)
    if command.day < _workspace_today(ctx):
        raise ctx.fail("blackout.past", day=words)
    if await _blackout(ctx, command.day) is not None:
        return Outcome(ctx.say("blackout.already", day=words))
    ctx.session.add(BlackoutDate(workspace_id=ctx.workspace.id, day=command.day))
    ctx.audit("blackout.add", command.day.isoformat())
    return Outcome(ctx.say("blackout.added", day=words))


async def remove_blackout(ctx: Context, command: ast.BlackoutRemove) -> Outcome:
    """Remove a blackout day."""
    words = _day_words(ctx, command.day)
    found = await _blackout(ctx, command.day)
    if found is None:
        raise ctx.fail("blackout.missing", day=words)
    await ctx.session.delete(found)
    ctx.audit("blackout.remove", command.day.isoformat())
    return Outcome(ctx.say("blackout.removed", day=words))


# --- budget --------------------------------------------------------------------------------


async def set_budget(ctx: Context, command: ast.Budget) -> Outcome:
    """Set how many bot messages a person gets per week at most."""
    previous = directory.policy_of(ctx.workspace).budget
    # Only this key changes: other settings, and ones a later version adds, stay as they are.
    ctx.workspace.settings = {**(ctx.workspace.settings or {}), "budget": command.per_week}
    ctx.audit("budget.set", "workspace", budget=command.per_week, previous=previous)
    return Outcome(ctx.say("budget.set", budget=command.per_week, previous=previous))
