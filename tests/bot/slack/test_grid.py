"""Slack Enterprise Grid through the real Bolt app: an org-wide install serves every workspace of
the org with one token, and a person seen in two of its workspaces is one person.

Requests are the recorded Grid shapes in ``tests/fixtures/slack/grid`` (see its README), signed
and posted to ``/slack/events``; Slack's Web API is the fake one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.settings import Settings
from bot.slack.blocks import base_id
from bot.slack.doctor import slack_findings
from bot.slack.oauth import BOT_SCOPES
from nudges.domain import NudgeState
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, FormId
from nudges.pulse import sealing
from nudges.pulse.groups import groups_of_workspace
from nudges.pulse.opening import open_now
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulsePending
from tests.bot.slack.app_harness import Harness, payload_body, running_edge
from tests.bot.slack.grid_requests import (
    AMS,
    AMS_TOKEN,
    ANNE,
    BOB,
    NYC,
    NYC_ADMIN,
    ORG,
    ORG_ADMIN,
    ORG_TOKEN,
    OTHERS,
    click,
    command,
    event,
    grid_user,
    install,
    recorded_json,
    reply_to,
)
from tests.bot.slack.test_app_oauth import (
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_KEY,
    _raw,
)
from tests.nudges.orgs import make_org


@pytest.fixture
async def grid(db: Database) -> AsyncIterator[Harness]:
    users = {
        ANNE: grid_user(AMS),
        BOB: grid_user(NYC),
        ORG_ADMIN: grid_user(AMS, org_admin=True),
        NYC_ADMIN: grid_user(NYC, workspace_admin=True),
        **{user: grid_user(NYC) for user in OTHERS},
    }
    settings = {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "nudgebot_secret_key": SECRET_KEY,
    }
    async with running_edge(db, users=users, settings=settings) as harness:
        harness.api.token_identities[ORG_TOKEN] = recorded_json("auth_test.org_wide.json")
        yield harness


async def _count(slack: Harness, model: type[Person] | type[Workspace]) -> int:
    async with slack.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _workspace_ids(slack: Harness) -> list[str]:
    async with slack.db.session() as s:
        return sorted((await s.scalars(select(Workspace.external_id))).all())


def _sample(slack: Harness, user: str) -> tuple[str, str]:
    channel = slack.api.dm_channel(user)
    ((ts,),) = [[t for (c, t) in slack.api.messages if c == channel]]
    return channel, ts


async def test_an_org_wide_install_is_stored_once_for_the_org_with_its_token_encrypted(
    grid: Harness,
) -> None:
    await install(grid)
    for table in ("slack_installations", "slack_bots"):
        (row,) = await _raw(grid, table)
        assert (row["enterprise_id"], row["team_id"]) == (ORG, None)
        assert bool(row["is_enterprise_install"]) is True
        stored = str(row["bot_token"])
        assert ORG_TOKEN not in stored
        assert Fernet(SECRET_KEY.encode()).decrypt(stored.encode()).decode() == ORG_TOKEN
    # The org is the Nudgebot workspace: it exists before anyone in it types a command.
    assert await _workspace_ids(grid) == [ORG]


async def test_commands_from_two_workspaces_of_the_org_reach_one_person(grid: Harness) -> None:
    await install(grid)
    in_amsterdam = await reply_to(grid, "slash_command.ams.form.txt", "help")
    in_new_york = await reply_to(grid, "slash_command.nyc.form.txt", "help")
    assert "/nudges" in in_amsterdam
    assert in_new_york == in_amsterdam
    assert {call.token for call in grid.api.calls} == {ORG_TOKEN}
    assert await _workspace_ids(grid) == [ORG]
    async with grid.db.session() as s:
        (person,) = (await s.scalars(select(Person))).all()
    assert person.external_id == ANNE


async def test_clicks_from_either_workspace_are_applied(grid: Harness) -> None:
    await install(grid)
    channel = grid.api.dm_channel(ORG_ADMIN)
    sent = []
    for recorded in ("slash_command.ams.form.txt", "slash_command.nyc.form.txt"):
        reply = await reply_to(grid, recorded, "test", user=ORG_ADMIN)
        assert "direct messages" in reply
        sent += [ts for (c, ts) in grid.api.messages if c == channel and ts not in sent]
    from_amsterdam, from_new_york = sent

    # Each sample is clicked from the other workspace; the New York click has "team": null.
    await click(
        grid, "block_actions.nyc.json", channel, from_amsterdam, Action.NUDGE_DONE, user=ORG_ADMIN
    )
    await click(
        grid, "block_actions.ams.json", channel, from_new_york, Action.NUDGE_SKIP, user=ORG_ADMIN
    )

    assert len(grid.api.calls_to("chat.update")) == 2
    async with grid.db.session() as s:
        rows = (await s.execute(select(Delivery.message_ref, Delivery.outcome))).all()
    outcomes = {ref: outcome for ref, outcome in rows}
    assert outcomes == {
        f"{channel}|{from_amsterdam}": NudgeState.DONE,
        f"{channel}|{from_new_york}": NudgeState.SKIPPED,
    }
    assert {call.token for call in grid.api.calls} == {ORG_TOKEN}
    assert (await _count(grid, Person), await _workspace_ids(grid)) == (1, [ORG])


async def test_a_modal_opened_in_one_workspace_saves_for_the_same_person(grid: Harness) -> None:
    await install(grid)
    await reply_to(grid, "slash_command.ams.form.txt", "test", user=ORG_ADMIN)
    ((channel, ts),) = list(grid.api.messages)
    await click(
        grid, "block_actions.nyc.json", channel, ts, Action.NUDGE_NOTE_COMMITMENT, user=ORG_ADMIN
    )
    (view,) = grid.api.opened_views
    assert view["callback_id"] == FormId.NOTE_COMMITMENT

    payload = recorded_json("view_submission.nyc.json")
    typed = {COMMITMENT_TEXT: "Book the team lunch", COMMITMENT_DUE: "2026-11-27"}
    state = {
        block["block_id"]: {
            block["element"]["action_id"]: (
                {"type": "datepicker", "selected_date": typed[block["element"]["action_id"]]}
                if block["element"]["type"] == "datepicker"
                else {
                    "type": block["element"]["type"],
                    "value": typed[block["element"]["action_id"]],
                }
            )
        }
        for block in view["blocks"]
        if block.get("type") == "input"
    }
    payload["view"] = {**view, "team_id": NYC, "state": {"values": state}}
    response = await grid.post(payload_body(payload), "application/x-www-form-urlencoded")
    assert response.status == 200
    assert (await response.json())["response_action"] == "update"
    await grid.settle()

    async with grid.db.session() as s:
        (commitment,) = (await s.scalars(select(Commitment))).all()
        owner = await s.get(Person, commitment.manager_id)
    assert commitment.text == "Book the team lunch"
    assert owner is not None and owner.external_id == ORG_ADMIN
    assert (await _count(grid, Person), await _workspace_ids(grid)) == (1, [ORG])
    assert {call.token for call in grid.api.calls} == {ORG_TOKEN}


async def test_opening_home_in_either_workspace_shows_the_same_home(grid: Harness) -> None:
    await install(grid)
    await event(grid, "app_home_opened.ams.json")
    in_amsterdam = grid.api.home_views.pop(ANNE)
    await event(grid, "app_home_opened.nyc.json")
    in_new_york = grid.api.home_views[ANNE]
    assert in_new_york["blocks"] == in_amsterdam["blocks"]
    publishes = grid.api.calls_to("views.publish")
    assert [call.params["user_id"] for call in publishes] == [ANNE, ANNE]
    assert {call.token for call in grid.api.calls} == {ORG_TOKEN}
    assert (await _count(grid, Person), await _workspace_ids(grid)) == (1, [ORG])


async def test_a_poll_reaches_someone_in_two_workspaces_once_and_keeps_their_last_click(
    grid: Harness,
) -> None:
    await make_org(
        grid.db,
        created=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        managers={ORG_ADMIN: [ANNE, BOB, *OTHERS]},
        workspace=ORG,
    )
    await install(grid)
    # Anne has used the bot from both workspaces before the poll opens.
    await reply_to(grid, "slash_command.ams.form.txt", "help")
    await reply_to(grid, "slash_command.nyc.form.txt", "help")
    async with grid.db.session() as s:
        workspace = await s.scalar(select(Workspace).where(Workspace.external_id == ORG))
        assert workspace is not None
        groups = await groups_of_workspace(s, workspace.id)
        opened = await open_now(grid.services.dispatcher, s, workspace, groups, grid.clock.now())
        await s.commit()
    assert opened.polls
    await grid.services.dispatcher.tick()
    await grid.settle()
    assert grid.api.received(ANNE) == 1
    channel, ts = _sample(grid, ANNE)
    answers = [
        element["action_id"]
        for block in grid.api.message(channel, ts)["blocks"]
        if block.get("type") == "actions"
        for element in block["elements"]
        if base_id(element["action_id"]) == Action.PULSE_ANSWER
    ]

    now = time.time()
    await click(grid, "block_actions.ams.json", channel, ts, answers[1], clicked_at=now)
    await click(
        grid, "block_actions.nyc.json", channel, ts, answers[3], user=ANNE, clicked_at=now + 1
    )

    async with grid.db.session() as s:
        (pending,) = (await s.scalars(select(PulsePending))).all()
    assert sealing.current().open(pending.poll_id, pending.participation_id, pending.sealed) == 4
    assert await _count(grid, Person) == len([ORG_ADMIN, ANNE, BOB, *OTHERS])


async def test_the_orgs_admins_run_admin_commands_and_a_workspace_admin_does_not(
    grid: Harness,
) -> None:
    await install(grid)
    reply = await reply_to(grid, "slash_command.ams.form.txt", "admins list", user=ORG_ADMIN)
    assert "Only admins" not in reply
    reply = await reply_to(grid, "slash_command.nyc.form.txt", "admins list", user=NYC_ADMIN)
    assert "Only admins can use" in reply


async def test_uninstalling_the_org_wide_install_deletes_it(grid: Harness) -> None:
    await install(grid)
    await event(grid, "app_home_opened.nyc.json", type="app_uninstalled")
    assert await _raw(grid, "slack_installations") == []
    assert await _raw(grid, "slack_bots") == []
    grid.api.calls.clear()
    response = await command(grid, "slash_command.ams.form.txt", "help")
    assert response.status == 200
    await grid.settle()
    assert grid.api.calls == []


async def test_a_workspace_install_in_a_grid_org_keeps_the_workspace_its_own(
    grid: Harness,
) -> None:
    await install(grid, "oauth_v2_access.grid_workspace.json")
    (row,) = await _raw(grid, "slack_bots")
    assert (row["enterprise_id"], row["team_id"]) == (ORG, AMS)

    reply = await reply_to(grid, "slash_command.ams.form.txt", "help", org_wide=False)
    assert "/nudges" in reply
    assert {call.token for call in grid.api.calls} == {AMS_TOKEN}
    # Its own settings, people and cadences: the workspace, not the org, is the Nudgebot one.
    assert await _workspace_ids(grid) == [AMS]

    # The org's other workspace has not installed the app: Bolt runs nothing for it.
    grid.api.calls.clear()
    response = await command(grid, "slash_command.nyc.form.txt", "help", org_wide=False)
    assert response.status == 200
    await grid.settle()
    assert grid.api.calls == []


async def test_one_org_level_token_without_oauth_also_counts_people_once(db: Database) -> None:
    users = {ANNE: grid_user(AMS)}
    async with running_edge(db, users=users) as slack:
        assert "/nudges" in await reply_to(slack, "slash_command.ams.form.txt", "help")
        assert "/nudges" in await reply_to(slack, "slash_command.nyc.form.txt", "help")
        assert await _workspace_ids(slack) == [ORG]
        assert await _count(slack, Person) == 1


async def test_doctor_checks_the_org_wide_install_and_says_how_to_install_one(
    grid: Harness, database_url: str
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token=None,
        slack_app_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_signing_secret="0123456789abcdef0123456789abcdef",
        nudgebot_secret_key=SECRET_KEY,
        slack_api_url=grid.api.base_url,
    )
    (installs,) = [f for f in await slack_findings(settings) if f.check == "installs"]
    assert "org-wide" in installs.fix

    await install(grid)
    grid.api.granted_scopes = list(BOT_SCOPES)
    findings = {f.check: f for f in await slack_findings(settings)}
    assert findings["installs"].ok
    assert "1 Enterprise Grid org(s) org-wide" in findings["installs"].detail
    token = findings[f"install {ORG} (org-wide)"]
    assert token.ok, token
    assert findings[f"scopes ({ORG})"].ok
