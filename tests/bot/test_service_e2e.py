"""Run the real `nudgebot serve` process against a local fake Slack and drive it over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import aiohttp

from tests.bot.slack.app_harness import form_body, payload_body, signed_headers
from tests.fakes.slack_api import FakeSlackApi
from tests.serve import serving

SECRET = "e2e-signing-secret"
TEAM = "T0E2E0001"
ADMIN = "U0E2EADMIN"
T = TypeVar("T")


async def _eventually(check: Callable[[], T], attempts: int = 150) -> T:
    for _ in range(attempts):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_slash_test_delivers_a_dm_and_done_updates_it(tmp_path: Path) -> None:
    async with FakeSlackApi() as api:
        api.add_user(ADMIN, is_admin=True, tz="Europe/Amsterdam", locale="en-US")
        settings = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
            "SLACK_BOT_TOKEN": "xoxb-e2e-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.base_url,
            "TICK_SECONDS": "3600",
        }
        async with serving(tmp_path, settings) as service:
            base = service.base
            async with aiohttp.ClientSession() as session:
                fields = {
                    "token": "x",
                    "team_id": TEAM,
                    "team_domain": "e2e",
                    "user_id": ADMIN,
                    "user_name": "admin",
                    "channel_id": api.dm_channel(ADMIN),
                    "channel_name": "directmessage",
                    "command": "/nudges",
                    "text": "test confirm",
                    "api_app_id": "A0E2E",
                    "response_url": api.response_url(),
                    "trigger_id": "1.2.3",
                }
                body = form_body(fields)
                headers = {
                    **signed_headers(body, secret=SECRET),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as r:
                    assert r.status == 200

                posts = await _eventually(lambda: api.calls_to("chat.postMessage"))
                post = posts[0].params
                # Posted to the person's id: Slack puts it in the app's DM with them.
                assert post["channel"] == ADMIN
                assert post["text"]
                delivery_id = post["metadata"]["event_payload"]["delivery_id"]
                blocks = (
                    post["blocks"]
                    if isinstance(post["blocks"], list)
                    else json.loads(post["blocks"])
                )
                done = next(
                    el
                    for b in blocks
                    if b["type"] == "actions"
                    for el in b["elements"]
                    if el["action_id"] == "nudge.done"
                )
                ((channel, message_ts),) = api.messages
                assert channel == api.dm_channel(ADMIN)

                click = {
                    "type": "block_actions",
                    "team": {"id": TEAM, "domain": "e2e"},
                    "user": {"id": ADMIN, "team_id": TEAM},
                    "api_app_id": "A0E2E",
                    "trigger_id": "4.5.6",
                    "container": {"type": "message"},
                    "channel": {"id": api.dm_channel(ADMIN)},
                    "message": {"ts": message_ts, "text": post["text"]},
                    "response_url": api.response_url(),
                    "actions": [
                        {
                            "type": "button",
                            "action_id": done["action_id"],
                            "block_id": "b",
                            "value": done["value"],
                            "action_ts": "1",
                        }
                    ],
                }
                body = payload_body(click)
                headers = {
                    **signed_headers(body, secret=SECRET),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as r:
                    assert r.status == 200
                updates = await _eventually(lambda: api.calls_to("chat.update"))
                assert "✅" in json.dumps(updates[-1].params, ensure_ascii=False)
                assert done["value"] == str(delivery_id)

                # A forged request runs nothing.
                async with session.post(
                    f"{base}/slack/events",
                    data=body,
                    headers={**headers, "X-Slack-Signature": "v0=" + "0" * 64},
                ) as r:
                    assert r.status == 401
        output = service.log()
        assert service.proc.returncode == 0, output
        assert "slack: on, HTTP, single workspace" in output
