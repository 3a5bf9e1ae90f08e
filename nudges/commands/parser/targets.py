"""Read who or what a command is about: a person, a team, the workspace."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NoReturn

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.words import FREQUENCIES, MAX_PEOPLE, QUOTES, WORKSPACE
from nudges.commands.tokens import Token, TokenKind

# Platform ids are letters, digits and a little punctuation (Slack U0ANNA, Teams 29:1AbC-x,
# AAD GUIDs); "<@!channel>" or a control character is never a person.
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.+/=-]{0,127}$")


def person_problem(c: Cursor, token: Token) -> NoReturn:
    """Fail with the error that says why ``token`` is not a person."""
    if token.kind is TokenKind.WORD and token.value.startswith("@") and len(token.value) > 1:
        c.fail("bare_mention", word=token.raw)
    if token.kind is TokenKind.SPECIAL:
        c.fail("unsupported_mention", word=token.raw)
    c.fail("expected_person", word=token.raw)


def person_ref(c: Cursor, token: Token) -> ast.PersonRef:
    """Turn a mention into a person, refusing what cannot be a platform id."""
    if not EXTERNAL_ID.match(token.value):
        c.fail("bad_mention", word=token.raw)
    return ast.PersonRef(token.value)


def read_person(c: Cursor) -> ast.PersonRef:
    """Read the mention of a person, which must be there."""
    token = c.peek()
    if token is None:
        c.fail("missing_person")
    if token.kind is not TokenKind.PERSON:
        person_problem(c, token)
    return person_ref(c, c.take())


def read_optional_person(c: Cursor) -> ast.PersonRef | None:
    """Read the mention of a person if there is one."""
    token = c.peek()
    if token is None:
        return None
    if token.kind is TokenKind.PERSON:
        return person_ref(c, c.take())
    if token.kind is not TokenKind.WORD and token.kind is not TokenKind.QUOTED:
        person_problem(c, token)
    if token.value.startswith("@") and len(token.value) > 1:
        c.fail("bare_mention", word=token.raw)
    return None


def read_person_or_self(c: Cursor) -> ast.PersonOrSelf:
    """Read the mention of a person, or mean whoever typed the command."""
    return read_optional_person(c) or ast.SelfRef()


def read_only_person(c: Cursor) -> ast.PersonRef | None:
    """Read an optional person that must be the last word, as in ``status @anna``."""
    person = read_optional_person(c)
    token = c.peek()
    if token is not None:
        person_problem(c, token)
    return person


def read_team(c: Cursor, token: Token, stop: Iterable[str] = ()) -> ast.TeamRef:
    """Read a team name; ``#Team Blue`` takes the plain words after it up to a ``stop`` word."""
    if not token.value:
        c.fail("team_name_missing")
    words = [token.value]
    # A quoted name (#"Team Blue") or a channel link is whole already.
    if token.kind is TokenKind.TEAM and token.raw.startswith("#") and token.raw[1:2] not in QUOTES:
        stops = frozenset(stop)
        while (following := c.peek()) is not None and following.kind is TokenKind.WORD:
            if following.value.lower() in stops or following.value.startswith("@"):
                break
            words.append(c.take().value)
    return ast.TeamRef(" ".join(" ".join(words).split()))


def read_pulse_target(c: Cursor, *, scheduled: bool = False) -> ast.PulseTarget:
    """Read the team or workspace a pulse command is about; nothing means the workspace."""
    token = c.peek()
    if token is None:
        return ast.WorkspaceRef()
    if token.kind is TokenKind.TEAM:
        return read_team(c, c.take(), FREQUENCIES if scheduled else ())
    if token.is_word(*WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    if token.kind is TokenKind.PERSON or token.kind is TokenKind.SPECIAL:
        c.fail("expected_team", word=token.raw)
    if scheduled:
        team_without_hash(c, token)
    else:
        c.fail("team_needs_hash", word=token.raw)
    return ast.WorkspaceRef()


def team_without_hash(c: Cursor, token: Token) -> None:
    """Fail on a team name typed without ``#`` in front of a schedule."""
    following = c.peek(1)
    if token.kind is TokenKind.QUOTED or (
        token.kind is TokenKind.WORD
        and token.value.lower() not in FREQUENCIES
        and following is not None
        and following.is_word(*FREQUENCIES)
    ):
        c.fail("team_needs_hash", word=token.raw)


def read_cadence_target(c: Cursor) -> ast.CadenceTarget:
    """Read the person, team or workspace a cadence is for; nothing means the workspace."""
    token = c.peek()
    if token is None:
        return ast.WorkspaceRef()
    if token.kind is TokenKind.TEAM:
        return read_team(c, c.take(), FREQUENCIES)
    if token.is_word(*WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    person = read_optional_person(c)
    if person is not None:
        return person
    team_without_hash(c, token)
    return ast.WorkspaceRef()


def read_members(c: Cursor) -> tuple[ast.PersonRef, ...]:
    """Read one or more mentions of people, each once, up to the limit."""
    # A dict keeps the order people were typed in and finds repeats in constant time.
    members: dict[ast.PersonRef, None] = {}
    while not c.at_end():
        token = c.peek()
        if token is not None and token.kind is TokenKind.WORD and token.value.strip(",") == "":
            c.take()
            continue
        members[read_person(c)] = None
        if len(members) > MAX_PEOPLE:
            c.fail("too_many_people", max=str(MAX_PEOPLE))
    if not members:
        c.fail("missing_members")
    return tuple(members)
