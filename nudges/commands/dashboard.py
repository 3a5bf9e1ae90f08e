"""Answer an admin's ``dashboard`` with a sign-in link meant for them alone."""

from __future__ import annotations

from nudges.commands import ast
from nudges.commands.context import Context, Outcome, person_target
from nudges.i18n import t
from nudges.people.directory import workspace_label


async def dashboard_link(ctx: Context, command: ast.Dashboard) -> Outcome:
    """Reply with a short-lived sign-in link, only where nobody else reads the reply."""
    links = ctx.dashboard_links
    if links is None:
        return Outcome(ctx.say("dashboard.unavailable"), ok=False)
    if not ctx.private:
        return Outcome(ctx.say("dashboard.private_only"), ok=False)
    url = links.link_for(ctx.workspace.id, ctx.actor.external_id)
    # Who was handed a way in is worth a line in the audit log (never the link itself).
    ctx.audit("dashboard.link", person_target(ctx.actor), minutes=links.link_minutes)
    return Outcome(
        t(
            ctx.locale,
            "dashboard.link_reply",
            workspace=workspace_label(ctx.workspace),
            minutes=links.link_minutes,
            url=url,
        )
    )
