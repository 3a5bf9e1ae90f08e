"""Read the personal-data commands: export, forget, retention, audit."""

from __future__ import annotations

import re
from datetime import date

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor
from nudges.commands.parser.targets import read_optional_person, read_person
from nudges.commands.parser.when import read_date, read_iso_date
from nudges.commands.parser.words import CONFIRM, closest
from nudges.commands.tokens import Token, TokenKind

RETENTION_MONTHS = (1, 120)
RETENTION = re.compile(r"^([0-9]{1,4})(m|mo|months?|maanden|maand)?$")
OFF = ("off", "uit", "keep", "bewaar")
SINCE = ("--since", "since", "sinds", "vanaf")


def export(c: Cursor) -> ast.Command:
    """Read ``export @person``."""
    return ast.Export(read_person(c))


def forget(c: Cursor) -> ast.Command:
    """Read ``forget @person``."""
    return ast.Forget(read_person(c))


def retention(c: Cursor) -> ast.Command:
    """Read ``retention``, or ``retention answers|deliveries <months>|off``."""
    token = c.peek()
    if token is None:
        return ast.Retention()
    kinds = ("answers", "deliveries")
    word = token.value.lower()
    if token.kind is not TokenKind.WORD or word not in kinds:
        c.fail("unknown_retention_kind", closest(word, kinds), word=token.raw)
    c.take()
    amount = c.peek()
    if amount is None:
        c.fail("missing_retention", kind=word)
    c.take()
    typed = amount.value.lower()
    if amount.kind is TokenKind.WORD and typed in OFF:
        return ast.Retention(word, None)
    found = RETENTION.match(typed) if amount.kind is TokenKind.WORD else None
    if found is None:
        c.fail("bad_retention", word=amount.raw)
    months = int(found.group(1))
    low, high = RETENTION_MONTHS
    if not low <= months <= high:
        c.fail("retention_out_of_range", word=amount.raw, min=str(low), max=str(high))
    return ast.Retention(word, months)


def audit(c: Cursor) -> ast.Command:
    """Read ``audit``, optionally about one person and ``since`` a day."""
    person = read_optional_person(c)
    since: date | None = None
    if c.next_is(*SINCE):
        c.take()
        since = read_date(c)
    elif (
        (token := c.peek()) is not None
        and token.kind is TokenKind.WORD
        and token.value.lower().startswith("--since=")
    ):
        c.take()
        since = read_iso_date(c, Token(TokenKind.WORD, token.value.split("=", 1)[1], token.raw))
    if person is None and not c.at_end():
        person = read_optional_person(c)
    return ast.Audit(person, since)


def me_forget(c: Cursor) -> ast.Command:
    """Read ``me forget``, optionally ``confirm``."""
    if c.next_is(*CONFIRM):
        c.take()
        return ast.MeForget(confirmed=True)
    return ast.MeForget()
