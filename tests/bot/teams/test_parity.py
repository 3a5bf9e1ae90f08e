"""One scenario, run against Slack (signed requests into Bolt) and Teams (activities into the
CloudAdapter): the same command gives the same reply text, the same nudge the same buttons, the
same click the same change in the store. Only rendering may differ, so replies are compared after
taking off each platform's markup and its way of typing a command ("/nudges " on Slack)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import select

from bot.slack.blocks import base_id
from nudges.messages import Action
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace
from tests.bot.slack.app_harness import ADMIN, MEMBER, Harness, running_edge
from tests.bot.teams.inbound_harness import (
    MEGAN_AAD,
    MEGAN_CHAT,
    OMAR_29,
    OMAR_AAD,
    OMAR_CHAT,
    TeamsHarness,
    as_person,
    running_teams,
    sample,
)
from tests.bot.teams.test_inbound_presses import actions_of

COMMANDS = ["help", "help cadence", "frobnicate", "budget 4", "budget 99", "pause until 1999-01-01"]
MEMBER_COMMANDS = ["budget 4", "me status"]

_MENTION = re.compile(r"<@[^>]+>|<at>.*?</at>")
_MARKUP = re.compile(r"[*_`\\]")


def plain(text: str, prefix: str) -> str:
    """Take a platform's markup and command prefix off a reply, leaving its words."""
    text = html.unescape(text)
    text = _MENTION.sub("@someone", text)
    text = text.replace(prefix, "")
    text = _MARKUP.sub("", text).replace("•", "-")
    return " ".join(text.split())


class Side(Protocol):
    """One platform, driven through its real adapter."""

    db: Database

    async def command(self, text: str, *, admin: bool) -> str: ...

    async def sample_buttons(self) -> list[str]: ...

    async def click(self, action_id: str) -> None: ...


class SlackSide:
    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.db = harness.db
        self._message: tuple[str, str] | None = None

    async def command(self, text: str, *, admin: bool) -> str:
        response = await self.h.command(text, user=ADMIN if admin else MEMBER)
        assert response.status == 200
        body = await response.json()
        return plain(str(body["text"]), "/nudges ")

    async def sample_buttons(self) -> list[str]:
        await self.h.command("test confirm", user=ADMIN)
        await self.h.settle()
        ((channel, ts),) = list(self.h.api.messages)
        self._message = (channel, ts)
        message = self.h.api.message(channel, ts)
        return [
            base_id(e["action_id"])
            for b in message["blocks"]
            if b.get("type") == "actions"
            for e in b["elements"]
        ]

    async def click(self, action_id: str) -> None:
        assert self._message is not None
        await self.h.click(*self._message, action_id, user=ADMIN)
        await self.h.settle()


class TeamsSide:
    def __init__(self, harness: TeamsHarness) -> None:
        self.h = harness
        self.db = harness.db
        self._card: tuple[str, dict[str, Any]] | None = None

    async def command(self, text: str, *, admin: bool) -> str:
        person = None if admin else (OMAR_AAD, OMAR_29, OMAR_CHAT)
        reply = await (self.h.say(text) if person is None else self.h.say(text, person=person))
        return plain(reply, "")

    async def sample_buttons(self) -> list[str]:
        await self.h.say("test confirm")
        [posted] = [
            p for p in self.h.connector.messages_in(MEGAN_CHAT) if p.activity.get("attachments")
        ]
        card = posted.activity["attachments"][0]["content"]
        self._card = (posted.activity_id, card)
        return [a["verb"] for a in actions_of(card)]

    async def click(self, action_id: str) -> None:
        assert self._card is not None
        message_id, card = self._card
        action = next(a for a in actions_of(card) if a["verb"] == action_id)
        invoke = sample("invoke_adaptiveCard_action.personal.json")
        invoke["replyToId"] = message_id
        invoke["value"] = {
            "action": {"type": "Action.Execute", "verb": action["verb"], "data": action["data"]}
        }
        response = await self.h.post(invoke)
        assert response.status == 200


@asynccontextmanager
async def side(platform: str, db: Database) -> AsyncIterator[Side]:
    if platform == "slack":
        # The Teams samples' people are in Los Angeles; so are the Slack people here.
        zone = {"tz": "America/Los_Angeles", "locale": "en-US"}
        users = {ADMIN: {"is_admin": True, **zone}, MEMBER: zone}
        async with running_edge(db, users=users, settings={"default_locale": "en"}) as harness:
            yield SlackSide(harness)
    else:
        # Megan is a platform admin (NUDGEBOT_ADMINS), as ADMIN is a Slack workspace admin.
        async with running_teams(db, admins=MEGAN_AAD) as harness:
            await harness.install()
            await harness.install(
                as_person(
                    sample("installationUpdate_add_personal.json"),
                    OMAR_AAD,
                    OMAR_29,
                    OMAR_CHAT,
                )
            )
            yield TeamsSide(harness)


async def scenario(s: Side, platform: str) -> dict[str, Any]:
    """Run the scenario once and return what it observed."""
    seen: dict[str, Any] = {}
    for text in COMMANDS:
        seen[f"admin: {text}"] = await s.command(text, admin=True)
    for text in MEMBER_COMMANDS:
        seen[f"member: {text}"] = await s.command(text, admin=False)
    seen["buttons"] = await s.sample_buttons()
    await s.click(Action.NUDGE_DONE)
    async with s.db.session() as session:
        delivery = (
            await session.scalars(
                select(Delivery)
                .join(Workspace, Workspace.id == Delivery.workspace_id)
                .where(Workspace.platform == platform)
            )
        ).one()
        seen["after click"] = (delivery.kind, delivery.status, delivery.outcome)
    return seen


async def test_slack_and_teams_answer_the_same_scenario_the_same(db: Database) -> None:
    observed: dict[str, dict[str, Any]] = {}
    for platform in ("slack", "teams"):
        async with side(platform, db) as s:
            observed[platform] = await scenario(s, platform)
    slack, teams = observed["slack"], observed["teams"]
    assert slack["after click"][2] == "done"
    assert Action.NUDGE_DONE in slack["buttons"]
    assert slack.keys() == teams.keys()
    for key in slack:
        assert slack[key] == teams[key], f"{key}\nslack: {slack[key]!r}\nteams: {teams[key]!r}"
