"""Hold the grammar's own words, aliases and limits: the grammar itself, not user-facing prose."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from nudges.commands.tokens import DOUBLE_QUOTES, SINGLE_QUOTES
from nudges.domain import Frequency

COMMAND_ALIASES = {
    "?": "help",
    "hulp": "help",
    "admin": "admins",
    "kind": "kinds",
    "tz": "timezone",
    "sendnow": "send-now",
    "send_now": "send-now",
}
PULSE_ALIASES = {"question": "questions", "result": "results"}
ME_ALIASES = {
    "program": "programme",
    "programma": "programme",
    "opt-out": "optout",
    "opt_out": "optout",
    "opt-in": "optin",
    "opt_in": "optin",
    "kind": "kinds",
    "tz": "timezone",
}

FREQUENCIES: dict[str, Frequency] = {
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

ADD = ("add",)
REMOVE = ("remove", "rm", "delete")
LIST = ("list", "show")
UNTIL = ("until", "tot")
ALL = ("all", "alle")
WORKSPACE = ("workspace",)
CLEAR = ("clear", "reset", "wissen")
HELP_WORDS = ("help", "?")
CONFIRM = ("confirm", "bevestig", "yes", "ja")

MAX_PAUSE_DAYS = 365
BUDGET_RANGE = (1, 20)
THRESHOLD_RANGE = (3, 10)
MAX_QUESTION_LENGTH = 200
# A command longer than this is not read at all: no real command needs it, and reading
# thousands of mentions would keep the event loop busy for everyone.
MAX_COMMAND_LENGTH = 4000
MAX_PEOPLE = 50
# Enough of a too-long command to tell which command it is, for the refusal or the example.
TOPIC_PREFIX = 200
QUOTES = DOUBLE_QUOTES | SINGLE_QUOTES


def closest(word: str, options: Iterable[str]) -> str | None:
    """Return the option closest to ``word``, if any is close enough."""
    matches = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None
