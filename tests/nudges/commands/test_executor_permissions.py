from __future__ import annotations

import typing

import pytest
from sqlalchemy import select

from nudges.coaching.interactions import Actor
from nudges.commands import ast
from nudges.commands.executor import COMMANDS
from nudges.commands.parser import parse
from nudges.commands.topics import TOPICS_BY_KEY
from nudges.store.org import Person, Workspace
from tests.nudges.commands.conftest import MEMBER, OWNER, Harness, snapshot

ADMIN_COMMANDS = [
    "status",
    "status <@UMGR>",
    "cadence weekly tue 10:00",
    "kinds <@UMGR> all",
    "team <@UMGR>",
    "team <@UMGR> add <@UC>",
    "team <@UMGR> remove <@UB>",
    "pause <@UB> 2w",
    "resume <@UB>",
    "timezone <@UB> Europe/Lisbon",
    "language nl",
    "country BE",
    "workweek <@UMGR> mon-thu 08:30-16:30",
    "away <@UMGR> 2027-07-19 to 2027-08-01",
    "blackout",
    "blackout add 2026-12-28",
    "blackout remove 2026-12-28",
    "budget 5",
    "admins",
    "admins add <@UA>",
    "admins remove <@UADMIN>",
    "dashboard",
    "test",
    "send-now <@UMGR>",
    "pulse schedule weekly wed 11:00",
    "pulse now",
    "pulse off",
    "pulse on",
    "pulse threshold 5",
    "pulse results",
    'pulse ask "Do you know what is expected of you?"',
    "pulse questions",
    "pulse retire clarity-2",
    "export <@UB>",
    "forget <@UB>",
    "retention answers 24m",
    "audit",
]


def _words(text: str) -> str:
    parsed = parse(text)
    assert not isinstance(parsed, ast.Help) and parsed.__class__ in COMMANDS
    return TOPICS_BY_KEY[COMMANDS[type(parsed)][0]].words


def test_the_list_covers_every_admin_command() -> None:
    admin_types = {c for c in typing.get_args(ast.Command) if c.admin_only}
    assert {type(parse(text)) for text in ADMIN_COMMANDS} == admin_types


@pytest.mark.parametrize("text", ADMIN_COMMANDS)
async def test_a_member_is_refused_every_admin_command_and_nothing_changes(
    harness: Harness, text: str
) -> None:
    before = await snapshot(harness.db)
    reply = await harness.run(text, MEMBER)
    assert not reply.ok
    assert reply.text == (
        f"Only admins can use `/nudges {_words(text)}`. Ask <@UADMIN> if something needs changing."
    )
    assert await snapshot(harness.db) == before
    assert harness.messenger.sent == []


@pytest.mark.parametrize("text", ["cadence weekly sat 10:00", "budget 99", "team @anna"])
async def test_a_member_mistyping_an_admin_command_is_refused_too(
    harness: Harness, text: str
) -> None:
    reply = await harness.run(text, MEMBER)
    assert not reply.ok
    assert reply.text.startswith("Only admins can use")


async def test_a_stranger_is_refused_and_not_even_stored(harness: Harness) -> None:
    before = await snapshot(harness.db)
    reply = await harness.run("budget 5", Actor("slack", "T1", "USTRANGER"))
    assert not reply.ok
    assert await snapshot(harness.db) == before


async def test_without_stored_admins_the_refusal_names_the_workspace_owners(
    harness: Harness,
) -> None:
    await harness.update_person("UADMIN", is_admin=False)
    reply = await harness.run("budget 5", MEMBER)
    assert reply.text == (
        "Only admins can use `/nudges budget`. "
        "Your workspace owners and admins can help you with it."
    )


async def test_the_refusal_names_a_few_admins_in_the_members_language(harness: Harness) -> None:
    for name in ("UX1", "UX2", "UX3", "UX4", "UX5", "UX6"):
        assert (await harness.run(f"admins add <@{name}>")).ok
    await harness.update_person("UA", locale="nl")
    reply = await harness.run("cadence weekly tue 10:00", MEMBER, prefix="")
    assert reply.text == (
        "Alleen beheerders kunnen `cadence` gebruiken. "
        "Vraag het <@UADMIN>, <@UX1>, <@UX2>, <@UX3> of <@UX4> als er iets moet veranderen."
    )


async def test_a_platform_admin_can_run_admin_commands_without_being_stored(
    harness: Harness,
) -> None:
    reply = await harness.run("budget 4", OWNER, platform_admin=True)
    assert reply.ok, reply.text
    (entry,) = await harness.audit()
    owner = await harness.person("UOWNER")
    assert owner is not None and not owner.is_admin
    assert entry.actor_id == owner.id
    reply = await harness.run("budget 4", OWNER)
    assert not reply.ok


async def test_a_stored_admin_can_run_admin_commands(harness: Harness) -> None:
    assert (await harness.run("admins add <@UA>")).ok
    assert (await harness.run("budget 4", MEMBER)).ok


async def test_help_for_members_leaves_out_the_admin_commands(harness: Harness) -> None:
    reply = await harness.run("help", MEMBER)
    assert reply.ok
    assert "Settings (admins)" not in reply.text
    assert "/nudges me pause" in reply.text
    reply = await harness.run("help cadence", MEMBER)
    assert "is for admins only" in reply.text


async def test_a_new_workspace_and_person_are_created_on_first_use(harness: Harness) -> None:
    actor = Actor("teams", "tenant-1", "29:abc")
    reply = await harness.run("me language nl", actor, prefix="")
    assert reply.ok
    assert reply.text == "Je krijgt berichten nu in het Nederlands."
    async with harness.db.session() as s:
        workspace = await s.scalar(select(Workspace).where(Workspace.platform == "teams"))
        assert workspace is not None and workspace.external_id == "tenant-1"
        person = await s.scalar(select(Person).where(Person.workspace_id == workspace.id))
        assert person is not None and person.external_id == "29:abc" and person.locale == "nl"
