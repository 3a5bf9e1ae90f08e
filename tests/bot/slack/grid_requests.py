"""Send an app what Slack sends from the workspaces of an Enterprise Grid org, from the recorded
shapes in ``tests/fixtures/slack/grid`` (see its README), signed, into the real Bolt app."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse

from tests.bot.slack.app_harness import Harness, form_body, payload_body
from tests.bot.slack.test_app_oauth import CLIENT_ID, CLIENT_SECRET, _finish_install, _start_install

GRID = Path(__file__).parents[2] / "fixtures" / "slack" / "grid"
ORG = "E0NUDGEORG"
AMS = "T0GRIDAMS"
NYC = "T0GRIDNYC"
ANNE = "W0GRIDANNE"  # in both workspaces
BOB = "W0GRIDBOB"
ORG_ADMIN = "W0GRIDADM"
# An admin of the New York workspace only: not an admin of the org.
NYC_ADMIN = "W0GRIDNYCADM"
OTHERS = ["W0GRIDCARL", "W0GRIDDEB", "W0GRIDEVE"]


def recorded_json(name: str) -> dict[str, Any]:
    """Load a recorded Grid payload or answer."""
    loaded: dict[str, Any] = json.loads((GRID / name).read_text())
    return loaded


ORG_TOKEN = str(recorded_json("oauth_v2_access.org_wide.json")["access_token"])
AMS_TOKEN = str(recorded_json("oauth_v2_access.grid_workspace.json")["access_token"])


def grid_user(
    team: str, *, org_admin: bool = False, workspace_admin: bool = False
) -> dict[str, Any]:
    """Return users.info overrides for a member of the org whose home workspace is ``team``."""
    return {
        "team_id": team,
        "is_admin": workspace_admin,
        "enterprise_user": {
            "enterprise_id": ORG,
            "enterprise_name": "Nudgebot Test Org",
            "is_admin": org_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "teams": [AMS, NYC],
        },
    }


async def install(slack: Harness, answer: str = "oauth_v2_access.org_wide.json") -> None:
    """Install through /slack/install and the redirect, Slack answering with ``answer``."""
    state = await _start_install(slack)
    slack.api.add_oauth_answer(
        "grid-code", recorded_json(answer), client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    assert await _finish_install(slack, state, code="grid-code") == 200
    slack.api.calls.clear()


async def command(
    slack: Harness, recorded: str, text: str, *, user: str | None = None, org_wide: bool = True
) -> ClientResponse:
    """Type ``/nudges <text>`` as the recorded command does, in its workspace."""
    fields = dict(urllib.parse.parse_qsl((GRID / recorded).read_text(), keep_blank_values=True))
    fields["text"] = text
    fields["response_url"] = slack.api.response_url()
    if user is not None:
        fields["user_id"] = user
    fields["channel_id"] = slack.api.dm_channel(fields["user_id"])
    if not org_wide:
        fields["is_enterprise_install"] = "false"
    return await slack.post(form_body(fields), "application/x-www-form-urlencoded")


async def reply_to(
    slack: Harness, recorded: str, text: str, *, user: str | None = None, org_wide: bool = True
) -> str:
    """Type the command and return the reply given in the acknowledgement."""
    response = await command(slack, recorded, text, user=user, org_wide=org_wide)
    assert response.status == 200
    body = await response.json()
    await slack.settle()
    return str(body["text"])


async def click(
    slack: Harness,
    recorded: str,
    channel: str,
    ts: str,
    action_id: str,
    *,
    user: str | None = None,
    clicked_at: float | None = None,
) -> None:
    """Click ``action_id`` on a DM the bot sent, as the recorded click from a workspace does."""
    payload = recorded_json(recorded)
    message = slack.api.message(channel, ts)
    block, button = next(
        (block, element)
        for block in message["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == action_id
    )
    payload["container"].update(message_ts=ts, channel_id=channel)
    payload["channel"]["id"] = channel
    payload["message"] = {**message, "bot_id": "B0NUDGEORG"}
    payload["response_url"] = slack.api.response_url("actions")
    payload["actions"][0].update(
        action_id=action_id,
        block_id=block.get("block_id", ""),
        text=button["text"],
        value=button.get("value", ""),
        action_ts=f"{time.time() if clicked_at is None else clicked_at:.6f}",
    )
    if user is not None:
        payload["user"].update(id=user, username=user.lower(), name=user.lower())
    response = await slack.post(payload_body(payload), "application/x-www-form-urlencoded")
    assert response.status == 200
    await slack.settle()


async def event(slack: Harness, recorded: str, **event: Any) -> None:
    """Deliver the recorded event envelope, its inner event changed by ``event``."""
    envelope = recorded_json(recorded)
    envelope["event"].update(event)
    if "type" in event:
        envelope["event_id"] = f"{envelope['event_id']}{event['type']}"
    body = json.dumps(envelope).encode()
    response = await slack.post(body, "application/json")
    assert response.status == 200
    await slack.settle()
