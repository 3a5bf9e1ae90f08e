"""Name the Nudgebot workspace a Slack request or installation belongs to, Enterprise Grid included.

An org-wide install (``is_enterprise_install``) is one installation for every workspace of the
org, and its people carry org-wide ``W…`` ids: the org itself (``E…``) is the Nudgebot workspace,
so a person seen in several of its workspaces is one person for nudges, polls and budgets. Every
other install, in a Grid org or not, is the workspace (``T…``) it was installed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext


def workspace_key(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> str:
    """Return the Nudgebot workspace id: the org for an org-wide install, else the workspace."""
    if org_wide and enterprise_id:
        return enterprise_id
    return team_id or ""


def workspace_of(body: Mapping[str, Any], context: AsyncBoltContext) -> str:
    """Return the Nudgebot workspace of a request, as Bolt's authorization looked it up."""
    # Bolt reads these from the payload the way it authorizes it (authorizations[0] for events).
    return workspace_key(context.enterprise_id, team_of(body), context.is_enterprise_install)


def team_of(body: Mapping[str, Any]) -> str:
    """Return the Slack workspace (``T…``) a request came from, wherever the payload keeps it."""
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    # Interactivity payloads of org-wide installs may carry "team": null; the clicker's is kept.
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    view = body.get("view")
    if isinstance(view, Mapping) and view.get("team_id"):
        return str(view["team_id"])
    return ""


__all__ = ["team_of", "workspace_key", "workspace_of"]
