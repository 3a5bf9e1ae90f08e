"""Answer the pulse commands until pulse polls exist (a later issue replaces this module)."""

from __future__ import annotations

from nudges.commands import ast
from nudges.commands.context import Context, Outcome

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


async def run_pulse(ctx: Context, command: PulseCommand) -> Outcome:
    """Say that pulse polls are not available yet, and change nothing."""
    return Outcome(ctx.say("pulse.unavailable"), ok=False)
