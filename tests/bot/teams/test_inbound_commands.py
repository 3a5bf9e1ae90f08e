"""Typed text in Teams runs the core grammar: the same help, errors and permissions as /nudges."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.dashboard.access import Passes
from bot.dashboard.site import Dashboard
from nudges.coaching.interactions import Actor
from nudges.commands.service import CommandService
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Person
from tests.bot.slack.app_harness import NOW
from tests.bot.teams.inbound_harness import (
    BOT,
    MEGAN_AAD,
    OMAR_29,
    OMAR_AAD,
    OMAR_CHAT,
    TENANT,
    running_teams,
    sample,
)

OMAR = (OMAR_AAD, OMAR_29, OMAR_CHAT)


async def test_help_in_a_personal_chat_is_the_core_help_without_a_slash(db: Database) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        reply = await teams.say("help")
        expected = await CommandService(teams.services.dispatcher).run(
            Actor("teams", TENANT, MEGAN_AAD), "help", prefix=""
        )
        assert reply.strip()
        # Rendered to Teams markdown, the core's words survive (spot check a command name).
        assert "admins" in reply
        assert expected.ok


async def test_an_unknown_command_gets_the_core_one_line_error(db: Database) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        reply = await teams.say("frobnicate now")
        assert "frobnicate" in reply
        assert "\n" not in reply.strip()


async def test_admin_commands_are_refused_to_a_non_admin_and_allowed_after_admins_add(
    db: Database,
) -> None:
    async with running_teams(db) as teams:
        await teams.install()  # Megan: first installer, admin
        omar_install = sample("installationUpdate_add_personal.json")
        omar_install["from"] = {"id": OMAR_29, "aadObjectId": OMAR_AAD, "name": "Omar"}
        omar_install["conversation"]["id"] = OMAR_CHAT
        await teams.install(omar_install)
        refused = await teams.say("admins add <@x>", person=OMAR)
        mention = {
            "type": "mention",
            "text": "<at>Omar</at>",
            "mentioned": {"id": OMAR_29, "name": "Omar"},
        }
        await teams.say("admins add <at>Omar</at>", entities=[mention])
        async with db.session() as session:
            omar = await session.scalar(select(Person).where(Person.external_id == OMAR_AAD))
            assert omar is not None and omar.is_admin
        allowed = await teams.say("admins list", person=OMAR)
        assert "Only admins can use" in refused
        assert "Only admins can use" not in allowed


async def test_a_channel_message_runs_only_when_the_bot_is_mentioned(db: Database) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        channel = sample("message_personal.json")
        channel["conversation"] = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": "19:abc@thread.tacv2",
        }
        channel.pop("attachments")
        channel["text"] = "help"
        before = len(teams.connector.calls)
        assert (await teams.post(channel)).status == 201
        assert len(teams.connector.calls) == before
        channel["text"] = "<at>Nudgebot</at> help"
        channel["entities"] = [
            {"type": "mention", "text": "<at>Nudgebot</at>", "mentioned": {"id": BOT, "name": "N"}}
        ]
        assert (await teams.post(channel)).status == 201
        assert len(teams.connector.calls) == before + 1
        assert "admins" in str(teams.connector.calls[-1].activity.get("text"))


async def test_people_nudgebot_admins_names_may_run_admin_commands(db: Database) -> None:
    async with running_teams(db, admins=OMAR_AAD) as teams:
        await teams.install()  # Megan installs first, but NUDGEBOT_ADMINS decides
        assert "Only admins can use" in await teams.say("budget 4")
        assert "at most 4" in await teams.say("budget 4", person=OMAR)


async def test_dashboard_gives_a_link_in_the_personal_chat_and_none_in_a_channel(
    db: Database,
) -> None:
    passes = Passes(None)
    site = Dashboard(
        db, FakeClock(NOW), passes, public_url="https://bot.example.com", local_ok=False
    )
    async with running_teams(db, dashboard=site) as teams:
        await teams.install()  # Megan: first installer, admin
        reply = await teams.say("dashboard")
        found = re.search(r"/dashboard/signin\?token=([A-Za-z0-9_\-=]+)", reply)
        assert found is not None, reply
        viewer = passes.read(found.group(1), "link")
        assert viewer is not None and viewer.person_external_id == MEGAN_AAD
        channel = sample("message_personal.json")
        channel["conversation"] = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": "19:abc@thread.tacv2",
        }
        channel.pop("attachments")
        channel["text"] = "<at>Nudgebot</at> dashboard"
        channel["entities"] = [
            {"type": "mention", "text": "<at>Nudgebot</at>", "mentioned": {"id": BOT, "name": "N"}}
        ]
        before = len(teams.connector.calls)
        assert (await teams.post(channel)).status == 201
        (answer,) = [c.activity for c in teams.connector.calls[before:] if c.method == "POST"]
        assert "token=" not in str(answer.get("text"))
        assert "1:1 chat" in str(answer.get("text"))
