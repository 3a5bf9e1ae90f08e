"""Route every pulse command to the pulse package, inside the command's transaction."""

from __future__ import annotations

from nudges.commands.context import Context, Outcome
from nudges.commands.pulse_admin import PulseCommand, run_pulse_command

__all__ = ["PulseCommand", "run_pulse"]


async def run_pulse(ctx: Context, command: PulseCommand) -> Outcome:
    """Carry out a pulse command; a reply that is not ok makes the service roll back."""
    reply = await run_pulse_command(
        ctx.session, ctx.dispatcher, ctx.workspace, ctx.actor, ctx.now, ctx.prefix, command
    )
    return Outcome(reply.text, ok=reply.ok)
