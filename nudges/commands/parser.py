"""Parse the admin and member command text that Slack and Teams pass on."""

from __future__ import annotations

import difflib
import logging
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from functools import cache
from typing import NoReturn

import holidays

from nudges.commands import ast
from nudges.commands.tokens import (
    DOUBLE_QUOTES,
    SINGLE_QUOTES,
    Token,
    TokenKind,
    UnbalancedQuoteError,
    tokenize,
)
from nudges.commands.topics import (
    TOPICS,
    TOPICS_BY_KEY,
    display_example,
    echo,
    example_for,
    topic_key,
)
from nudges.domain import DEFAULT_LOCALE, LOCALES, Dimension, Frequency, Kind
from nudges.i18n import normalize_locale, t
from nudges.messages import control_character
from nudges.scheduling.calendar import is_supported_country, subdivisions_of
from nudges.scheduling.workweek import (
    DAY_NUMBERS,
    WorkWeekError,
    parse_days,
    parse_hours,
    parse_time_off,
)

logger = logging.getLogger(__name__)

ERRORS = "commands.errors."


@dataclass(frozen=True, slots=True)
class CommandError:
    """Say what is wrong with a command, which topic's example fixes it, and a likely fix."""

    key: str
    topic: str
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    suggestion: str | None = None

    @property
    def example(self) -> str:
        """Return a correct example in command words, without prefix, in the default language."""
        return example_for(self.topic, DEFAULT_LOCALE)

    def example_in(self, locale: str) -> str:
        """Return a correct example in command words, without prefix, in ``locale``."""
        return example_for(self.topic, locale)


class _Fail(Exception):
    """Carry a CommandError out of the nested parse functions."""

    def __init__(self, error: CommandError) -> None:
        super().__init__(error.key)
        self.error = error


# --- grammar vocabulary: these words are the grammar itself, not user-facing prose ---

_COMMAND_ALIASES = {
    "?": "help",
    "hulp": "help",
    "admin": "admins",
    "kind": "kinds",
    "tz": "timezone",
    "sendnow": "send-now",
    "send_now": "send-now",
}
_PULSE_ALIASES = {"question": "questions", "result": "results"}
_ME_ALIASES = {
    "program": "programme",
    "programma": "programme",
    "opt-out": "optout",
    "opt_out": "optout",
    "opt-in": "optin",
    "opt_in": "optin",
    "kind": "kinds",
    "tz": "timezone",
}

# Numbered as date.weekday() numbers them: Monday is 0.
_DAYS = DAY_NUMBERS
_SATURDAY = 5

_FREQUENCIES: dict[str, Frequency] = {
    "weekly": Frequency.WEEKLY,
    "wekelijks": Frequency.WEEKLY,
    "biweekly": Frequency.BIWEEKLY,
    "bi-weekly": Frequency.BIWEEKLY,
    "fortnightly": Frequency.BIWEEKLY,
    "tweewekelijks": Frequency.BIWEEKLY,
    "monthly": Frequency.MONTHLY,
    "maandelijks": Frequency.MONTHLY,
    "weekdays": Frequency.WEEKDAYS,
    "werkdagen": Frequency.WEEKDAYS,
}

_ORDINALS: dict[str, int] = {
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

_FIFTH = ("fifth", "5th", "vijfde", "5e")

_LANGUAGE_ALIASES = {
    "english": "en",
    "engels": "en",
    "dutch": "nl",
    "nederlands": "nl",
}

_DIMENSIONS = tuple(dimension.value for dimension in Dimension)

_ADD = ("add",)
_REMOVE = ("remove", "rm", "delete")
_LIST = ("list", "show")
_UNTIL = ("until", "tot")
_ALL = ("all", "alle")
_WORKSPACE = ("workspace",)
_CLEAR = ("clear", "reset", "wissen")
_HOURS_LIKE = re.compile(r"^[0-9]{1,2}:?[0-9]{2}\s*[-–]")
_HELP_WORDS = ("help", "?")

_DAY_UNITS = ("d", "day", "days", "dag", "dagen")
_WEEK_UNITS = ("w", "wk", "week", "weeks", "weken")
_DURATION = re.compile(r"^([0-9]{1,4})([a-z]*)$")
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_TIME_OTHER_SEPARATOR = re.compile(r"^([0-9]{1,2})[.hu]([0-9]{2})$")
_TIME_HOUR_ONLY = re.compile(r"^([0-9]{1,2})(?:u|h)?$")
_TIME_AM_PM = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?([ap])\.?m\.?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DAY_FIRST_DATE = re.compile(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})$")
_NUMBER = re.compile(r"^[0-9]+$")
_QUESTION_KEY = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$", re.IGNORECASE)

MAX_PAUSE_DAYS = 365
BUDGET_RANGE = (1, 20)
THRESHOLD_RANGE = (3, 10)
MAX_QUESTION_LENGTH = 200
# A command longer than this is not read at all: no real command needs it, and reading
# thousands of mentions would keep the event loop busy for everyone.
MAX_COMMAND_LENGTH = 4000
MAX_PEOPLE = 50
# Enough of a too-long command to tell which command it is, for the refusal or the example.
_TOPIC_PREFIX = 200
QUOTES = DOUBLE_QUOTES | SINGLE_QUOTES
# Platform ids are letters, digits and a little punctuation (Slack U0ANNA, Teams 29:1AbC-x,
# AAD GUIDs); "<@!channel>" or a control character is never a person.
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_.+/=-]{0,127}$")


@cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@cache
def _countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries(include_aliases=False))


def _closest(word: str, options: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _kind_word(kind: Kind) -> str:
    # People type hyphens; underscores also italicise text in Slack.
    return kind.value.replace("_", "-")


# --- the cursor over tokens ---


class _Cursor:
    """Walk the tokens of one command and fail with errors that point at the right example."""

    def __init__(self, tokens: list[Token], topic: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.topic = topic

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def next_is(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.is_word(*words)

    def fail(self, key: str, suggestion: str | None = None, **params: str) -> NoReturn:
        raise _Fail(CommandError(ERRORS + key, self.topic, dict(params), suggestion))

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            self.fail("unexpected", word=token.raw)


# --- small pieces of grammar ---


def _person_problem(c: _Cursor, token: Token) -> NoReturn:
    if token.kind is TokenKind.WORD and token.value.startswith("@") and len(token.value) > 1:
        c.fail("bare_mention", word=token.raw)
    if token.kind is TokenKind.SPECIAL:
        c.fail("unsupported_mention", word=token.raw)
    c.fail("expected_person", word=token.raw)


def _person_ref(c: _Cursor, token: Token) -> ast.PersonRef:
    if not _EXTERNAL_ID.match(token.value):
        c.fail("bad_mention", word=token.raw)
    return ast.PersonRef(token.value)


def _person(c: _Cursor) -> ast.PersonRef:
    token = c.peek()
    if token is None:
        c.fail("missing_person")
    if token.kind is not TokenKind.PERSON:
        _person_problem(c, token)
    return _person_ref(c, c.take())


def _optional_person(c: _Cursor) -> ast.PersonRef | None:
    token = c.peek()
    if token is None:
        return None
    if token.kind is TokenKind.PERSON:
        return _person_ref(c, c.take())
    if token.kind is not TokenKind.WORD and token.kind is not TokenKind.QUOTED:
        _person_problem(c, token)
    if token.value.startswith("@") and len(token.value) > 1:
        c.fail("bare_mention", word=token.raw)
    return None


def _person_or_self(c: _Cursor) -> ast.PersonOrSelf:
    return _optional_person(c) or ast.SelfRef()


def _team(c: _Cursor, token: Token, stop: Iterable[str] = ()) -> ast.TeamRef:
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


def _pulse_target(c: _Cursor, *, scheduled: bool = False) -> ast.PulseTarget:
    token = c.peek()
    if token is None:
        return ast.WorkspaceRef()
    if token.kind is TokenKind.TEAM:
        return _team(c, c.take(), _FREQUENCIES if scheduled else ())
    if token.is_word(*_WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    if token.kind is TokenKind.PERSON or token.kind is TokenKind.SPECIAL:
        c.fail("expected_team", word=token.raw)
    if scheduled:
        _team_without_hash(c, token)
    else:
        c.fail("team_needs_hash", word=token.raw)
    return ast.WorkspaceRef()


def _team_without_hash(c: _Cursor, token: Token) -> None:
    """Fail on a team name typed without ``#`` in front of a schedule."""
    following = c.peek(1)
    if token.kind is TokenKind.QUOTED or (
        token.kind is TokenKind.WORD
        and token.value.lower() not in _FREQUENCIES
        and following is not None
        and following.is_word(*_FREQUENCIES)
    ):
        c.fail("team_needs_hash", word=token.raw)


def _cadence_target(c: _Cursor) -> ast.CadenceTarget:
    token = c.peek()
    if token is None:
        return ast.WorkspaceRef()
    if token.kind is TokenKind.TEAM:
        return _team(c, c.take(), _FREQUENCIES)
    if token.is_word(*_WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    person = _optional_person(c)
    if person is not None:
        return person
    _team_without_hash(c, token)
    return ast.WorkspaceRef()


def _looks_like_time(token: Token) -> bool:
    return token.kind is TokenKind.WORD and token.value[:1].isdigit()


def _day(c: _Cursor, frequency: str) -> int:
    token = c.peek()
    if token is None or _looks_like_time(token) or token.kind is not TokenKind.WORD:
        c.fail("missing_day", frequency=frequency)
    word = token.value.lower()
    if word not in _DAYS:
        c.fail("unknown_day", _closest(word, _DAYS), word=token.raw)
    c.take()
    if _DAYS[word] >= _SATURDAY:
        c.fail("weekend_day", word=token.raw)
    return _DAYS[word]


def _ordinal(c: _Cursor) -> int:
    token = c.peek()
    if token is None or token.kind is not TokenKind.WORD:
        c.fail("missing_ordinal")
    word = token.value.lower()
    if word in _ORDINALS:
        c.take()
        return _ORDINALS[word]
    if word in _DAYS or _looks_like_time(token):
        c.fail("missing_ordinal")
    # Not every month has a fifth weekday; the last one is what people mean.
    suggestion = "last" if word in _FIFTH else _closest(word, _ORDINALS)
    c.fail("unknown_ordinal", suggestion, word=token.raw)


def _time(c: _Cursor) -> time:
    token = c.peek()
    if token is None:
        c.fail("missing_time")
    if token.kind is not TokenKind.WORD:
        c.fail("bad_time", word=token.raw)
    word = token.value.lower()
    exact = _TIME.match(word)
    if exact:
        hour, minute = int(exact.group(1)), int(exact.group(2))
        if hour > 23 or minute > 59:
            c.fail("time_out_of_range", word=token.raw)
        c.take()
        return time(hour, minute)
    hour, minute = -1, 0
    if other := _TIME_OTHER_SEPARATOR.match(word):
        hour, minute = int(other.group(1)), int(other.group(2))
    elif hour_only := _TIME_HOUR_ONLY.match(word):
        hour = int(hour_only.group(1))
        following = c.peek(1)
        # "7 pm" arrives as two words.
        if following is not None and following.kind is TokenKind.WORD:
            word += following.value.lower()
    if am_pm := _TIME_AM_PM.match(word):
        hour, minute = int(am_pm.group(1)) % 12, int(am_pm.group(2) or 0)
        if not 1 <= int(am_pm.group(1)) <= 12:
            hour = -1
        elif am_pm.group(3) == "p":
            hour += 12
    fixed = f"{hour:02d}:{minute:02d}" if 0 <= hour <= 23 and minute <= 59 else None
    c.fail("bad_time", fixed, word=token.raw)


def _schedule(c: _Cursor) -> tuple[Frequency, int | None, int | None, time]:
    token = c.peek()
    if token is None or _looks_like_time(token):
        c.fail("missing_frequency")
    word = token.value.lower() if token.kind is TokenKind.WORD else ""
    if word not in _FREQUENCIES:
        if word in _DAYS:
            c.fail("missing_frequency", Frequency.WEEKLY.value)
        if token.kind is TokenKind.PERSON or token.kind is TokenKind.TEAM:
            c.fail("unexpected", word=token.raw)
        c.fail("unknown_frequency", _closest(word, list(Frequency)), word=token.raw)
    c.take()
    frequency = _FREQUENCIES[word]
    weekday: int | None = None
    ordinal: int | None = None
    if frequency is Frequency.MONTHLY:
        ordinal = _ordinal(c)
        weekday = _day(c, frequency.value)
    elif frequency is Frequency.WEEKDAYS:
        following = c.peek()
        if following is not None and following.is_word(*_DAYS):
            c.fail("weekdays_no_day", word=following.raw)
    else:
        weekday = _day(c, frequency.value)
    return frequency, weekday, ordinal, _time(c)


def _iso_date(c: _Cursor, token: Token) -> date:
    word = token.value
    if iso := _ISO_DATE.match(word):
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            c.fail("no_such_date", word=token.raw)
    fixed = None
    if day_first := _DAY_FIRST_DATE.match(word):
        try:
            day = date(int(day_first.group(3)), int(day_first.group(2)), int(day_first.group(1)))
            fixed = day.isoformat()
        except ValueError:
            fixed = None
    c.fail("bad_date", fixed, word=token.raw)


def _date(c: _Cursor) -> date:
    token = c.peek()
    if token is None:
        c.fail("missing_date")
    c.take()
    return _iso_date(c, token)


def _pause_until(c: _Cursor) -> ast.PauseUntil:
    if c.next_is(*_UNTIL):
        c.take()
    token = c.peek()
    if token is None:
        c.fail("missing_pause_until")
    if token.kind is not TokenKind.WORD:
        c.fail("bad_pause_until", word=token.raw)
    c.take()
    word = token.value.lower()
    if _ISO_DATE.match(word) or _DAY_FIRST_DATE.match(word):
        return _iso_date(c, token)
    duration = _DURATION.match(word)
    if duration is None:
        c.fail("bad_pause_until", word=token.raw)
    amount, unit = int(duration.group(1)), duration.group(2)
    following = c.peek()
    if not unit and following is not None and following.is_word(*_DAY_UNITS, *_WEEK_UNITS):
        unit = c.take().value.lower()
    if unit in _DAY_UNITS:
        days = amount
    elif unit in _WEEK_UNITS:
        days = amount * 7
    else:
        c.fail("bad_pause_until", word=token.raw)
    if not 1 <= days <= MAX_PAUSE_DAYS:
        c.fail("pause_out_of_range", word=token.raw, max=str(MAX_PAUSE_DAYS))
    return ast.RelativePause(days)


def _kinds(c: _Cursor) -> tuple[Kind, ...]:
    words: list[str] = []
    while not c.at_end():
        token = c.take()
        if token.kind is not TokenKind.WORD and token.kind is not TokenKind.QUOTED:
            c.fail("unexpected", word=token.raw)
        words.extend(part.strip() for part in token.value.split(","))
    names = [word.lower() for word in words if word]
    if not names:
        c.fail("missing_kinds")
    by_name = {_kind_word(kind): kind for kind in Kind}
    chosen: set[Kind] = set()
    for name in names:
        typed = name.replace("_", "-")
        if typed in _ALL:
            chosen.update(Kind)
        elif typed in by_name:
            chosen.add(by_name[typed])
        else:
            c.fail("unknown_kind", _closest(typed, by_name), word=name)
    return tuple(kind for kind in Kind if kind in chosen)


def _number(c: _Cursor, low: int, high: int) -> int:
    token = c.peek()
    if token is None:
        c.fail("missing_number", min=str(low), max=str(high))
    c.take()
    if token.kind is not TokenKind.WORD or not _NUMBER.match(token.value):
        c.fail("not_a_number", word=token.raw, min=str(low), max=str(high))
    # Long digit strings are out of range anyway, and int() refuses very long ones.
    value = int(token.value) if len(token.value) <= 6 else high + 1
    if not low <= value <= high:
        c.fail("out_of_range", word=token.raw, min=str(low), max=str(high))
    return value


def _timezone(c: _Cursor) -> str:
    token = c.peek()
    if token is None:
        c.fail("missing_timezone")
    c.take()
    word = token.value.strip().lower()
    zones = _timezones()
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
        close = _closest(city, zones)
        suggestion = zones[close] if close else None
    c.fail("unknown_timezone", suggestion, word=typed)


def _language(c: _Cursor) -> str:
    token = c.peek()
    if token is None:
        c.fail("missing_language")
    c.take()
    word = token.value.lower()
    locale = _LANGUAGE_ALIASES.get(word) or normalize_locale(word)
    if token.kind is not TokenKind.WORD or locale is None or locale not in LOCALES:
        c.fail("unknown_language", word=token.raw)
    return locale


def _change(c: _Cursor, command: str) -> str | None:
    """Read ``add``, ``remove`` or ``list``; return None for a listing."""
    token = c.peek()
    if token is None or token.is_word(*_LIST):
        if token is not None:
            c.take()
        return None
    if token.is_word(*_ADD):
        c.take()
        return "add"
    if token.is_word(*_REMOVE):
        c.take()
        return "remove"
    suggestion = None
    if token.kind is TokenKind.WORD:
        close = _closest(token.value, ("add", "remove"))
        suggestion = f"{command} {close}" if close else None
    c.fail("add_or_remove", suggestion, command=command, word=token.raw)


# --- commands ---


def _help(c: _Cursor) -> ast.Command:
    words: list[str] = []
    while not c.at_end():
        token = c.take()
        if token.kind is not TokenKind.WORD:
            c.fail("unknown_topic", word=token.raw)
        words.append(token.value.lower())
    if words and words[0] == "/nudges":
        words = words[1:]
    if not words:
        return ast.Help()
    words[0] = _COMMAND_ALIASES.get(words[0], words[0])
    if len(words) > 1 and words[0] in ("pulse", "me"):
        aliases = _PULSE_ALIASES if words[0] == "pulse" else _ME_ALIASES
        words[1] = aliases.get(words[1], words[1])
    key = topic_key(" ".join(words))
    if key not in TOPICS_BY_KEY:
        close = _closest(" ".join(words), (topic.words for topic in TOPICS))
        c.fail("unknown_topic", close, word=" ".join(words))
    return ast.Help(key)


def _only_person(c: _Cursor) -> ast.PersonRef | None:
    """Read an optional person that must be the last word, as in ``status @anna``."""
    person = _optional_person(c)
    token = c.peek()
    if token is not None:
        _person_problem(c, token)
    return person


def _status(c: _Cursor) -> ast.Command:
    if c.next_is(*_WORKSPACE):
        c.take()
        return ast.Status(ast.WorkspaceRef())
    return ast.Status(_only_person(c) or ast.WorkspaceRef())


def _cadence(c: _Cursor) -> ast.Command:
    target = _cadence_target(c)
    frequency, weekday, ordinal, at = _schedule(c)
    return ast.Cadence(target, frequency, weekday, ordinal, at)


def _kinds_command(c: _Cursor) -> ast.Command:
    manager = _person(c)
    return ast.Kinds(manager, _kinds(c))


def _members(c: _Cursor) -> tuple[ast.PersonRef, ...]:
    # A dict keeps the order people were typed in and finds repeats in constant time.
    members: dict[ast.PersonRef, None] = {}
    while not c.at_end():
        token = c.peek()
        if token is not None and token.kind is TokenKind.WORD and token.value.strip(",") == "":
            c.take()
            continue
        members[_person(c)] = None
        if len(members) > MAX_PEOPLE:
            c.fail("too_many_people", max=str(MAX_PEOPLE))
    if not members:
        c.fail("missing_members")
    return tuple(members)


def _team_command(c: _Cursor) -> ast.Command:
    manager = _person(c)
    change = _change(c, "team")
    if change is None:
        return ast.TeamList(manager)
    members = _members(c)
    return ast.TeamAdd(manager, members) if change == "add" else ast.TeamRemove(manager, members)


def _pause(c: _Cursor) -> ast.Command:
    target = _person_or_self(c)
    return ast.Pause(target, _pause_until(c))


def _resume(c: _Cursor) -> ast.Command:
    return ast.Resume(_only_person(c) or ast.SelfRef())


def _timezone_command(c: _Cursor) -> ast.Command:
    target = _person_or_self(c)
    return ast.Timezone(target, _timezone(c))


def _language_command(c: _Cursor) -> ast.Command:
    target = _person_or_self(c)
    return ast.Language(target, _language(c))


def _country(c: _Cursor) -> ast.Command:
    person = _optional_person(c)
    token = c.peek()
    if token is None:
        c.fail("missing_country")
    c.take()
    if person is not None and token.is_word(*_CLEAR):
        return ast.Country(None, person)
    code = token.value.upper()
    if token.kind is not TokenKind.WORD or not is_supported_country(code):
        country = code.partition("-")[0]
        if token.kind is TokenKind.WORD and "-" in code and country in _countries():
            c.fail("unknown_subdivision", word=token.raw, choices=", ".join(subdivisions_of(code)))
        c.fail("unknown_country", word=token.raw)
    return ast.Country(code, person)


def _week(c: _Cursor) -> ast.Week | None:
    """Read ``mon-thu 08:30-16:30`` (hours optional) or ``clear``."""
    token = c.peek()
    if token is None:
        c.fail("missing_workdays")
    if token.is_word(*_CLEAR):
        c.take()
        return None
    words: list[str] = []
    # "mon, tue" arrives as two words; everything up to the hours (or the end) is the days.
    while (token := c.peek()) is not None and token.kind is TokenKind.WORD:
        if _HOURS_LIKE.match(token.value):
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


def _workweek_target(c: _Cursor) -> ast.CadenceTarget:
    token = c.peek()
    if token is not None and token.kind is TokenKind.TEAM:
        c.take()
        words = [token.value]
        # "#Team Blue mon-thu": the team name runs up to the first word that names days.
        while (following := c.peek()) is not None and following.kind is TokenKind.WORD:
            if _names_days(following.value) or following.is_word(*_CLEAR):
                break
            words.append(c.take().value)
        if not token.value:
            c.fail("team_name_missing")
        return ast.TeamRef(" ".join(" ".join(words).split()))
    if token is not None and token.is_word(*_WORKSPACE):
        c.take()
        return ast.WorkspaceRef()
    return _optional_person(c) or ast.WorkspaceRef()


def _names_days(word: str) -> bool:
    try:
        parse_days(word.strip(","))
    except WorkWeekError:
        return False
    return True


def _workweek(c: _Cursor) -> ast.Command:
    target = _workweek_target(c)
    return ast.Workweek(target, _week(c))


def _away_span(c: _Cursor) -> tuple[date, date] | None:
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


def _away(c: _Cursor) -> ast.Command:
    person = _person(c)
    if c.next_is(*_CLEAR):
        c.take()
        return ast.Away(person, clear=True)
    span = _away_span(c)
    return ast.Away(person, *span) if span else ast.Away(person)


def _me_away(c: _Cursor) -> ast.Command:
    if c.next_is(*_CLEAR):
        c.take()
        return ast.MeAway(clear=True)
    span = _away_span(c)
    return ast.MeAway(*span) if span else ast.MeAway()


def _blackout(c: _Cursor) -> ast.Command:
    token = c.peek()
    if token is not None and token.kind is TokenKind.WORD and _ISO_DATE.match(token.value):
        c.fail("add_or_remove", f"blackout add {token.value}", command="blackout", word=token.raw)
    change = _change(c, "blackout")
    if change is None:
        return ast.BlackoutList()
    day = _date(c)
    return ast.BlackoutAdd(day) if change == "add" else ast.BlackoutRemove(day)


def _budget(c: _Cursor) -> ast.Command:
    return ast.Budget(_number(c, *BUDGET_RANGE))


def _admins(c: _Cursor) -> ast.Command:
    change = _change(c, "admins")
    if change is None:
        return ast.AdminsList()
    person = _person(c)
    return ast.AdminsAdd(person) if change == "add" else ast.AdminsRemove(person)


def _dashboard(c: _Cursor) -> ast.Command:
    return ast.Dashboard()


def _confirmed(c: _Cursor) -> bool:
    if c.next_is(*_CONFIRM):
        c.take()
        return True
    return False


def _test(c: _Cursor) -> ast.Command:
    return ast.SampleNudge()


def _send_now(c: _Cursor) -> ast.Command:
    manager = _person(c)
    return ast.SendNow(manager, _confirmed(c))


def _pulse_schedule(c: _Cursor) -> ast.Command:
    target = _pulse_target(c, scheduled=True)
    frequency, weekday, ordinal, at = _schedule(c)
    return ast.PulseSchedule(target, frequency, weekday, ordinal, at)


def _pulse_ask(c: _Cursor) -> ast.Command:
    token = c.peek()
    if token is None:
        c.fail("missing_question")
    if token.kind is not TokenKind.QUOTED:
        c.fail("question_needs_quotes")
    c.take()
    text = " ".join(token.value.split())
    if not text:
        c.fail("missing_question")
    if len(text) > MAX_QUESTION_LENGTH:
        c.fail("question_too_long", max=str(MAX_QUESTION_LENGTH))
    dimension: Dimension | None = None
    following = c.peek()
    if following is not None:
        c.take()
        word = following.value.lower()
        if following.kind is not TokenKind.WORD or word not in _DIMENSIONS:
            choices = ", ".join(_DIMENSIONS)
            suggestion = _closest(word, _DIMENSIONS)
            c.fail("unknown_dimension", suggestion, word=following.raw, choices=choices)
        dimension = Dimension(word)
    return ast.PulseAsk(text, dimension)


def _pulse_retire(c: _Cursor) -> ast.Command:
    token = c.peek()
    if token is None:
        c.fail("missing_question_key")
    c.take()
    if token.kind is not TokenKind.WORD or not _QUESTION_KEY.match(token.value):
        c.fail("bad_question_key", word=token.raw)
    return ast.PulseRetire(token.value)


def _me_programme(c: _Cursor) -> ast.Command:
    token = c.peek()
    if token is None:
        c.fail("missing_programme_action")
    if not token.is_word("join", "leave"):
        close = _closest(token.value, ("join", "leave")) if token.kind is TokenKind.WORD else None
        c.fail("unknown_programme_action", close, word=token.raw)
    join = c.take().value.lower() == "join"
    programmes = {programme.value: programme for programme in ast.Programme}
    choices = ", ".join(programmes)
    name = c.peek()
    if name is None:
        c.fail("missing_programme", choices=choices)
    c.take()
    typed = name.value.lower().replace("_", "-")
    if name.kind is not TokenKind.WORD or typed not in programmes:
        close = _closest(typed, programmes)
        c.fail("unknown_programme", close, word=name.raw, choices=choices)
    return ast.MeProgramme(programmes[typed], join)


def _me_opt(c: _Cursor) -> ast.Command:
    # "me opt out" with a space is how people say it out loud.
    if c.next_is("out"):
        c.take()
        c.topic = "me_optout"
        return ast.MeOptOut()
    if c.next_is("in"):
        c.take()
        c.topic = "me_optin"
        return ast.MeOptIn()
    c.fail("unknown_subcommand", "me optout", command="me", word="opt")


RETENTION_MONTHS = (1, 120)
_RETENTION = re.compile(r"^([0-9]{1,4})(m|mo|months?|maanden|maand)?$")
_OFF = ("off", "uit", "keep", "bewaar")
_SINCE = ("--since", "since", "sinds", "vanaf")
_CONFIRM = ("confirm", "bevestig", "yes", "ja")


def _export(c: _Cursor) -> ast.Command:
    return ast.Export(_person(c))


def _forget(c: _Cursor) -> ast.Command:
    return ast.Forget(_person(c))


def _retention(c: _Cursor) -> ast.Command:
    token = c.peek()
    if token is None:
        return ast.Retention()
    kinds = ("answers", "deliveries")
    word = token.value.lower()
    if token.kind is not TokenKind.WORD or word not in kinds:
        c.fail("unknown_retention_kind", _closest(word, kinds), word=token.raw)
    c.take()
    amount = c.peek()
    if amount is None:
        c.fail("missing_retention", kind=word)
    c.take()
    typed = amount.value.lower()
    if amount.kind is TokenKind.WORD and typed in _OFF:
        return ast.Retention(word, None)
    found = _RETENTION.match(typed) if amount.kind is TokenKind.WORD else None
    if found is None:
        c.fail("bad_retention", word=amount.raw)
    months = int(found.group(1))
    low, high = RETENTION_MONTHS
    if not low <= months <= high:
        c.fail("retention_out_of_range", word=amount.raw, min=str(low), max=str(high))
    return ast.Retention(word, months)


def _audit(c: _Cursor) -> ast.Command:
    person = _optional_person(c)
    since: date | None = None
    if c.next_is(*_SINCE):
        c.take()
        since = _date(c)
    elif (
        (token := c.peek()) is not None
        and token.kind is TokenKind.WORD
        and token.value.lower().startswith("--since=")
    ):
        c.take()
        since = _iso_date(c, Token(TokenKind.WORD, token.value.split("=", 1)[1], token.raw))
    if person is None and not c.at_end():
        person = _optional_person(c)
    return ast.Audit(person, since)


def _me_forget(c: _Cursor) -> ast.Command:
    if c.next_is(*_CONFIRM):
        c.take()
        return ast.MeForget(confirmed=True)
    return ast.MeForget()


Parse = Callable[[_Cursor], ast.Command]

_COMMANDS: dict[str, Parse] = {
    "help": _help,
    "status": _status,
    "cadence": _cadence,
    "kinds": _kinds_command,
    "team": _team_command,
    "pause": _pause,
    "resume": _resume,
    "timezone": _timezone_command,
    "language": _language_command,
    "country": _country,
    "workweek": _workweek,
    "away": _away,
    "blackout": _blackout,
    "budget": _budget,
    "admins": _admins,
    "dashboard": _dashboard,
    "test": _test,
    "send-now": _send_now,
    "export": _export,
    "forget": _forget,
    "retention": _retention,
    "audit": _audit,
}

_PULSE: dict[str, Parse] = {
    "schedule": _pulse_schedule,
    "now": lambda c: ast.PulseNow(_pulse_target(c)),
    "off": lambda c: ast.PulseOff(),
    "on": lambda c: ast.PulseOn(),
    "threshold": lambda c: ast.PulseThreshold(_number(c, *THRESHOLD_RANGE)),
    "results": lambda c: ast.PulseResults(_pulse_target(c)),
    "ask": _pulse_ask,
    "questions": lambda c: ast.PulseQuestions(),
    "retire": _pulse_retire,
}

_ME: dict[str, Parse] = {
    "status": lambda c: ast.MeStatus(),
    "pause": lambda c: ast.MePause(_pause_until(c)),
    "resume": lambda c: ast.MeResume(),
    "language": lambda c: ast.MeLanguage(_language(c)),
    "timezone": lambda c: ast.MeTimezone(_timezone(c)),
    "kinds": lambda c: ast.MeKinds(_kinds(c)),
    "workweek": lambda c: ast.MeWorkweek(_week(c)),
    "away": _me_away,
    "programme": _me_programme,
    "optout": lambda c: ast.MeOptOut(),
    "optin": lambda c: ast.MeOptIn(),
    "opt": _me_opt,
    "export": lambda c: ast.MeExport(),
    "forget": _me_forget,
}

_TOP_LEVEL_WORDS = (*_COMMANDS, "pulse", "me")


def _wants_help(c: _Cursor) -> bool:
    """Take a lone trailing ``help``, as in ``cadence help``, and tell whether there was one."""
    if len(c.tokens) == c.pos + 1 and c.next_is(*_HELP_WORDS):
        c.take()
        return True
    return False


def _subcommand(
    c: _Cursor, command: str, table: dict[str, Parse], aliases: dict[str, str]
) -> ast.Command:
    token = c.peek()
    if token is None or _wants_help(c):
        return ast.Help(command)
    word = token.value.lower()
    word = aliases.get(word, word)
    if token.kind is not TokenKind.WORD or word not in table:
        close = _closest(word, (name for name in table if name != "opt"))
        c.fail(
            "unknown_subcommand",
            f"{command} {close}" if close else None,
            command=command,
            word=token.raw,
        )
    c.take()
    c.topic = topic_key(f"{command} {word}") if word != "opt" else "me_optout"
    if _wants_help(c):
        return ast.Help(c.topic)
    return table[word](c)


def _command(tokens: list[Token]) -> ast.Command:
    c = _Cursor(tokens, "help")
    if c.next_is("/nudges"):
        c.take()
    token = c.peek()
    if token is None:
        return ast.Help()
    word = token.value.lower()
    word = _COMMAND_ALIASES.get(word, word)
    if token.kind is not TokenKind.WORD or word not in _TOP_LEVEL_WORDS:
        c.fail("unknown_command", _closest(word, _TOP_LEVEL_WORDS), word=token.raw)
    c.take()
    if word == "pulse":
        c.topic = "pulse"
        command = _subcommand(c, "pulse", _PULSE, _PULSE_ALIASES)
    elif word == "me":
        c.topic = "me"
        command = _subcommand(c, "me", _ME, _ME_ALIASES)
    else:
        c.topic = topic_key(word)
        command = ast.Help(c.topic) if word != "help" and _wants_help(c) else _COMMANDS[word](c)
    c.done()
    return command


def _topic_of(text: str) -> str:
    """Tell which help topic a command belongs to from its first words alone."""
    try:
        tokens = tokenize(text[:_TOPIC_PREFIX])
    except UnbalancedQuoteError:
        return "help"
    words = [token.value.lower() for token in tokens[:3] if token.kind is TokenKind.WORD]
    if words and words[0] == "/nudges":
        words = words[1:]
    if not words:
        return "help"
    first = _COMMAND_ALIASES.get(words[0], words[0])
    if first in ("pulse", "me") and len(words) > 1:
        aliases = _PULSE_ALIASES if first == "pulse" else _ME_ALIASES
        key = topic_key(f"{first} {aliases.get(words[1], words[1])}")
        if key in TOPICS_BY_KEY:
            return key
    key = topic_key(first)
    return key if key in TOPICS_BY_KEY else "help"


def _refuse_unreadable(text: str) -> CommandError | None:
    """Refuse text too long to read or holding control characters, before parsing it."""
    if len(text) > MAX_COMMAND_LENGTH:
        return CommandError(ERRORS + "too_long", _topic_of(text), {"max": str(MAX_COMMAND_LENGTH)})
    char = control_character(text)
    if char is not None:
        return CommandError(
            ERRORS + "control_character", _topic_of(text), {"code": f"U+{ord(char):04X}"}
        )
    return None


def parse(text: str) -> ast.Command | CommandError:
    """Parse one command as typed after ``/nudges`` (Slack) or to the bot (Teams)."""
    refused = _refuse_unreadable(text)
    if refused is not None:
        return refused
    try:
        return _command(tokenize(text))
    except UnbalancedQuoteError as problem:
        return CommandError(ERRORS + "unbalanced_quote", "pulse_ask", {"quote": problem.quote})
    except _Fail as failure:
        return failure.error
    except Exception:
        # A parser bug must cost the user one error line, never the whole request.
        logger.exception("command parser failed")
        return CommandError(ERRORS + "internal", "help")


# --- rendering ---

_TYPED_PARAMS = frozenset({"word", "quote"})


def render_error(error: CommandError, locale: str, prefix: str) -> str:
    """Render an error as one line: what is wrong, a likely fix, and a correct example."""
    # Only the words people typed are cut short; lists of choices are shown whole.
    params = {
        name: echo(value, shorten=name in _TYPED_PARAMS) for name, value in error.params.items()
    }
    parts = [t(locale, error.key, prefix=prefix, **params)]
    if error.suggestion:
        parts.append(t(locale, "commands.render.did_you_mean", suggestion=echo(error.suggestion)))
    example = display_example(error.example_in(locale))
    parts.append(t(locale, "commands.render.example", example=f"{prefix}{example}"))
    return " ".join(parts)
