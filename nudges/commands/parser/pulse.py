"""Read the ``pulse`` commands."""

from __future__ import annotations

import re

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor, Parse
from nudges.commands.parser.targets import read_pulse_target
from nudges.commands.parser.values import read_number
from nudges.commands.parser.when import read_schedule
from nudges.commands.parser.words import MAX_QUESTION_LENGTH, THRESHOLD_RANGE, closest
from nudges.commands.tokens import TokenKind
from nudges.domain import Dimension

DIMENSIONS = tuple(dimension.value for dimension in Dimension)
QUESTION_KEY = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$", re.IGNORECASE)


def pulse_schedule(c: Cursor) -> ast.Command:
    """Read ``pulse schedule [#team|workspace] <schedule>``."""
    target = read_pulse_target(c, scheduled=True)
    frequency, weekday, ordinal, at = read_schedule(c)
    return ast.PulseSchedule(target, frequency, weekday, ordinal, at)


def pulse_ask(c: Cursor) -> ast.Command:
    """Read ``pulse ask "question" [dimension]``."""
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
        if following.kind is not TokenKind.WORD or word not in DIMENSIONS:
            choices = ", ".join(DIMENSIONS)
            suggestion = closest(word, DIMENSIONS)
            c.fail("unknown_dimension", suggestion, word=following.raw, choices=choices)
        dimension = Dimension(word)
    return ast.PulseAsk(text, dimension)


def pulse_retire(c: Cursor) -> ast.Command:
    """Read ``pulse retire <question key>``."""
    token = c.peek()
    if token is None:
        c.fail("missing_question_key")
    c.take()
    if token.kind is not TokenKind.WORD or not QUESTION_KEY.match(token.value):
        c.fail("bad_question_key", word=token.raw)
    return ast.PulseRetire(token.value)


PULSE: dict[str, Parse] = {
    "schedule": pulse_schedule,
    "now": lambda c: ast.PulseNow(read_pulse_target(c)),
    "off": lambda c: ast.PulseOff(),
    "on": lambda c: ast.PulseOn(),
    "threshold": lambda c: ast.PulseThreshold(read_number(c, *THRESHOLD_RANGE)),
    "results": lambda c: ast.PulseResults(read_pulse_target(c)),
    "ask": pulse_ask,
    "questions": lambda c: ast.PulseQuestions(),
    "retire": pulse_retire,
}
