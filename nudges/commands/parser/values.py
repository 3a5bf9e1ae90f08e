"""Read the small values commands take: numbers, kinds, time zones, languages, add or remove."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.words import ADD, ALL, CONFIRM, LIST, REMOVE, closest
from nudges.commands.tokens import TokenKind
from nudges.domain import LOCALES, Kind
from nudges.i18n import normalize_locale

LANGUAGE_ALIASES = {
    "english": "en",
    "engels": "en",
    "dutch": "nl",
    "nederlands": "nl",
}
NUMBER = re.compile(r"^[0-9]+$")


@cache
def timezones() -> dict[str, str]:
    """Return every IANA zone name by its lower-case spelling."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def kind_word(kind: Kind) -> str:
    """Spell a kind as people type it."""
    # People type hyphens; underscores also italicise text in Slack.
    return kind.value.replace("_", "-")


def read_kinds(c: Cursor) -> tuple[Kind, ...]:
    """Read one or more kinds of nudge, or ``all``."""
    words: list[str] = []
    while not c.at_end():
        token = c.take()
        if token.kind is not TokenKind.WORD and token.kind is not TokenKind.QUOTED:
            c.fail("unexpected", word=token.raw)
        words.extend(part.strip() for part in token.value.split(","))
    names = [word.lower() for word in words if word]
    if not names:
        c.fail("missing_kinds")
    by_name = {kind_word(kind): kind for kind in Kind}
    chosen: set[Kind] = set()
    for name in names:
        typed = name.replace("_", "-")
        if typed in ALL:
            chosen.update(Kind)
        elif typed in by_name:
            chosen.add(by_name[typed])
        else:
            c.fail("unknown_kind", closest(typed, by_name), word=name)
    return tuple(kind for kind in Kind if kind in chosen)


def read_number(c: Cursor, low: int, high: int) -> int:
    """Read a whole number between ``low`` and ``high``."""
    token = c.peek()
    if token is None:
        c.fail("missing_number", min=str(low), max=str(high))
    c.take()
    if token.kind is not TokenKind.WORD or not NUMBER.match(token.value):
        c.fail("not_a_number", word=token.raw, min=str(low), max=str(high))
    # Long digit strings are out of range anyway, and int() refuses very long ones.
    value = int(token.value) if len(token.value) <= 6 else high + 1
    if not low <= value <= high:
        c.fail("out_of_range", word=token.raw, min=str(low), max=str(high))
    return value


def read_timezone(c: Cursor) -> str:
    """Read an IANA time zone, suggesting one from a city name."""
    token = c.peek()
    if token is None:
        c.fail("missing_timezone")
    c.take()
    word = token.value.strip().lower()
    zones = timezones()
    if token.kind is TokenKind.PERSON or token.kind is TokenKind.SPECIAL:
        c.fail("unknown_timezone", word=token.raw)
    if word in zones:
        return zones[word]
    # "new york" arrives as two words; suggest from all of them, and name all of them.
    rest = [word]
    while (following := c.peek()) is not None and following.kind is TokenKind.WORD:
        rest.append(c.take().value.lower())
    typed = " ".join(rest)
    city = "_".join(typed.split())
    by_city = sorted(name for key, name in zones.items() if key.rsplit("/", 1)[-1] == city)
    suggestion = by_city[0] if by_city else None
    if suggestion is None:
        close = closest(city, zones)
        suggestion = zones[close] if close else None
    c.fail("unknown_timezone", suggestion, word=typed)


def read_language(c: Cursor) -> str:
    """Read a language the bot speaks, by code or by name."""
    token = c.peek()
    if token is None:
        c.fail("missing_language")
    c.take()
    word = token.value.lower()
    locale = LANGUAGE_ALIASES.get(word) or normalize_locale(word)
    if token.kind is not TokenKind.WORD or locale is None or locale not in LOCALES:
        c.fail("unknown_language", word=token.raw)
    return locale


def read_change(c: Cursor, command: str) -> str | None:
    """Read ``add``, ``remove`` or ``list``; return None for a listing."""
    token = c.peek()
    if token is None or token.is_word(*LIST):
        if token is not None:
            c.take()
        return None
    if token.is_word(*ADD):
        c.take()
        return "add"
    if token.is_word(*REMOVE):
        c.take()
        return "remove"
    suggestion = None
    if token.kind is TokenKind.WORD:
        close = closest(token.value, ("add", "remove"))
        suggestion = f"{command} {close}" if close else None
    c.fail("add_or_remove", suggestion, command=command, word=token.raw)


def read_confirmed(c: Cursor) -> bool:
    """Take a trailing ``confirm`` and tell whether there was one."""
    if c.next_is(*CONFIRM):
        c.take()
        return True
    return False
