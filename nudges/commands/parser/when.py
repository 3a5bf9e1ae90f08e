"""Read days, times, dates, schedules and pause lengths."""

from __future__ import annotations

import re
from datetime import date, time

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.words import FREQUENCIES, MAX_PAUSE_DAYS, UNTIL, closest
from nudges.commands.tokens import Token, TokenKind
from nudges.domain import Frequency
from nudges.scheduling.workweek import DAY_NUMBERS

# Numbered as date.weekday() numbers them: Monday is 0.
DAYS = DAY_NUMBERS
SATURDAY = 5
ORDINALS: dict[str, int] = {
    "first": 1,
    "1st": 1,
    "eerste": 1,
    "1e": 1,
    "second": 2,
    "2nd": 2,
    "tweede": 2,
    "2e": 2,
    "third": 3,
    "3rd": 3,
    "derde": 3,
    "3e": 3,
    "fourth": 4,
    "4th": 4,
    "vierde": 4,
    "4e": 4,
    "last": ast.LAST,
    "laatste": ast.LAST,
}
FIFTH = ("fifth", "5th", "vijfde", "5e")
DAY_UNITS = ("d", "day", "days", "dag", "dagen")
WEEK_UNITS = ("w", "wk", "week", "weeks", "weken")
DURATION = re.compile(r"^([0-9]{1,4})([a-z]*)$")
TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
TIME_OTHER_SEPARATOR = re.compile(r"^([0-9]{1,2})[.hu]([0-9]{2})$")
TIME_HOUR_ONLY = re.compile(r"^([0-9]{1,2})(?:u|h)?$")
TIME_AM_PM = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?([ap])\.?m\.?$")
ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
DAY_FIRST_DATE = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})$")


def looks_like_time(token: Token) -> bool:
    """Tell whether a word starts the way a time of day does."""
    return token.kind is TokenKind.WORD and token.value[:1].isdigit()


def read_day(c: Cursor, frequency: str) -> int:
    """Read a weekday from Monday to Friday."""
    token = c.peek()
    if token is None or looks_like_time(token) or token.kind is not TokenKind.WORD:
        c.fail("missing_day", frequency=frequency)
    word = token.value.lower()
    if word not in DAYS:
        c.fail("unknown_day", closest(word, DAYS), word=token.raw)
    c.take()
    if DAYS[word] >= SATURDAY:
        c.fail("weekend_day", word=token.raw)
    return DAYS[word]


def read_ordinal(c: Cursor) -> int:
    """Read which weekday of the month: first to fourth, or last."""
    token = c.peek()
    if token is None or token.kind is not TokenKind.WORD:
        c.fail("missing_ordinal")
    word = token.value.lower()
    if word in ORDINALS:
        c.take()
        return ORDINALS[word]
    if word in DAYS or looks_like_time(token):
        c.fail("missing_ordinal")
    # Not every month has a fifth weekday; the last one is what people mean.
    suggestion = "last" if word in FIFTH else closest(word, ORDINALS)
    c.fail("unknown_ordinal", suggestion, word=token.raw)


def read_time(c: Cursor) -> time:
    """Read a time of day as HH:MM, suggesting that form for others."""
    token = c.peek()
    if token is None:
        c.fail("missing_time")
    if token.kind is not TokenKind.WORD:
        c.fail("bad_time", word=token.raw)
    word = token.value.lower()
    exact = TIME.match(word)
    if exact:
        hour, minute = int(exact.group(1)), int(exact.group(2))
        if hour > 23 or minute > 59:
            c.fail("time_out_of_range", word=token.raw)
        c.take()
        return time(hour, minute)
    hour, minute = -1, 0
    if other := TIME_OTHER_SEPARATOR.match(word):
        hour, minute = int(other.group(1)), int(other.group(2))
    elif hour_only := TIME_HOUR_ONLY.match(word):
        hour = int(hour_only.group(1))
        following = c.peek(1)
        # "7 pm" arrives as two words.
        if following is not None and following.kind is TokenKind.WORD:
            word += following.value.lower()
    if am_pm := TIME_AM_PM.match(word):
        hour, minute = int(am_pm.group(1)) % 12, int(am_pm.group(2) or 0)
        if not 1 <= int(am_pm.group(1)) <= 12:
            hour = -1
        elif am_pm.group(3) == "p":
            hour += 12
    fixed = f"{hour:02d}:{minute:02d}" if 0 <= hour <= 23 and minute <= 59 else None
    c.fail("bad_time", fixed, word=token.raw)


def read_schedule(c: Cursor) -> tuple[Frequency, int | None, int | None, time]:
    """Read a frequency, its day (and week of the month), and a time of day."""
    token = c.peek()
    if token is None or looks_like_time(token):
        c.fail("missing_frequency")
    word = token.value.lower() if token.kind is TokenKind.WORD else ""
    if word not in FREQUENCIES:
        if word in DAYS:
            c.fail("missing_frequency", Frequency.WEEKLY.value)
        if token.kind is TokenKind.PERSON or token.kind is TokenKind.TEAM:
            c.fail("unexpected", word=token.raw)
        c.fail("unknown_frequency", closest(word, list(Frequency)), word=token.raw)
    c.take()
    frequency = FREQUENCIES[word]
    weekday: int | None = None
    ordinal: int | None = None
    if frequency is Frequency.MONTHLY:
        ordinal = read_ordinal(c)
        weekday = read_day(c, frequency.value)
    elif frequency is Frequency.WEEKDAYS:
        following = c.peek()
        if following is not None and following.is_word(*DAYS):
            c.fail("weekdays_no_day", word=following.raw)
    else:
        weekday = read_day(c, frequency.value)
    return frequency, weekday, ordinal, read_time(c)


def read_iso_date(c: Cursor, token: Token) -> date:
    """Turn a word into a date, suggesting YYYY-MM-DD for other forms."""
    word = token.value
    if iso := ISO_DATE.match(word):
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            c.fail("no_such_date", word=token.raw)
    fixed = None
    if day_first := DAY_FIRST_DATE.match(word):
        try:
            day = date(int(day_first.group(3)), int(day_first.group(2)), int(day_first.group(1)))
            fixed = day.isoformat()
        except ValueError:
            fixed = None
    c.fail("bad_date", fixed, word=token.raw)


def read_date(c: Cursor) -> date:
    """Read a date, which must be there."""
    token = c.peek()
    if token is None:
        c.fail("missing_date")
    c.take()
    return read_iso_date(c, token)


def read_pause_until(c: Cursor) -> ast.PauseUntil:
    """Read a day to pause until, or a number of days or weeks."""
    if c.next_is(*UNTIL):
        c.take()
    token = c.peek()
    if token is None:
        c.fail("missing_pause_until")
    if token.kind is not TokenKind.WORD:
        c.fail("bad_pause_until", word=token.raw)
    c.take()
    word = token.value.lower()
    if ISO_DATE.match(word) or DAY_FIRST_DATE.match(word):
        return read_iso_date(c, token)
    duration = DURATION.match(word)
    if duration is None:
        c.fail("bad_pause_until", word=token.raw)
    amount, unit = int(duration.group(1)), duration.group(2)
    following = c.peek()
    if not unit and following is not None and following.is_word(*DAY_UNITS, *WEEK_UNITS):
        unit = c.take().value.lower()
    if unit in DAY_UNITS:
        days = amount
    elif unit in WEEK_UNITS:
        days = amount * 7
    else:
        c.fail("bad_pause_until", word=token.raw)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        c.fail("pause_out_of_range", word=token.raw, max=str(MAX_PAUSE_DAYS))
    return ast.RelativePause(days)
