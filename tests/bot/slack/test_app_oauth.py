"""Installing into many workspaces with OAuth: the install redirect, the state, and a bot token
that is stored encrypted and then used for that workspace."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot.slack.oauth import BOT_SCOPES
from nudges.store.database import Database
from nudges.store.org import Workspace
from tests.bot.slack.app_harness import ADMIN, Harness, running_edge
from tests.fakes.slack_api import TEAM_ID

CLIENT_ID = "1234567890.1234567890"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
INSTALLED_TOKEN = "xoxb-installed-9876-abcdefsecret"
SECRET_KEY = Fernet.generate_key().decode()


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    settings = {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "nudgebot_secret_key": SECRET_KEY,
    }
    async with running_edge(db, settings=settings) as harness:
        assert harness.edge.mode == "oauth"
        yield harness


async def _start_install(slack: Harness) -> str:
    response = await slack.http.get("/slack/install", allow_redirects=False)
    assert response.status == 302
    location = urllib.parse.urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "slack.com",
        "/oauth/v2/authorize",
    )
    query = urllib.parse.parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == [",".join(BOT_SCOPES)]
    (state,) = query["state"]
    assert f"slack-app-oauth-state={state}" in response.headers["Set-Cookie"]
    return state


async def _finish_install(slack: Harness, state: str, code: str = "code-1") -> int:
    response = await slack.http.get(
        "/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"slack-app-oauth-state={state}"},
        allow_redirects=False,
    )
    return response.status


async def _raw(slack: Harness, table: str) -> list[dict[str, object]]:
    async with slack.db.engine.connect() as conn:
        rows = (await conn.execute(text(f"SELECT * FROM {table}"))).mappings().all()
    return [dict(row) for row in rows]


async def test_the_install_page_redirects_to_slack_with_the_scopes_and_a_state(
    slack: Harness,
) -> None:
    state = await _start_install(slack)
    (row,) = await _raw(slack, "slack_oauth_states")
    assert row["state"] == state


async def test_a_valid_redirect_stores_the_installation_with_the_token_encrypted(
    slack: Harness,
) -> None:
    state = await _start_install(slack)
    slack.api.add_oauth_code(
        "code-1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token=INSTALLED_TOKEN
    )
    assert await _finish_install(slack, state) == 200
    assert len(slack.api.calls_to("oauth.v2.access")) == 1

    for table in ("slack_installations", "slack_bots"):
        (row,) = await _raw(slack, table)
        assert row["team_id"] == TEAM_ID
        stored = str(row["bot_token"])
        assert INSTALLED_TOKEN not in stored
        assert "xoxb-" not in stored
        assert Fernet(SECRET_KEY.encode()).decrypt(stored.encode()).decode() == INSTALLED_TOKEN
    # The state was used up: the same redirect cannot install twice.
    assert await _raw(slack, "slack_oauth_states") == []
    async with slack.db.session() as s:
        workspace = await s.scalar(select(Workspace))
    assert workspace is not None and workspace.external_id == TEAM_ID


async def test_a_replayed_or_forged_state_installs_nothing(slack: Harness) -> None:
    state = await _start_install(slack)
    slack.api.add_oauth_code(
        "code-1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token=INSTALLED_TOKEN
    )
    assert await _finish_install(slack, "forged-state") >= 400
    assert await _finish_install(slack, state) == 200
    assert await _finish_install(slack, state) >= 400
    assert len(await _raw(slack, "slack_installations")) == 1
    assert len(slack.api.calls_to("oauth.v2.access")) == 1


async def test_requests_and_messages_use_the_installed_token(slack: Harness) -> None:
    state = await _start_install(slack)
    slack.api.add_oauth_code(
        "code-1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token=INSTALLED_TOKEN
    )
    assert await _finish_install(slack, state) == 200
    slack.api.calls.clear()

    response = await slack.command("test", user=ADMIN)
    assert response.status == 200
    assert "direct messages" in (await response.json())["text"]
    await slack.settle()
    used = {c.token for c in slack.api.calls}
    assert used == {INSTALLED_TOKEN}
    assert [c.method for c in slack.api.calls] == [
        "auth.test",
        "users.info",
        "chat.postMessage",
    ]


async def test_an_uninstalled_workspace_gets_an_authorization_error(slack: Harness) -> None:
    response = await slack.command("help", user=ADMIN)
    # Bolt answers (so Slack shows no timeout) but runs nothing for a workspace never installed.
    assert response.status == 200
    await slack.settle()
    assert [c.method for c in slack.api.calls] == []
    assert await _raw(slack, "slack_installations") == []


async def test_uninstalling_deletes_the_installation(slack: Harness) -> None:
    state = await _start_install(slack)
    slack.api.add_oauth_code(
        "code-1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token=INSTALLED_TOKEN
    )
    assert await _finish_install(slack, state) == 200
    response = await slack.event({"type": "app_uninstalled"}, event_id="Ev0UNINSTALL")
    assert response.status == 200
    await slack.settle()
    assert await _raw(slack, "slack_installations") == []
    assert await _raw(slack, "slack_bots") == []


async def test_no_token_reaches_the_log_even_at_debug(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    state = await _start_install(slack)
    slack.api.add_oauth_code(
        "code-1", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token=INSTALLED_TOKEN
    )
    assert await _finish_install(slack, state) == 200
    await slack.command("test", user=ADMIN)
    await slack.settle()
    assert caplog.records
    assert INSTALLED_TOKEN not in caplog.text
    assert CLIENT_SECRET not in caplog.text
