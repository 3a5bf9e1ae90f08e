"""Read the settings and cadence commands: status, cadence, kinds, pause, zone, country, ..."""

from __future__ import annotations

from functools import cache

import holidays

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.targets import (
    read_cadence_target,
    read_only_person,
    read_optional_person,
    read_person,
    read_person_or_self,
)
from nudges.commands.parser.values import (
    read_change,
    read_kinds,
    read_language,
    read_number,
    read_timezone,
)
from nudges.commands.parser.when import ISO_DATE, read_date, read_pause_until, read_schedule
from nudges.commands.parser.words import BUDGET_RANGE, CLEAR, WORKSPACE
from nudges.commands.tokens import TokenKind
from nudges.scheduling.calendar import is_supported_country, subdivisions_of


@cache
def countries() -> frozenset[str]:
    """Return the country codes the holidays library knows, without aliases."""
    return frozenset(holidays.list_supported_countries(include_aliases=False))


def status(c: Cursor) -> ast.Command:
    """Read ``status``, ``status @person`` or ``status workspace``."""
    if c.next_is(*WORKSPACE):
        c.take()
        return ast.Status(ast.WorkspaceRef())
    return ast.Status(read_only_person(c) or ast.WorkspaceRef())


def cadence(c: Cursor) -> ast.Command:
    """Read ``cadence [@person|#team|workspace] <schedule>``."""
    target = read_cadence_target(c)
    frequency, weekday, ordinal, at = read_schedule(c)
    return ast.Cadence(target, frequency, weekday, ordinal, at)


def kinds_command(c: Cursor) -> ast.Command:
    """Read ``kinds @manager <kind>, ...``."""
    manager = read_person(c)
    return ast.Kinds(manager, read_kinds(c))


def pause(c: Cursor) -> ast.Command:
    """Read ``pause [@person] <until>``."""
    target = read_person_or_self(c)
    return ast.Pause(target, read_pause_until(c))


def resume(c: Cursor) -> ast.Command:
    """Read ``resume [@person]``."""
    return ast.Resume(read_only_person(c) or ast.SelfRef())


def timezone_command(c: Cursor) -> ast.Command:
    """Read ``timezone [@person] <zone>``."""
    target = read_person_or_self(c)
    return ast.Timezone(target, read_timezone(c))


def language_command(c: Cursor) -> ast.Command:
    """Read ``language [@person] <language>``."""
    target = read_person_or_self(c)
    return ast.Language(target, read_language(c))


def country(c: Cursor) -> ast.Command:
    """Read ``country <code>``, or ``country @person <code>|clear``."""
    person = read_optional_person(c)
    token = c.peek()
    if token is None:
        c.fail("missing_country")
    c.take()
    if person is not None and token.is_word(*CLEAR):
        return ast.Country(None, person)
    code = token.value.upper()
    if token.kind is not TokenKind.WORD or not is_supported_country(code):
        country = code.partition("-")[0]
        if token.kind is TokenKind.WORD and "-" in code and country in countries():
            c.fail("unknown_subdivision", word=token.raw, choices=", ".join(subdivisions_of(code)))
        c.fail("unknown_country", word=token.raw)
    return ast.Country(code, person)


def blackout(c: Cursor) -> ast.Command:
    """Read ``blackout``, or ``blackout add|remove <date>``."""
    token = c.peek()
    if token is not None and token.kind is TokenKind.WORD and ISO_DATE.match(token.value):
        c.fail("add_or_remove", f"blackout add {token.value}", command="blackout", word=token.raw)
    change = read_change(c, "blackout")
    if change is None:
        return ast.BlackoutList()
    day = read_date(c)
    return ast.BlackoutAdd(day) if change == "add" else ast.BlackoutRemove(day)


def budget(c: Cursor) -> ast.Command:
    """Read ``budget <messages per week>``."""
    return ast.Budget(read_number(c, *BUDGET_RANGE))
