"""Personal-data commands and hostile input through the real Slack edge, signed as Slack signs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from nudges.store.audit import AuditEntry
from nudges.store.database import Database
from nudges.store.org import Person
from nudges.store.pulse import PulseCustomQuestion
from nudges.store.rights import ForgottenPerson
from tests.bot.slack.app_harness import ADMIN, MEMBER, Harness, running_edge


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    async with running_edge(db) as harness:
        yield harness


async def _reply(slack: Harness, text: str, user: str = ADMIN) -> str:
    response = await slack.command(text, user=user)
    assert response.status == 200
    body = await response.json()
    await slack.settle()
    if "text" in body:
        reply: str = body["text"]
        return reply
    # A slow command answers through response_url after an empty acknowledgement.
    return str(slack.api.responses[-1]["text"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"payload=%7Bnot%20json", "application/x-www-form-urlencoded"),
        (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_signed_body_of_garbage_gets_a_clear_400(
    slack: Harness, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await slack.post(body, content_type)
    assert response.status == 400
    assert "error" in await response.json()
    assert "Traceback" not in caplog.text


async def test_admins_add_of_a_channel_mention_is_refused(slack: Harness) -> None:
    reply = await _reply(slack, "admins add <@!channel>")
    assert "is not a person" in reply and "Example:" in reply
    async with slack.db.session() as session:
        assert await session.scalar(select(Person).where(Person.external_id == "!channel")) is None


async def test_a_nul_byte_in_a_question_gets_one_line_and_stores_nothing(slack: Harness) -> None:
    reply = await _reply(slack, 'pulse ask "How are\x00 you?"')
    assert "control character" in reply
    async with slack.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PulseCustomQuestion)) == 0


async def test_me_export_uploads_a_json_file_into_the_dm(slack: Harness) -> None:
    await _reply(slack, "me language nl", MEMBER)
    reply = await _reply(slack, "me export", MEMBER)
    assert "bestand" in reply
    files = slack.api.shared_files(slack.api.dm_channel(MEMBER))
    assert len(files) == 1
    data = json.loads(files[0]["data"])
    assert data["person"]["user_id"] == MEMBER
    assert data["person"]["language"] == "nl"
    assert set(data["fields"]) == set(data) - {"fields"}
    assert files[0]["filename"].endswith(".json")
    async with slack.db.session() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "rights.export" in actions


async def test_me_forget_confirm_erases_and_the_next_command_starts_afresh(slack: Harness) -> None:
    await _reply(slack, "me language nl", MEMBER)
    asked = await _reply(slack, "me forget", MEMBER)
    assert "me forget confirm" in asked
    done = await _reply(slack, "me forget confirm", MEMBER)
    assert "gewist" in done
    async with slack.db.session() as session:
        assert await session.scalar(select(Person).where(Person.external_id == MEMBER)) is None
        assert await session.scalar(select(func.count()).select_from(ForgottenPerson)) == 1
    await _reply(slack, "me status", MEMBER)
    async with slack.db.session() as session:
        back = await session.scalar(select(Person).where(Person.external_id == MEMBER))
        assert back is not None and back.locale is None
        assert await session.scalar(select(func.count()).select_from(ForgottenPerson)) == 0
