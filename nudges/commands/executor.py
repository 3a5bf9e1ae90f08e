"""Check who may run a parsed command, then run it against the store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nudges.commands import ast, me, people, rights, sending, settings, workweeks
from nudges.commands.context import Context, Failure, Outcome
from nudges.commands.dashboard import dashboard_link
from nudges.commands.help import help_text
from nudges.commands.parser import CommandError, render_error
from nudges.commands.pulse import run_pulse
from nudges.commands.status import person_status, workspace_status
from nudges.commands.topics import TOPICS_BY_KEY
from nudges.commands.wording import mentions

Handler = Callable[[Context, Any], Awaitable[Outcome]]

# Admins named in a refusal; a long list would bury the message.
MAX_NAMED_ADMINS = 5


async def show_help(ctx: Context, command: ast.Help) -> Outcome:
    """Show the help overview or one topic, with admin topics only for admins."""
    return Outcome(help_text(ctx.locale, command.topic, ctx.prefix, ctx.is_admin))


async def show_status(ctx: Context, command: ast.Status) -> Outcome:
    """Show one person's settings, or the workspace's."""
    if isinstance(command.target, ast.PersonRef):
        return await person_status(ctx, await ctx.known(command.target))
    return await workspace_status(ctx)


# Each command's help topic (named in refusals) and its handler.
COMMANDS: dict[type[ast.Command], tuple[str, Handler]] = {
    ast.Help: ("help", show_help),
    ast.Status: ("status", show_status),
    ast.Cadence: ("cadence", settings.set_cadence),
    ast.Kinds: ("kinds", settings.set_kinds),
    ast.TeamList: ("team", people.list_team),
    ast.TeamAdd: ("team", people.add_to_team),
    ast.TeamRemove: ("team", people.remove_from_team),
    ast.Pause: ("pause", settings.pause),
    ast.Resume: ("resume", settings.resume),
    ast.Timezone: ("timezone", settings.set_timezone),
    ast.Language: ("language", settings.set_language),
    ast.Country: ("country", settings.set_country),
    ast.Workweek: ("workweek", workweeks.set_workweek),
    ast.Away: ("away", workweeks.away),
    ast.BlackoutList: ("blackout", settings.list_blackouts),
    ast.BlackoutAdd: ("blackout", settings.add_blackout),
    ast.BlackoutRemove: ("blackout", settings.remove_blackout),
    ast.Budget: ("budget", settings.set_budget),
    ast.AdminsList: ("admins", people.list_admins),
    ast.AdminsAdd: ("admins", people.add_admin),
    ast.AdminsRemove: ("admins", people.remove_admin),
    ast.Dashboard: ("dashboard", dashboard_link),
    ast.SampleNudge: ("test", sending.sample),
    ast.SendNow: ("send_now", sending.send_now),
    ast.PulseSchedule: ("pulse_schedule", run_pulse),
    ast.PulseNow: ("pulse_now", run_pulse),
    ast.PulseOff: ("pulse_off", run_pulse),
    ast.PulseOn: ("pulse_on", run_pulse),
    ast.PulseThreshold: ("pulse_threshold", run_pulse),
    ast.PulseResults: ("pulse_results", run_pulse),
    ast.PulseAsk: ("pulse_ask", run_pulse),
    ast.PulseQuestions: ("pulse_questions", run_pulse),
    ast.PulseRetire: ("pulse_retire", run_pulse),
    ast.MeStatus: ("me_status", me.status),
    ast.MePause: ("me_pause", me.pause),
    ast.MeResume: ("me_resume", me.resume),
    ast.MeLanguage: ("me_language", me.language),
    ast.MeTimezone: ("me_timezone", me.timezone),
    ast.MeKinds: ("me_kinds", me.kinds),
    ast.MeWorkweek: ("me_workweek", workweeks.me_workweek),
    ast.MeAway: ("me_away", workweeks.me_away),
    ast.MeProgramme: ("me_programme", me.programme),
    ast.MeOptOut: ("me_optout", me.opt_out),
    ast.MeOptIn: ("me_optin", me.opt_in),
    ast.Export: ("export", rights.export),
    ast.Forget: ("forget", rights.forget),
    ast.Retention: ("retention", rights.retention),
    ast.Audit: ("audit", rights.audit),
    ast.MeExport: ("me_export", rights.me_export),
    ast.MeForget: ("me_forget", rights.me_forget),
}


async def refusal(ctx: Context, topic: str) -> Outcome:
    """Refuse an admin command politely, naming who can help."""
    command = ctx.prefix + TOPICS_BY_KEY[topic].words
    admins = [admin.external_id for admin in await ctx.stored_admins()]
    if not admins:
        return Outcome(ctx.say("refusal.owners", command=command), ok=False)
    named = mentions(ctx.locale, admins[:MAX_NAMED_ADMINS], "or")
    return Outcome(ctx.say("refusal.admins", command=command, admins=named), ok=False)


async def execute(ctx: Context, parsed: ast.Command | CommandError) -> Outcome:
    """Run a parsed command, or explain the parse error, if the actor may."""
    if isinstance(parsed, CommandError):
        # A non-admin mistyping an admin command needs to hear who can help, not the grammar.
        if TOPICS_BY_KEY[parsed.topic].admin_only and not ctx.is_admin:
            return await refusal(ctx, parsed.topic)
        return Outcome(render_error(parsed, ctx.locale, ctx.prefix), ok=False)
    topic, handler = COMMANDS[type(parsed)]
    if parsed.admin_only and not ctx.is_admin:
        return await refusal(ctx, topic)
    try:
        return await handler(ctx, parsed)
    except Failure as failure:
        return Outcome(failure.text, ok=False)
