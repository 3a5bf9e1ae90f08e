"""Run the real `nudgebot serve` with Teams on (auth off) and talk to it as Teams would.

Install → reference stored → `send-now` delivers the nudge card through the fake Bot Connector →
Action.Execute on Done → the refreshed card comes back and the store agrees; commands as admin and
non-admin. (The pulse answered by Action.Submit runs in-process, in test_inbound_presses, on a
frozen clock: a poll waits for its recipients' working hours, which a real clock may not be in.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from nudges.domain import NudgeState
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.bot.teams.inbound_harness import (
    MEGAN_29,
    MEGAN_AAD,
    MEGAN_CHAT,
    OMAR_29,
    OMAR_AAD,
    OMAR_CHAT,
    as_person,
    clear_teams_tables,
    sample,
)
from tests.bot.teams.test_inbound_presses import actions_of
from tests.fakes.bot_connector import FakeBotConnector
from tests.serve import serving

MEGAN = (MEGAN_AAD, MEGAN_29, MEGAN_CHAT)
OMAR = (OMAR_AAD, OMAR_29, OMAR_CHAT)
IDA = ("1d4a0000-0000-4000-8000-000000000001", "29:1IdaIdaIdaIdaIdaIda", "a:1IdaChat")
JAN = ("1d4a0000-0000-4000-8000-000000000002", "29:1JanJanJanJanJanJan", "a:1JanChat")
CARD = "application/vnd.microsoft.card.adaptive"


def _mention(user_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": user_id, "name": name},
    }


class Teams:
    """Post activities to the running service as Teams would."""

    def __init__(self, session: aiohttp.ClientSession, base: str, connector: FakeBotConnector):
        self.session = session
        self.base = base
        self.connector = connector
        self.sent = 0

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        activity = {**activity, "serviceUrl": self.connector.service_url}
        self.sent += 1
        activity["id"] = f"e2e-{self.sent}"
        async with self.session.post(f"{self.base}/api/messages", json=activity) as r:
            body = await r.json() if r.content_type == "application/json" else None
            return r.status, body

    async def install(self, person: tuple[str, str, str]) -> None:
        activity = as_person(sample("installationUpdate_add_personal.json"), *person)
        status, _ = await self.post(activity)
        assert status == 201

    async def say(
        self, words: str, person: tuple[str, str, str], mentions: list[dict[str, Any]] | None = None
    ) -> str:
        activity = as_person(sample("message_personal.json"), *person)
        activity.pop("attachments")
        activity["text"] = words
        activity["entities"] = [*activity["entities"], *(mentions or [])]
        before = len(self.connector.calls)
        status, _ = await self.post(activity)
        assert status in (200, 201)
        replies = [c.activity for c in self.connector.calls[before:] if c.activity.get("text")]
        assert replies, f"no reply to {words!r}"
        return str(replies[-1]["text"])

    def cards_in(self, chat: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (p.activity_id, p.activity["attachments"][0]["content"])
            for p in self.connector.messages_in(chat)
            if p.activity.get("attachments")
        ]


async def test_install_commands_nudge_and_click_on_the_real_service(
    db: Database, tmp_path: Path
) -> None:
    await clear_teams_tables(db)
    async with FakeBotConnector() as connector:
        settings = {
            "DATABASE_URL": db.url.render_as_string(hide_password=False),
            "TEAMS_ENABLED": "true",
            "TICK_SECONDS": "3600",
            "DEFAULT_LOCALE": "en",
        }
        async with serving(tmp_path, settings) as service:
            base = service.base
            async with aiohttp.ClientSession() as session:
                teams = Teams(session, base, connector)

                # Megan installs first (the tenant's admin), then Omar.
                for person in (MEGAN, OMAR, IDA, JAN):
                    await teams.install(person)
                async with db.engine.connect() as conn:
                    rows = (
                        await conn.execute(text("SELECT conversation_id FROM teams_conversations"))
                    ).all()
                assert sorted(r[0] for r in rows) == sorted(p[2] for p in (MEGAN, OMAR, IDA, JAN))

                # Omar is no admin; Megan is. People are named by mention entities (29: ids).
                team = "team <at>Megan</at> add <at>Omar</at>"
                mentions = [_mention(MEGAN_29, "Megan"), _mention(OMAR_29, "Omar")]
                refused = await teams.say(team, OMAR, mentions)
                assert "Only admins" in refused
                added = await teams.say(team, MEGAN, mentions)
                assert "Only admins" not in added

                # send-now delivers Megan's nudge card to her personal chat.
                # `confirm`: the real clock may be outside Megan's working time.
                await teams.say(
                    "send-now <at>Megan</at> confirm", MEGAN, [_mention(MEGAN_29, "Megan")]
                )
                [(message_id, card)] = teams.cards_in(MEGAN_CHAT)
                done = next(a for a in actions_of(card) if a["verb"] == "nudge.done")

                invoke = as_person(sample("invoke_adaptiveCard_action.personal.json"), *MEGAN)
                invoke["replyToId"] = message_id
                invoke["value"] = {
                    "action": {
                        "type": "Action.Execute",
                        "verb": done["verb"],
                        "data": done["data"],
                    },
                    "trigger": "manual",
                }
                status, body = await teams.post(invoke)
                assert status == 200
                assert body["statusCode"] == 200 and body["type"] == CARD
                assert "nudge.done" not in [a["verb"] for a in actions_of(body["value"])]
                async with db.session() as s:
                    nudge = await s.get(Delivery, int(done["data"]["value"]))
                    assert nudge is not None and nudge.outcome == NudgeState.DONE
        output = service.log()
        assert service.proc.returncode == 0, output
        assert "teams: on" in output
        assert "WITHOUT authentication" in output
        # Typed text is never logged.
        assert "send-now" not in output


async def test_with_an_app_id_the_real_service_runs_nothing_without_a_valid_token(
    db: Database, tmp_path: Path
) -> None:
    await clear_teams_tables(db)
    settings = {
        "DATABASE_URL": db.url.render_as_string(hide_password=False),
        "MICROSOFT_APP_ID": "c82078e5-d7c2-0c3e-f3f3-e7362a22947f",
        "MICROSOFT_APP_PASSWORD": "client-secret",
        "TICK_SECONDS": "3600",
    }
    install = sample("installationUpdate_add_personal.json")
    # A token-shaped bearer whose key id no key server knows; the expired and wrongly signed
    # cases need our own key server, so they run in-process in test_auth.
    forged = "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vbmUifQ.eyJhdWQiOiJ4In0.c2ln"
    async with serving(tmp_path, settings) as service:
        base = service.base
        async with aiohttp.ClientSession() as session:
            for headers in (
                {},
                {"Authorization": "Bearer"},
                {"Authorization": "Bearer not-a-jwt"},
                {"Authorization": "Basic dXNlcjpwYXNz"},
                {"Authorization": f"Bearer {forged}x"},
            ):
                async with session.post(f"{base}/api/messages", json=install, headers=headers) as r:
                    assert r.status == 401, headers
            async with session.post(
                f"{base}/api/messages", data=b"<xml/>", headers={"Content-Type": "text/xml"}
            ) as r:
                assert r.status == 415
    output = service.log()
    assert service.proc.returncode == 0, output
    assert "teams: on, at /api/messages, MultiTenant app" in output
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM teams_conversations"))).scalar()
    assert rows == 0
