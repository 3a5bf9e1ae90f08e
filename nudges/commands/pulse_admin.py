"""Carry out the admins' ``pulse`` commands: schedule, now, off/on, threshold, results, questions.

Each function changes the store inside the caller's transaction and returns the reply; a reply
that is not ``ok`` means the caller rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from nudges.commands import ast
from nudges.commands.context import Audits
from nudges.domain import Scope
from nudges.i18n import format_moment, t
from nudges.messages import untyped
from nudges.people import directory, workweeks
from nudges.pulse.bank import load_bank, next_custom_key
from nudges.pulse.digest import result_lines
from nudges.pulse.groups import Group, groups_of_team, groups_of_workspace
from nudges.pulse.messages import dimension_label, local_moment, team_label
from nudges.pulse.opening import open_now
from nudges.pulse.planning import Dispatcher
from nudges.pulse.results import load_polls, results_of
from nudges.scheduling.cadences import apply_spec, find_or_add_rule
from nudges.scheduling.calendar import CadenceSpec, NoAllowedDayError, next_occurrence
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseCustomQuestion, PulseRetiredQuestion

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

PulseCommand = (
    ast.PulseSchedule
    | ast.PulseNow
    | ast.PulseOff
    | ast.PulseOn
    | ast.PulseThreshold
    | ast.PulseResults
    | ast.PulseAsk
    | ast.PulseQuestions
    | ast.PulseRetire
)


@dataclass(frozen=True)
class PulseReply:
    """The reply to a pulse command, and whether it succeeded."""

    text: str
    ok: bool = True


@dataclass
class PulseContext(Audits):
    """What a pulse command runs with."""

    session: AsyncSession
    dispatcher: Dispatcher
    workspace: Workspace
    actor: Person
    now: datetime
    prefix: str

    @property
    def locale(self) -> str:
        """Return the actor's language."""
        return directory.locale_of(self.workspace, self.actor)

    def say(self, key: str, /, **params: object) -> str:
        """Translate a reply of the pulse catalogue."""
        return t(self.locale, f"pulse.command.{key}", prefix=self.prefix, **params)

    def set_setting(self, key: str, value: object) -> None:
        """Change one workspace setting and leave the others as they are."""
        self.workspace.settings = {**(self.workspace.settings or {}), key: value}

    async def managers(self) -> dict[int, str]:
        """Return every person's platform id by person id, for naming teams."""
        rows = await self.session.execute(
            select(Person.id, Person.external_id).where(Person.workspace_id == self.workspace.id)
        )
        return {person_id: external for person_id, external in rows}


async def _target_groups(ctx: PulseContext, target: ast.PulseTarget) -> list[Group] | PulseReply:
    if isinstance(target, ast.TeamRef):
        groups = await groups_of_team(ctx.session, ctx.workspace.id, target.name)
        if not groups:
            return PulseReply(ctx.say("unknown_team", team=f"#{target.name}"), ok=False)
        return groups
    return await groups_of_workspace(ctx.session, ctx.workspace.id)


def _target_label(ctx: PulseContext, target: ast.PulseTarget, groups: list[Group]) -> str:
    if isinstance(target, ast.TeamRef):
        team = groups[0].team if groups else target.name
        return t(ctx.locale, "pulse.team.named", team=team)
    return ctx.say("workspace")


async def schedule(ctx: PulseContext, command: ast.PulseSchedule) -> PulseReply:
    """Create or replace the pulse cadence of a team or of the workspace."""
    spec = CadenceSpec(command.frequency, command.weekday, command.at, command.ordinal)
    if isinstance(command.target, ast.TeamRef):
        groups = await _target_groups(ctx, command.target)
        if isinstance(groups, PulseReply):
            return groups
        team: str | None = groups[0].team
        scope = Scope.TEAM
    else:
        groups, team, scope = [], None, Scope.WORKSPACE
    key = directory.scope_key(scope, team=team)
    rule, _added = await find_or_add_rule(
        ctx.session,
        workspace_id=ctx.workspace.id,
        purpose=directory.PULSE,
        scope=scope,
        key=key,
        team=team,
    )
    apply_spec(rule, spec, ctx.now)
    ctx.audit(
        "pulse.schedule",
        key,
        frequency=spec.frequency.value,
        weekday=spec.weekday,
        ordinal=spec.ordinal,
        at=rule.at_time,
    )
    label = _target_label(ctx, command.target, groups)
    avail = await workweeks.availability_of(ctx.session, ctx.workspace, ctx.actor)
    try:
        occurrence = next_occurrence(spec, avail, ctx.now)
    except NoAllowedDayError:
        lines = [ctx.say("schedule_no_slot", target=label)]
    else:
        moment = format_moment(ctx.locale, occurrence.local)
        lines = [ctx.say("schedule_set", target=label, next=moment)]
    if not directory.policy_of(ctx.workspace).pulse_enabled:
        lines.append(ctx.say("schedule_paused"))
    return PulseReply("\n".join(lines))


async def now(ctx: PulseContext, command: ast.PulseNow) -> PulseReply:
    """Open a poll at once for a team or for every team."""
    if not directory.policy_of(ctx.workspace).pulse_enabled:
        return PulseReply(ctx.say("now_disabled"), ok=False)
    groups = await _target_groups(ctx, command.target)
    if isinstance(groups, PulseReply):
        return groups
    if not groups:
        return PulseReply(ctx.say("now_no_groups"), ok=False)
    opened = await open_now(ctx.dispatcher, ctx.session, ctx.workspace, groups, ctx.now)
    managers = await ctx.managers()
    zone = directory.zone_of(ctx.workspace, ctx.actor)
    threshold = directory.policy_of(ctx.workspace).anonymity_threshold
    lines = []
    if opened.polls:
        closes = max(p.closes_at for p in opened.polls)
        lines.append(
            ctx.say(
                "now_opened",
                target=_target_label(ctx, command.target, groups),
                people=opened.people,
                groups=len(opened.polls),
                moment=local_moment(ctx.locale, closes, zone),
            )
        )
    else:
        lines.append(ctx.say("now_none"))
    for group, reason, params in opened.skipped:
        team = team_label(ctx.locale, group.key, group.team, managers)
        if reason == "already_open":
            moment = local_moment(ctx.locale, params["closes_at"], zone)
            lines.append(ctx.say("now_already_open", team=team, moment=moment))
        elif reason == "too_small":
            lines.append(
                ctx.say("now_too_small", team=team, count=params["count"], threshold=threshold)
            )
        else:
            lines.append(ctx.say("now_no_question"))
    for poll in opened.polls:
        ctx.audit("pulse.now", poll.group_key, poll_id=poll.id, question=poll.question_key)
    # Sentences, not a list: most replies are one or two of them.
    return PulseReply(" ".join(lines), ok=bool(opened.polls))


async def switch(ctx: PulseContext, enabled: bool) -> PulseReply:
    """Turn pulse polls on or off for the workspace."""
    if directory.policy_of(ctx.workspace).pulse_enabled == enabled:
        return PulseReply(ctx.say("already_on" if enabled else "already_off"))
    ctx.set_setting("pulse_enabled", enabled)
    ctx.audit("pulse.on" if enabled else "pulse.off", "workspace")
    return PulseReply(ctx.say("on" if enabled else "off"))


async def threshold(ctx: PulseContext, command: ast.PulseThreshold) -> PulseReply:
    """Set how many answers a result needs; a later drop never reaches polls already open."""
    previous = directory.policy_of(ctx.workspace).anonymity_threshold
    if command.minimum == previous:
        return PulseReply(ctx.say("threshold_same", threshold=previous))
    ctx.set_setting("anonymity_threshold", command.minimum)
    ctx.audit("pulse.threshold", "workspace", threshold=command.minimum, previous=previous)
    note = "threshold_raised" if command.minimum > previous else "threshold_lowered"
    return PulseReply(
        "\n".join(
            [
                ctx.say("threshold_set", threshold=command.minimum, previous=previous),
                ctx.say(note),
            ]
        )
    )


async def results(ctx: PulseContext, command: ast.PulseResults) -> PulseReply:
    """Show results for a team or the workspace: only what the threshold allows."""
    groups = await _target_groups(ctx, command.target)
    if isinstance(groups, PulseReply):
        return groups
    label = _target_label(ctx, command.target, groups)
    polls = await load_polls(ctx.session, ctx.workspace.id, group_keys=[g.key for g in groups])
    found = await results_of(ctx.session, polls, directory.policy_of(ctx.workspace))
    zone = directory.zone_of(ctx.workspace, ctx.actor)
    lines = result_lines(found, ctx.locale, ctx.now, zone)
    if not lines:
        return PulseReply(ctx.say("results_none", target=label))
    return PulseReply("\n".join([ctx.say("results_title", target=label), *lines]))


async def ask(ctx: PulseContext, command: ast.PulseAsk) -> PulseReply:
    """Add an admin's own question to the workspace's bank."""
    bank = await load_bank(ctx.session, ctx.workspace.id, ctx.dispatcher.catalogue)
    wanted = command.text.casefold()
    for question in bank.active():
        if any(untyped(text).casefold() == wanted for text in question.texts.values()):
            return PulseReply(ctx.say("ask_duplicate", key=question.key), ok=False)
    key = await next_custom_key(ctx.session, ctx.workspace.id)
    dimension = command.dimension.value if command.dimension else None
    ctx.session.add(
        PulseCustomQuestion(
            workspace_id=ctx.workspace.id,
            key=key,
            dimension=dimension,
            text=command.text,
            created_at=ctx.now,
        )
    )
    ctx.audit("pulse.ask", key, dimension=dimension)
    label = dimension_label(ctx.locale, command.dimension)
    return PulseReply(ctx.say("ask_added", key=key, dimension=label, text=command.text))


async def questions(ctx: PulseContext, command: ast.PulseQuestions) -> PulseReply:
    """List the bank: every question with its key, dimension and whether it is retired."""
    bank = await load_bank(ctx.session, ctx.workspace.id, ctx.dispatcher.catalogue)
    active = len(bank.active())
    lines = [
        ctx.say("questions_title", active=active, retired=len(bank.questions) - active),
    ]
    for question in bank.questions:
        lines.append(
            ctx.say(
                "question_line_retired" if question.retired else "question_line",
                key=question.key,
                dimension=dimension_label(ctx.locale, question.dimension),
                text=question.text(ctx.locale),
            )
        )
    return PulseReply("\n".join(lines))


async def retire(ctx: PulseContext, command: ast.PulseRetire) -> PulseReply:
    """Stop asking one question; earlier results stay."""
    bank = await load_bank(ctx.session, ctx.workspace.id, ctx.dispatcher.catalogue)
    question = bank.find(command.key)
    if question is None:
        return PulseReply(ctx.say("retire_unknown", key=command.key), ok=False)
    if question.retired:
        return PulseReply(ctx.say("retire_already", key=question.key))
    if len(bank.active()) == 1:
        return PulseReply(ctx.say("retire_last", key=question.key), ok=False)
    ctx.session.add(
        PulseRetiredQuestion(
            workspace_id=ctx.workspace.id, question_key=question.key, retired_at=ctx.now
        )
    )
    ctx.audit("pulse.retire", question.key)
    return PulseReply(ctx.say("retire_done", key=question.key))


async def run_pulse_command(
    session: AsyncSession,
    dispatcher: Dispatcher,
    workspace: Workspace,
    actor: Person,
    when: datetime,
    prefix: str,
    command: PulseCommand,
) -> PulseReply:
    """Carry out one pulse command for an admin and return the reply."""
    ctx = PulseContext(session, dispatcher, workspace, actor, when, prefix)
    if isinstance(command, ast.PulseSchedule):
        return await schedule(ctx, command)
    if isinstance(command, ast.PulseNow):
        return await now(ctx, command)
    if isinstance(command, ast.PulseOff | ast.PulseOn):
        return await switch(ctx, isinstance(command, ast.PulseOn))
    if isinstance(command, ast.PulseThreshold):
        return await threshold(ctx, command)
    if isinstance(command, ast.PulseResults):
        return await results(ctx, command)
    if isinstance(command, ast.PulseAsk):
        return await ask(ctx, command)
    if isinstance(command, ast.PulseQuestions):
        return await questions(ctx, command)
    return await retire(ctx, command)
