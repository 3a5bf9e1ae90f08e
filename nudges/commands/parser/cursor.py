"""Hold the cursor over one command's tokens, and the shape of a command's reader."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from nudges.commands import ast
from nudges.commands.parser.errors import ERRORS, CommandError, Fail
from nudges.commands.tokens import Token


class Cursor:
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
        raise Fail(CommandError(ERRORS + key, self.topic, dict(params), suggestion))

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            self.fail("unexpected", word=token.raw)


Parse = Callable[[Cursor], ast.Command]
