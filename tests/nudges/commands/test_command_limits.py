"""Hostile command text: linear parsing, caps on size and mentions, ids by shape, controls."""

from __future__ import annotations

import contextlib
from typing import Any, SupportsIndex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from nudges.coaching.interactions import Actor
from nudges.commands import ast
from nudges.commands.parser import MAX_COMMAND_LENGTH, MAX_PEOPLE, CommandError, parse
from nudges.commands.tokens import tokenize
from nudges.store.org import Person
from tests.nudges.commands.conftest import MEMBER, Harness, snapshot


class CountingText(str):
    """A string that counts every character the tokenizer looks at."""

    steps: int

    def __new__(cls, value: str) -> CountingText:
        made = super().__new__(cls, value)
        made.steps = 0
        return made

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            self.steps += max(stop - start, 1)
        else:
            self.steps += 1
        return str.__getitem__(self, key)

    def find(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        begin = 0 if start is None else int(start)
        stop = len(self) if end is None else min(int(end), len(self))
        found = str.find(self, sub, begin, stop)
        self.steps += (found - begin + 1) if found >= 0 else max(stop - begin, 1)
        return found


HOSTILE_PIECES = [
    "<",
    "<@",
    "<@U1> ",
    "<@U1>,",
    "a<",
    "<#C1|",
    "#",
    "#x ",
    "&lt;",
    "x",
    " ",
    "<!here",
    "@",
]


def _steps(text: str) -> int:
    counted = CountingText(text)
    with contextlib.suppress(Exception):
        tokenize(counted)
    return counted.steps


@pytest.mark.parametrize("piece", HOSTILE_PIECES)
def test_tokenizing_100_kb_of_one_piece_looks_at_each_character_a_bounded_number_of_times(
    piece: str,
) -> None:
    size = 100_000
    text = (piece * (size // len(piece) + 1))[:size]
    half = text[: size // 2]
    steps, half_steps = _steps(text), _steps(half)
    # Linear: a constant number of looks per character, and twice the text costs twice the work.
    assert steps <= 8 * size
    assert steps <= 2.2 * half_steps + 1000


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE_PIECES), min_size=1, max_size=40))
def test_any_mix_of_hostile_pieces_stays_linear(pieces: list[str]) -> None:
    unit = "".join(pieces)
    text = unit * (10_000 // len(unit) + 1)
    assert _steps(text) <= 8 * len(text)


def test_a_100_kb_command_is_refused_by_size_naming_its_command() -> None:
    text = "team <@U0ANNA> add " + "<@U0BRAM> " * 10_000
    assert len(text) > 100_000
    error = parse(text)
    assert isinstance(error, CommandError)
    assert error.key == "commands.errors.too_long"
    assert error.topic == "team"


def test_the_people_cap_keeps_the_first_mentions_in_order() -> None:
    people = " ".join(f"<@U{i:04d}>" for i in range(MAX_PEOPLE))
    parsed = parse(f"team <@U0ANNA> add {people} <@U0000>")
    assert isinstance(parsed, ast.TeamAdd)
    assert len(parsed.members) == MAX_PEOPLE
    assert parsed.members[0] == ast.PersonRef("U0000")


async def test_a_member_adding_thousands_to_a_team_is_refused_as_a_member(
    harness: Harness,
) -> None:
    before = await snapshot(harness.db)
    text = "team <@UMGR> add " + " ".join(f"<@U{i:05d}>" for i in range(5000))
    assert len(text) > MAX_COMMAND_LENGTH
    reply = await harness.run(text, MEMBER)
    assert not reply.ok
    assert "Only admins can use `/nudges team`" in reply.text
    assert await snapshot(harness.db) == before


async def test_an_admin_adding_too_many_people_hears_the_cap(harness: Harness) -> None:
    before = await snapshot(harness.db)
    text = "team <@UMGR> add " + " ".join(f"<@U{i:04d}>" for i in range(MAX_PEOPLE + 1))
    reply = await harness.run(text)
    assert not reply.ok
    assert f"at most {MAX_PEOPLE}" in reply.text
    assert "Example: `/nudges team @anna add @bram @chen`" in reply.text
    assert await snapshot(harness.db) == before


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("admins add <@!channel>", "is not a person"),
        ("admins add <@!here|here>", "is not a person"),
        ("admins add <@29:1AbC-xyz>", "is not a Slack person"),
        ("admins add <@u0lower>", "is not a Slack person"),
        ("team <@UMGR> add <@B0BOT>", "is not a Slack person"),
    ],
)
async def test_ids_that_are_not_slack_people_are_refused_and_nobody_is_stored(
    harness: Harness, text: str, expect: str
) -> None:
    before = await snapshot(harness.db)
    reply = await harness.run(text)
    assert not reply.ok
    assert expect in reply.text
    assert "\n" not in reply.text
    assert await snapshot(harness.db) == before


async def test_a_teams_workspace_takes_teams_ids_and_refuses_slack_ones(harness: Harness) -> None:
    teams_admin = Actor("teams", "tenant-1", "29:1AdminXyz")
    reply = await harness.run("admins add <@29:1AbC-xyz>", teams_admin, platform_admin=True)
    assert reply.ok, reply.text
    reply = await harness.run(
        "admins add <@0b7c2a14-3f5e-4d6a-9b8c-1a2b3c4d5e6f>", teams_admin, platform_admin=True
    )
    assert reply.ok, reply.text
    reply = await harness.run("admins add <@U0ANNA>", teams_admin, platform_admin=True)
    assert not reply.ok
    assert "is not a Teams person" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        'pulse ask "How is\x00 it going?"',
        'pulse ask "How is\x07 it going?"',
        "team <@UMGR> add <@UA>\x00",
        "me timezone Europe/Amsterdam\x1b",
    ],
)
async def test_control_characters_get_one_clear_line_and_store_nothing(
    harness: Harness, text: str
) -> None:
    before = await snapshot(harness.db)
    reply = await harness.run(text)
    assert not reply.ok
    assert "control character" in reply.text
    assert "Example:" in reply.text
    assert await snapshot(harness.db) == before
    async with harness.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == len(
            [k for k in harness.ids if not k.startswith("__")]
        )


async def test_an_emoji_joined_with_zero_width_joiners_is_not_a_control_character(
    harness: Harness,
) -> None:
    reply = await harness.run('pulse ask "Does the team feel 👩‍💻 enough?"')
    assert reply.ok, reply.text
