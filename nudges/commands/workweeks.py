"""Set working weeks, a person's country and time off: ``workweek``, ``country @x``, ``away``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select

from nudges.commands import ast
from nudges.commands.context import Context, Outcome, person_target
from nudges.commands.wording import country_name
from nudges.domain import Scope
from nudges.i18n import format_day, format_moment, t
from nudges.people import directory, workweeks
from nudges.people.workweeks import WorkweekBook
from nudges.scheduling.calendar import MoveReason, blocked_reason, next_allowed_moment
from nudges.scheduling.workweek import WorkWeek, days_text
from nudges.store.org import Person, ReportingLine
from nudges.store.workweeks import TimeOff

__all__ = [
    "away",
    "leave_words",
    "me_away",
    "me_workweek",
    "off_now",
    "set_person_country",
    "set_workweek",
    "week_words",
    "working_time_lines",
    "workspace_week_line",
]


def week_words(locale: str, week: WorkWeek) -> str:
    """Write a week as ``mon-thu 08:30–16:30`` in the reader's language."""
    names = t(locale, "replies.workweek.day_names").split(",")
    return t(
        locale,
        "replies.workweek.week",
        days=days_text(week.days, names),
        start=f"{week.start:%H:%M}",
        end=f"{week.end:%H:%M}",
    )


def source_words(locale: str, source: str) -> str:
    """Say where a week comes from: the person, a team, the workspace or the default."""
    return t(locale, f"replies.workweek.source.{source.split(':', 1)[0]}")


def _complete(week: ast.Week, fallback: WorkWeek) -> WorkWeek:
    if week.start is None or week.end is None:
        return WorkWeek(week.days, fallback.start, fallback.end)
    return WorkWeek(week.days, week.start, week.end)


async def _person_week(ctx: Context, person: Person, week: ast.Week | None, source: str) -> str:
    """Store or clear one person's week and say what now applies."""
    book = await WorkweekBook.load(ctx.session, ctx.workspace)
    key = directory.scope_key(Scope.PERSON, person_id=person.id)
    chosen = None if week is None else _complete(week, book.week_for(person.id)[0])
    previous = await workweeks.set_pattern(
        ctx.session, ctx.workspace, key, chosen, source=source, person_id=person.id
    )
    ctx.audit(
        "me.workweek" if source == "self" else "workweek.set",
        person_target(person),
        week=_stored(chosen),
        previous=_stored(workweeks.pattern_of(previous)) if previous else None,
    )
    await ctx.session.flush()
    fresh = await WorkweekBook.read(ctx.session, ctx.workspace)
    now_week, now_source = fresh.week_for(person.id)
    words = week_words(ctx.locale, now_week)
    if chosen is None:
        return ctx.about(
            person, "workweek.cleared", week=words, source=source_words(ctx.locale, now_source)
        )
    return ctx.about(person, "workweek.set", week=words)


async def _stored_team(ctx: Context, typed: str) -> str:
    """Return the org chart's spelling of a team name (matched ignoring case), else as typed."""
    teams = await ctx.session.scalars(
        select(ReportingLine.team)
        .where(ReportingLine.workspace_id == ctx.workspace.id, ReportingLine.team != "")
        .distinct()
    )
    wanted = typed.casefold()
    return next((team for team in teams.all() if team.casefold() == wanted), typed)


def _stored(week: WorkWeek | None) -> str | None:
    if week is None:
        return None
    return f"{','.join(str(d) for d in sorted(week.days))} {week.hours_text()}"


async def set_workweek(ctx: Context, command: ast.Workweek) -> Outcome:
    """Set or clear the working week of a person, a team or the workspace."""
    target = command.target
    if isinstance(target, ast.PersonRef):
        person = await ctx.person(target)
        return Outcome(await _person_week(ctx, person, command.week, "admin"))
    book = await WorkweekBook.load(ctx.session, ctx.workspace)
    if isinstance(target, ast.TeamRef):
        team = await _stored_team(ctx, target.name)
        key = f"team:{team}"
    else:
        key, team = "workspace", None
    row = book.patterns.get(key)
    base = workweeks.pattern_of(row) if row else directory.default_week(ctx.workspace)
    chosen = None if command.week is None else _complete(command.week, base)
    previous = await workweeks.set_pattern(
        ctx.session, ctx.workspace, key, chosen, source="admin", team=team
    )
    ctx.audit(
        "workweek.set",
        key,
        week=_stored(chosen),
        previous=_stored(workweeks.pattern_of(previous)) if previous else None,
    )
    scope = "team" if team else "workspace"
    if chosen is None:
        default = week_words(ctx.locale, directory.default_week(ctx.workspace))
        return Outcome(ctx.say(f"workweek.cleared.{scope}", team=team or "", week=default))
    words = week_words(ctx.locale, chosen)
    return Outcome(ctx.say(f"workweek.set.{scope}", team=team or "", week=words))


async def me_workweek(ctx: Context, command: ast.MeWorkweek) -> Outcome:
    """Set or clear the caller's own working week."""
    return Outcome(await _person_week(ctx, ctx.actor, command.week, "self"))


def _country_words(ctx: Context, code: str | None) -> str:
    return country_name(ctx.locale, code) if code else t(ctx.locale, "home.no_country")


async def set_person_country(ctx: Context, command: ast.Country) -> Outcome:
    """Set or clear the country whose public holidays apply to one person."""
    assert command.person is not None
    person = await ctx.person(command.person)
    previous = person.country
    person.country = command.code
    ctx.audit("country.set", person_target(person), country=command.code, previous=previous)
    if command.code is None:
        name = _country_words(ctx, ctx.workspace.country)
        return Outcome(ctx.about(person, "country.cleared", country=name))
    return Outcome(
        ctx.about(person, "country.person", country=country_name(ctx.locale, command.code))
    )


async def _leave(ctx: Context, person: Person) -> list[TimeOff]:
    rows = await ctx.session.scalars(
        select(TimeOff)
        .where(TimeOff.person_id == person.id, TimeOff.last_day >= ctx.today_of(person))
        .order_by(TimeOff.first_day)
    )
    return list(rows.all())


def leave_words(locale: str, first: date, last: date) -> str:
    """Write one stretch of leave as ``Mon 21 Dec – Sun 3 Jan``."""
    if first == last:
        return format_day(locale, first)
    return t(
        locale,
        "replies.away.span",
        first=format_day(locale, first),
        last=format_day(locale, last),
    )


async def _away(
    ctx: Context, person: Person, first: date | None, last: date | None, clear: bool, action: str
) -> Outcome:
    if clear:
        ahead = await _leave(ctx, person)
        await ctx.session.execute(delete(TimeOff).where(TimeOff.id.in_([row.id for row in ahead])))
        ctx.audit(f"{action}.clear", person_target(person), removed=len(ahead))
        return Outcome(ctx.about(person, "away.cleared", count=len(ahead)))
    if first is None or last is None:
        ahead = await _leave(ctx, person)
        if not ahead:
            return Outcome(ctx.about(person, "away.none"))
        lines = [ctx.about(person, "away.title")]
        lines += [f"• {leave_words(ctx.locale, row.first_day, row.last_day)}" for row in ahead]
        return Outcome("\n".join(lines))
    if last < ctx.today_of(person):
        raise ctx.fail("away.past", span=leave_words(ctx.locale, first, last))
    ctx.session.add(
        TimeOff(workspace_id=ctx.workspace.id, person_id=person.id, first_day=first, last_day=last)
    )
    ctx.audit(
        f"{action}.add", person_target(person), first=first.isoformat(), last=last.isoformat()
    )
    return Outcome(ctx.about(person, "away.set", span=leave_words(ctx.locale, first, last)))


async def away(ctx: Context, command: ast.Away) -> Outcome:
    """Add, list or clear a person's time off."""
    person = await ctx.known(command.person)
    return await _away(ctx, person, command.first, command.last, command.clear, "away")


async def me_away(ctx: Context, command: ast.MeAway) -> Outcome:
    """Add, list or clear the caller's own time off."""
    return await _away(ctx, ctx.actor, command.first, command.last, command.clear, "me.away")


async def working_time_lines(ctx: Context, person: Person) -> list[str]:
    """Describe a person's working week, holiday country and time off ahead, for ``status``."""
    book = await WorkweekBook.load(ctx.session, ctx.workspace)
    week, source = book.week_for(person.id)
    country = person.country or ctx.workspace.country
    lines = [
        ctx.say(
            "status.workweek",
            week=week_words(ctx.locale, week),
            source=source_words(ctx.locale, source),
        ),
        ctx.say(
            "status.holidays",
            country=country_name(ctx.locale, country)
            if country
            else t(ctx.locale, "home.no_country"),
            source=ctx.say("status.source.own" if person.country else "status.source.workspace"),
        ),
    ]
    ahead = await _leave(ctx, person)
    if ahead:
        spans = [leave_words(ctx.locale, row.first_day, row.last_day) for row in ahead[:3]]
        lines.append(ctx.say("status.away", spans="; ".join(spans)))
    return lines


async def workspace_week_line(ctx: Context) -> str:
    """Describe the workspace's working week and how many teams or people have their own."""
    book = await WorkweekBook.load(ctx.session, ctx.workspace)
    row = book.patterns.get("workspace")
    week = workweeks.pattern_of(row) if row else directory.default_week(ctx.workspace)
    return ctx.say(
        "status.workspace_week",
        week=week_words(ctx.locale, week),
        source=source_words(ctx.locale, "workspace" if row else "default"),
        count=sum(1 for key in book.patterns if key != "workspace"),
    )


async def off_now(ctx: Context, person: Person, command: str) -> str | None:
    """Say plainly that ``person`` is not working now and how to send anyway, or None.

    ``command`` names the confirmed command to suggest (``send_now`` or ``test``).
    """
    avail = await workweeks.availability_of(ctx.session, ctx.workspace, person)
    local = ctx.now.astimezone(avail.timezone)
    reason = blocked_reason(local.date(), avail)
    if reason is None and not avail.work_start <= local.time() <= avail.work_end:
        reason = (
            MoveReason.AFTER_HOURS if local.time() > avail.work_end else MoveReason.BEFORE_HOURS
        )
    if reason is None:
        return None
    why = t(
        ctx.locale,
        f"replies.send.why.{reason.value}",
        day=format_day(ctx.locale, local.date()),
        moment=format_moment(ctx.locale, next_allowed_moment(local, avail)),
    )
    again = ctx.say(f"send.confirm.{command}", person=person.external_id)
    return ctx.about(person, "send.off", why=why, command=again)
