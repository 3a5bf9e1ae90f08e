"""Let anyone change their own settings with ``me …``."""

from __future__ import annotations

from nudges.commands import ast
from nudges.commands.context import Context, Outcome, person_target
from nudges.commands.settings import (
    apply_kinds,
    is_paused,
    kinds_reply,
    pause_person,
    timezone_reply,
)
from nudges.commands.status import person_status
from nudges.commands.wording import language_name
from nudges.i18n import format_day


async def status(ctx: Context, command: ast.MeStatus) -> Outcome:
    """Show the actor's own settings."""
    return await person_status(ctx, ctx.actor)


async def pause(ctx: Context, command: ast.MePause) -> Outcome:
    """Pause the actor's own messages."""
    me = ctx.actor
    previous = me.paused_until
    resume_on = pause_person(ctx, me, command.until)
    ctx.audit(
        "me.pause",
        person_target(me),
        resume_on=resume_on.isoformat(),
        previous=previous.isoformat() if previous else None,
    )
    return Outcome(ctx.about(me, "pause.set", day=format_day(ctx.locale, resume_on)))


async def resume(ctx: Context, command: ast.MeResume) -> Outcome:
    """End the actor's own pause."""
    me = ctx.actor
    if not is_paused(ctx, me):
        return Outcome(ctx.about(me, "resume.not_paused"))
    previous = me.paused_until
    me.paused_until = None
    ctx.audit("me.resume", person_target(me), previous=previous.isoformat() if previous else None)
    return Outcome(ctx.about(me, "resume.done"))


async def language(ctx: Context, command: ast.MeLanguage) -> Outcome:
    """Set the actor's own language; the reply is already in it."""
    me = ctx.actor
    previous = me.locale
    me.locale = command.locale
    ctx.audit("me.language", person_target(me), language=command.locale, previous=previous)
    return Outcome(ctx.about(me, "language.set", language=language_name(ctx.locale, me.locale)))


async def timezone(ctx: Context, command: ast.MeTimezone) -> Outcome:
    """Set the actor's own time zone."""
    me = ctx.actor
    previous = me.timezone
    me.timezone = command.zone
    me.timezone_source = None  # an explicit choice: Outlook never overrides it
    ctx.audit("me.timezone", person_target(me), zone=command.zone, previous=previous)
    return Outcome(timezone_reply(ctx, me))


async def kinds(ctx: Context, command: ast.MeKinds) -> Outcome:
    """Choose the kinds of nudge the actor gets."""
    me = ctx.actor
    previous = me.enabled_kinds
    value = apply_kinds(me, command.kinds)
    ctx.audit("me.kinds", person_target(me), kinds=value, previous=previous)
    return Outcome(kinds_reply(ctx, me))


async def programme(ctx: Context, command: ast.MeProgramme) -> Outcome:
    """Join or leave a programme; joining starts it today in the actor's own calendar."""
    me = ctx.actor
    try:
        found = ctx.catalogue.programme(command.programme.value)
        title, weeks = found.title(ctx.locale), len(found.weeks)
    except KeyError:
        raise ctx.fail("programme.missing", programme=command.programme.value) from None
    today = ctx.today_of(me)
    current = me.programme == command.programme.value and me.programme_started_on is not None
    if command.join:
        if current and me.programme_started_on is not None:
            week = min(weeks, (today - me.programme_started_on).days // 7 + 1)
            return Outcome(ctx.say("programme.already", programme=title, week=week, weeks=weeks))
        me.programme = command.programme.value
        me.programme_started_on = today
        ctx.audit("me.programme.join", person_target(me), programme=me.programme)
        return Outcome(ctx.say("programme.joined", programme=title, weeks=weeks))
    if not current:
        return Outcome(ctx.say("programme.not_in", programme=title))
    me.programme = None
    me.programme_started_on = None
    ctx.audit("me.programme.leave", person_target(me), programme=command.programme.value)
    return Outcome(ctx.say("programme.left", programme=title))


async def opt_out(ctx: Context, command: ast.MeOptOut) -> Outcome:
    """Stop every message to the actor."""
    me = ctx.actor
    if me.opted_out:
        return Outcome(ctx.say("optout.already"))
    me.opted_out = True
    ctx.audit("me.optout", person_target(me))
    return Outcome(ctx.say("optout.done"))


async def opt_in(ctx: Context, command: ast.MeOptIn) -> Outcome:
    """Undo the actor's opt-out."""
    me = ctx.actor
    if not me.opted_out:
        return Outcome(ctx.say("optin.already"))
    me.opted_out = False
    ctx.audit("me.optin", person_target(me))
    return Outcome(ctx.say("optin.done"))
