"""Parse the admin and member command text that Slack and Teams pass on."""

from __future__ import annotations

import logging

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor, Parse
from nudges.commands.parser.errors import ERRORS, CommandError, Fail, render_error
from nudges.commands.parser.me import ME
from nudges.commands.parser.people import admins, send_now, team_command
from nudges.commands.parser.privacy import RETENTION_MONTHS, audit, export, forget, retention
from nudges.commands.parser.pulse import PULSE
from nudges.commands.parser.settings import (
    blackout,
    budget,
    cadence,
    country,
    kinds_command,
    language_command,
    pause,
    resume,
    status,
    timezone_command,
)
from nudges.commands.parser.values import read_confirmed
from nudges.commands.parser.words import (
    BUDGET_RANGE,
    COMMAND_ALIASES,
    HELP_WORDS,
    MAX_COMMAND_LENGTH,
    MAX_PAUSE_DAYS,
    MAX_PEOPLE,
    MAX_QUESTION_LENGTH,
    ME_ALIASES,
    PULSE_ALIASES,
    THRESHOLD_RANGE,
    TOPIC_PREFIX,
    closest,
)
from nudges.commands.parser.workweeks import away, workweek
from nudges.commands.tokens import Token, TokenKind, UnbalancedQuoteError, tokenize
from nudges.commands.topics import TOPICS, TOPICS_BY_KEY, topic_key
from nudges.messages import control_character

__all__ = [
    "BUDGET_RANGE",
    "MAX_COMMAND_LENGTH",
    "MAX_PAUSE_DAYS",
    "MAX_PEOPLE",
    "MAX_QUESTION_LENGTH",
    "RETENTION_MONTHS",
    "THRESHOLD_RANGE",
    "CommandError",
    "parse",
    "render_error",
]

logger = logging.getLogger(__name__)


def _help(c: Cursor) -> ast.Command:
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
    words[0] = COMMAND_ALIASES.get(words[0], words[0])
    if len(words) > 1 and words[0] in ("pulse", "me"):
        aliases = PULSE_ALIASES if words[0] == "pulse" else ME_ALIASES
        words[1] = aliases.get(words[1], words[1])
    key = topic_key(" ".join(words))
    if key not in TOPICS_BY_KEY:
        close = closest(" ".join(words), (topic.words for topic in TOPICS))
        c.fail("unknown_topic", close, word=" ".join(words))
    return ast.Help(key)


def _dashboard(c: Cursor) -> ast.Command:
    return ast.Dashboard()


def _test(c: Cursor) -> ast.Command:
    return ast.SampleNudge(read_confirmed(c))


_COMMANDS: dict[str, Parse] = {
    "help": _help,
    "status": status,
    "cadence": cadence,
    "kinds": kinds_command,
    "team": team_command,
    "pause": pause,
    "resume": resume,
    "timezone": timezone_command,
    "language": language_command,
    "country": country,
    "workweek": workweek,
    "away": away,
    "blackout": blackout,
    "budget": budget,
    "admins": admins,
    "dashboard": _dashboard,
    "test": _test,
    "send-now": send_now,
    "export": export,
    "forget": forget,
    "retention": retention,
    "audit": audit,
}
_TOP_LEVEL_WORDS = (*_COMMANDS, "pulse", "me")


def _wants_help(c: Cursor) -> bool:
    """Take a lone trailing ``help``, as in ``cadence help``, and tell whether there was one."""
    if len(c.tokens) == c.pos + 1 and c.next_is(*HELP_WORDS):
        c.take()
        return True
    return False


def _subcommand(
    c: Cursor, command: str, table: dict[str, Parse], aliases: dict[str, str]
) -> ast.Command:
    token = c.peek()
    if token is None or _wants_help(c):
        return ast.Help(command)
    word = token.value.lower()
    word = aliases.get(word, word)
    if token.kind is not TokenKind.WORD or word not in table:
        close = closest(word, (name for name in table if name != "opt"))
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
    c = Cursor(tokens, "help")
    if c.next_is("/nudges"):
        c.take()
    token = c.peek()
    if token is None:
        return ast.Help()
    word = token.value.lower()
    word = COMMAND_ALIASES.get(word, word)
    if token.kind is not TokenKind.WORD or word not in _TOP_LEVEL_WORDS:
        c.fail("unknown_command", closest(word, _TOP_LEVEL_WORDS), word=token.raw)
    c.take()
    if word == "pulse":
        c.topic = "pulse"
        command = _subcommand(c, "pulse", PULSE, PULSE_ALIASES)
    elif word == "me":
        c.topic = "me"
        command = _subcommand(c, "me", ME, ME_ALIASES)
    else:
        c.topic = topic_key(word)
        command = ast.Help(c.topic) if word != "help" and _wants_help(c) else _COMMANDS[word](c)
    c.done()
    return command


def _topic_of(text: str) -> str:
    """Tell which help topic a command belongs to from its first words alone."""
    try:
        tokens = tokenize(text[:TOPIC_PREFIX])
    except UnbalancedQuoteError:
        return "help"
    words = [token.value.lower() for token in tokens[:3] if token.kind is TokenKind.WORD]
    if words and words[0] == "/nudges":
        words = words[1:]
    if not words:
        return "help"
    first = COMMAND_ALIASES.get(words[0], words[0])
    if first in ("pulse", "me") and len(words) > 1:
        aliases = PULSE_ALIASES if first == "pulse" else ME_ALIASES
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
    except Fail as failure:
        return failure.error
    except Exception:
        # A parser bug must cost the user one error line, never the whole request.
        logger.exception("command parser failed")
        return CommandError(ERRORS + "internal", "help")
