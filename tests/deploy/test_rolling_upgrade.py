"""A rolling upgrade: the previous release keeps serving on this release's schema.

The previous release (deploy/previous-release) runs as a real `nudgebot serve` from a venv of
its own on an empty PostgreSQL database it migrated itself. This release then migrates the
schema, as its migration Job does before the new pods start; the old process, still running,
sends a nudge, applies a click, and sends, takes and closes a pulse poll. Then a replica of
this release joins and is ready.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bench._common import build_org
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.migrate import current_revision, head_revision, migrate_once
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll
from tests.bot.slack.app_harness import form_body, payload_body, signed_headers
from tests.deploy.previous_release import previous_release_python
from tests.deploy.processes import start, status_of, wait_ready
from tests.fakes.slack_api import FakeSlackApi
from tests.fault.harness import SECRET, TEAM, Service, pending_due_now, wait_for

pytestmark = pytest.mark.postgres_only

ADMIN = "UM000000000"  # the manager build_org makes, an admin in the fake Slack
MEMBERS = [f"UP000000000{k:03d}" for k in range(10)]


async def _post(service: Service, body: bytes) -> int:
    headers = {
        **signed_headers(body, secret=SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{service.base}/slack/events", data=body, headers=headers) as r,
    ):
        return r.status


async def _command(service: Service, api: FakeSlackApi, text: str) -> int:
    fields = {
        "token": "x",
        "team_id": TEAM,
        "team_domain": "upgrade",
        "user_id": ADMIN,
        "user_name": "admin",
        "channel_id": api.dm_channel(ADMIN),
        "channel_name": "directmessage",
        "command": "/nudges",
        "text": text,
        "api_app_id": "A0UPGRADE",
        "response_url": api.response_url(),
        "trigger_id": "1.2.3",
    }
    return await _post(service, form_body(fields))


def _buttons(message: dict[str, Any], action: str) -> list[dict[str, Any]]:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if str(element.get("action_id", "")).split("#")[0] == action
    ]


def _messages_to(api: FakeSlackApi, user: str, action: str) -> list[tuple[str, dict[str, Any]]]:
    channel = api.dm_channel(user)
    return [
        (ts, message)
        for (where, ts), message in api.messages.items()
        if where == channel and _buttons(message, action)
    ]


async def _click(
    service: Service,
    api: FakeSlackApi,
    user: str,
    ts: str,
    message: dict[str, Any],
    element: dict[str, Any],
) -> int:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "upgrade"},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A0UPGRADE",
        "trigger_id": "4.5.6",
        "container": {"type": "message", "message_ts": ts, "channel_id": api.dm_channel(user)},
        "channel": {"id": api.dm_channel(user)},
        "message": {"ts": ts, "text": message.get("text", "")},
        "response_url": api.response_url(),
        "actions": [
            {
                "type": "button",
                "action_id": element["action_id"],
                "block_id": "b",
                "value": element["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return await _post(service, payload_body(payload))


async def test_the_previous_release_serves_the_core_flows_on_this_releases_schema(
    empty_database_url: str, tmp_path: Path
) -> None:
    old_python = await asyncio.to_thread(previous_release_python)
    url = empty_database_url
    async with FakeSlackApi() as api:
        api.add_user(ADMIN, is_admin=True, tz="UTC", locale="en-US")
        for member in MEMBERS:
            api.add_user(member, tz="UTC", locale="en-US")
        slack = {
            "SLACK_BOT_TOKEN": "xoxb-upgrade",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api.base_url,
        }
        migrated = await start(
            ["migrate"], url, tmp_path, name="old-migrate", python=str(old_python)
        )
        assert await migrated.wait(120) == 0, migrated.log()
        old_head = await _revision(url)
        old = await start(
            ["serve"], url, tmp_path, name="old", python=str(old_python), extra_env=slack
        )
        new: Service | None = None
        try:
            await wait_ready(old)
            # This release's migration, as its Job runs it while the old pods still serve.
            db = Database(url)
            try:
                await migrate_once(db.engine)
                assert await current_revision(db.engine) == head_revision()
            finally:
                await db.dispose()
            assert head_revision() != old_head, "this release adds no revision: nothing to try"
            await build_org(
                url, workspaces=1, managers=1, members_per_manager=10, slot=_far_slot(), pulse=True
            )

            # A nudge sent, and a click applied, by the previous release.
            assert await _command(old, api, "test") == 200
            nudges = await wait_for(lambda: _messages_to(api, ADMIN, "nudge.done"), 60)
            assert nudges, old.log()
            ts, message = nudges[0]
            (done,) = _buttons(message, "nudge.done")
            assert await _click(old, api, ADMIN, ts, message, done) == 200
            assert await wait_for(lambda: _outcome(url, int(done["value"])), 30) == "done"

            # A pulse poll sent, answered by every member, and closed by the previous release.
            assert await _command(old, api, "pulse now") == 200

            # Each member gets it at their next working moment: at once in working time, else
            # (at night, on a weekend) what waits for it is made due now.
            async def all_asked() -> bool:
                await pending_due_now(url)
                return all(_messages_to(api, m, "pulse.answer") for m in MEMBERS)

            assert await wait_for(all_asked, 90), old.log()
            for k, member in enumerate(MEMBERS):
                ((ts, message),) = _messages_to(api, member, "pulse.answer")
                answer = _buttons(message, "pulse.answer")[k % 5]
                assert await _click(old, api, member, ts, message, answer) == 200
            await wait_for(lambda: _all_answered(url, len(MEMBERS)), 30)
            await _end_polls_now(url)
            closed = await wait_for(lambda: _closed_answers(url), 60)
            assert closed == len(MEMBERS), old.log()

            # The previous release's own /readyz knows only its head: it reports the newer one.
            status, body = await status_of(f"{old.base}/readyz")
            assert head_revision() in json.dumps(body), (status, body)
            # A replica of this release joins the old one on the same database.
            new = await start(["serve"], url, tmp_path, name="new", extra_env=slack)
            ready = await wait_ready(new)
            assert ready["schema"] == head_revision()
            assert old.running
            for line in old.log().splitlines():
                assert " ERROR " not in line and "Traceback" not in line, old.log()
        finally:
            await old.stop()
            if new is not None:
                await new.stop()


def _far_slot() -> datetime:
    # Hours away: no scheduled nudge mixes with what the test sends.
    return (datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0)


async def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return await current_revision(db.engine)
    finally:
        await db.dispose()


async def _outcome(url: str, delivery_id: int) -> str | None:
    db = Database(url)
    try:
        async with db.session() as session:
            return await session.scalar(select(Delivery.outcome).where(Delivery.id == delivery_id))
    finally:
        await db.dispose()


async def _all_answered(url: str, members: int) -> bool:
    db = Database(url)
    try:
        async with db.session() as session:
            answered = await session.scalar(
                select(func.count())
                .select_from(PulseParticipation)
                .where(PulseParticipation.answered.is_(True))
            )
            return int(answered or 0) >= members
    finally:
        await db.dispose()


async def _end_polls_now(url: str) -> None:
    """Move the polls' closing time to now, as if their window had passed."""
    db = Database(url)
    try:
        async with db.session() as session:
            await session.execute(
                update(PulsePoll).values(closes_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()
    finally:
        await db.dispose()


async def _closed_answers(url: str) -> int | None:
    """Return the answers of the closed polls once every poll is closed, else None."""
    db = Database(url)
    try:
        async with db.session() as session:
            open_polls = await session.scalar(
                select(func.count()).select_from(PulsePoll).where(PulsePoll.closed.is_(False))
            )
            if open_polls:
                return None
            return int(await session.scalar(select(func.count()).select_from(PulseAnswer)) or 0)
    finally:
        await db.dispose()
