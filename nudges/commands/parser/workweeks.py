"""Read working weeks and time away: workweek, away, me workweek, me away."""

from __future__ import annotations

import re
from datetime import date

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.targets import read_optional_person, read_person
from nudges.commands.parser.words import CLEAR, WORKSPACE
from nudges.commands.tokens import TokenKind
from nudges.scheduling.workweek import WorkWeekError, parse_days, parse_hours, parse_time_off

HOURS_LIKE = re.compile(r"^[0-9]{1,2}:?[0-9]{2}\s*[-–]")


def read_week(c: Cursor) -> ast.Week | None:
    """Read ``mon-thu 08:30-16:30`` (hours optional) or ``clear``."""
    token = c.peek()
    if token is None:
        c.fail("missing_workdays")
    if token.is_word(*CLEAR):
        c.take()
        return None
    words: list[str] = []
    # "mon, tue" arrives as two words; everything up to the hours (or the end) is the days.
    while (token := c.peek()) is not None and token.kind is TokenKind.WORD:
        if HOURS_LIKE.match(token.value):
            break
        words.append(c.take().raw)
    if not words:
        c.fail("missing_workdays")
    try:
        days = parse_days("".join(words))
    except WorkWeekError:
        c.fail("bad_workdays", word=" ".join(words))
    if c.at_end():
        return ast.Week(days)
    hours = c.take()
    try:
        start, end = parse_hours(hours.value)
    except WorkWeekError:
        c.fail("bad_work_hours", word=hours.raw)
    return ast.Week(days, start, end)


def read_workweek_target(c: Cursor) -> ast.CadenceTarget:
    """Read the person, team or workspace a working week is for."""
    token = c.peek()
    if token is not None and token.kind is TokenKind.TEAM:
        c.take()
        words = [token.value]
        # "#Team Blue mon-thu": the team name runs up to the first word that names days.
        while (following := c.peek()) is not None and following.kind is TokenKind.WORD:
            if names_days(following.value) or following.is_word(*CLEAR):
                break
            words.append(c.take().value)
        if not token.value:
            c.fail("team_name_missing")
        return ast.TeamRef(" ".join(" ".join(words).split()))
    if token is not None and token.is_word(*WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    return read_optional_person(c) or ast.WorkspaceRef()


def names_days(word: str) -> bool:
    """Tell whether a word names weekdays, as in ``mon-thu``."""
    try:
        parse_days(word.strip(","))
    except WorkWeekError:
        return False
    return True


def workweek(c: Cursor) -> ast.Command:
    """Read ``workweek [@person|#team|workspace] <days> [hours]`` or ``clear``."""
    target = read_workweek_target(c)
    return ast.Workweek(target, read_week(c))


def read_away_span(c: Cursor) -> tuple[date, date] | None:
    """Read ``2026-12-21 to 2027-01-03`` (or one day), or ``clear``; nothing means list."""
    if c.at_end():
        return None
    words = []
    while not c.at_end():
        words.append(c.take().raw)
    text = " ".join(words)
    try:
        return parse_time_off(text)
    except WorkWeekError:
        c.fail("bad_time_off", word=text)


def away(c: Cursor) -> ast.Command:
    """Read ``away @person``, with a span of days or ``clear``."""
    person = read_person(c)
    if c.next_is(*CLEAR):
        c.take()
        return ast.Away(person, clear=True)
    span = read_away_span(c)
    return ast.Away(person, *span) if span else ast.Away(person)


def me_away(c: Cursor) -> ast.Command:
    """Read ``me away``, with a span of days or ``clear``."""
    if c.next_is(*CLEAR):
        c.take()
        return ast.MeAway(clear=True)
    span = read_away_span(c)
    return ast.MeAway(*span) if span else ast.MeAway()
