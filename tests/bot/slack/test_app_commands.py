"""The /nudges slash command through the whole web app, signed like Slack sends it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.bot.slack.app_harness import (
    ADMIN,
    BOT_TOKEN,
    MEMBER,
    SIGNING_SECRET,
    Harness,
    running_edge,
)
from tests.fakes.slack_api import TEAM_ID


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db, users={"U0DUTCH01": {"locale": "nl-NL"}}) as harness:
        yield harness


async def _reply(slack: Harness, text: str, user: str) -> str:
    response = await slack.command(text, user=user)
    assert response.status == 200
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    await slack.settle()
    reply: str = body["text"]
    return reply


async def test_help_answers_anyone_in_the_acknowledgement(slack: Harness) -> None:
    reply = await _reply(slack, "help", MEMBER)
    assert "/nudges" in reply
    assert "admins add" not in reply  # a member sees only what a member may use
    admin_reply = await _reply(slack, "help", ADMIN)
    assert "admins" in admin_reply
    # Nothing was posted anywhere: the answer rode on the acknowledgement.
    assert slack.api.calls_to("chat.postMessage") == []
    assert slack.api.responses == []


async def test_an_empty_command_shows_help_too(slack: Harness) -> None:
    assert "/nudges" in await _reply(slack, "", MEMBER)


async def test_the_commands_in_a_reply_can_be_typed_as_shown(slack: Harness) -> None:
    reply = await _reply(slack, "help", MEMBER)
    assert "`/nudges help`" in reply
    assert "`/nudges me status`" in reply
    assert "`/nudgesme" not in reply


async def test_a_workspace_admin_may_run_admin_commands(slack: Harness) -> None:
    reply = await _reply(slack, "admins add <@U0MEMBER1|member>", ADMIN)
    assert "<@U0MEMBER1>" in reply
    async with slack.db.session() as s:
        person = await s.scalar(select(Person).where(Person.external_id == MEMBER))
        assert person is not None and person.is_admin
        workspace = await s.scalar(select(Workspace))
        assert workspace is not None
        assert (workspace.platform, workspace.external_id) == ("slack", TEAM_ID)
    # users.info said who is an owner or admin; it was asked once per person.
    assert [c.params["user"] for c in slack.api.calls_to("users.info")] == [ADMIN]


async def test_a_member_is_refused_admin_commands_politely(slack: Harness) -> None:
    reply = await _reply(slack, "admins add <@U0ADMIN01>", MEMBER)
    assert "Only admins can use" in reply
    async with slack.db.session() as s:
        admin = await s.scalar(select(Person).where(Person.external_id == ADMIN))
        assert admin is None or not admin.is_admin


async def test_someone_made_admin_with_admins_add_may_run_admin_commands(slack: Harness) -> None:
    await _reply(slack, "admins add <@U0MEMBER1>", ADMIN)
    reply = await _reply(slack, "admins list", MEMBER)
    assert "Only admins" not in reply
    assert "<@U0MEMBER1>" in reply


async def test_a_mistake_gets_a_one_line_error_with_a_suggestion(slack: Harness) -> None:
    reply = await _reply(slack, "cadense weekly tue 10:00", ADMIN)
    assert "cadence" in reply
    assert len(reply.splitlines()) <= 3


async def test_replies_speak_the_persons_slack_language(slack: Harness) -> None:
    english = await _reply(slack, "help", MEMBER)
    dutch = await _reply(slack, "help", "U0DUTCH01")
    assert english != dutch
    async with slack.db.session() as s:
        person = await s.scalar(select(Person).where(Person.external_id == "U0DUTCH01"))
        assert person is not None
        assert (person.locale, person.timezone) == ("nl", "Europe/Amsterdam")


async def test_a_failed_profile_lookup_means_no_admin_rights(slack: Harness) -> None:
    slack.api.fail_next("users.info", "internal_error", status=200)
    reply = await _reply(slack, "admins list", ADMIN)
    assert "Only admins can use" in reply


async def test_a_slow_command_acknowledges_empty_then_answers_at_the_response_url(
    db: Database,
) -> None:
    async with running_edge(db, ack_budget=0.0) as slack:
        response = await slack.command("help", user=MEMBER)
        assert response.status == 200
        assert (await response.read()) == b""
        await slack.settle()
        (answer,) = slack.api.responses
        assert answer["response_type"] == "ephemeral"
        assert "/nudges" in answer["text"]


async def test_the_bot_token_never_reaches_the_log(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _reply(slack, "test", ADMIN)
    assert caplog.records
    assert BOT_TOKEN not in caplog.text
    assert SIGNING_SECRET not in caplog.text
