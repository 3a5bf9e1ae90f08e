"""Split command text into words, quoted text, mentions and team names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# Phones autocorrect straight quotes into curly ones, and Dutch keyboards open with „.
DOUBLE_QUOTES = frozenset('"“”„‟')
SINGLE_QUOTES = frozenset("'‘’‚‛")


class TokenKind(Enum):
    """Name what a token holds."""

    WORD = "word"
    QUOTED = "quoted"
    PERSON = "person"
    TEAM = "team"
    SPECIAL = "special"


@dataclass(frozen=True, slots=True)
class Token:
    """Hold one token: its kind, its value and the text as typed."""

    kind: TokenKind
    value: str
    raw: str

    def is_word(self, *words: str) -> bool:
        """Tell whether this is a plain word equal, ignoring case, to one of ``words``."""
        return self.kind is TokenKind.WORD and self.value.lower() in words


class UnbalancedQuoteError(Exception):
    """Signal a quote that is opened but never closed."""

    def __init__(self, quote: str) -> None:
        super().__init__(quote)
        self.quote = quote


def _unescape(text: str) -> str:
    # Slack escapes these three in command text; &amp; last so "&amp;lt;" stays "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string whose opening quote is at ``start``; return it and the end."""
    opener = text[start]
    if opener in DOUBLE_QUOTES:
        for end in range(start + 1, len(text)):
            if text[end] in DOUBLE_QUOTES:
                return text[start + 1 : end], end + 1
    else:
        # An apostrophe inside a word ("what's") must not end a single-quoted text.
        for end in range(start + 1, len(text)):
            if text[end] in SINGLE_QUOTES and (end + 1 == len(text) or text[end + 1].isspace()):
                return text[start + 1 : end], end + 1
    raise UnbalancedQuoteError(opener)


def _word_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return end


# The longest Slack escape worth reading (a mention with its label); looking further for a ">"
# would make a text of many "<" quadratic.
MAX_ANGLE = 300


def _angle(text: str, start: int) -> tuple[Token, int] | None:
    """Read a Slack-style escape such as ``<@U123|anna>`` at ``start``, if there is one."""
    limit = min(len(text), start + MAX_ANGLE)
    close = start + 1
    # Stop at the first "<" or line break too, so a run of "<" costs one step each.
    while close < limit and text[close] not in "<>\n":
        close += 1
    if close >= limit or text[close] != ">":
        return None
    inner = text[start + 1 : close]
    raw = text[start : close + 1]
    ident, _, label = inner[1:].partition("|")
    if inner.startswith("@") and ident and not any(ch.isspace() for ch in ident):
        return Token(TokenKind.PERSON, ident, raw), close + 1
    if inner.startswith("#") and ident:
        return Token(TokenKind.TEAM, _unescape(label.strip()), raw), close + 1
    if inner.startswith("!"):
        return Token(TokenKind.SPECIAL, inner, raw), close + 1
    return None


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise UnbalancedQuoteError on a quote left open."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char in DOUBLE_QUOTES or char in SINGLE_QUOTES:
            value, end = _quoted(text, pos)
            tokens.append(Token(TokenKind.QUOTED, _unescape(value), text[pos:end]))
            pos = end
            continue
        if char == "#":
            after = pos + 1
            if after < len(text) and (text[after] in DOUBLE_QUOTES or text[after] in SINGLE_QUOTES):
                value, end = _quoted(text, after)
            else:
                end = _word_end(text, after)
                value = text[after:end]
            name = " ".join(_unescape(value).split())
            tokens.append(Token(TokenKind.TEAM, name, text[pos:end]))
            pos = end
            continue
        if char == "<":
            found = _angle(text, pos)
            if found is not None:
                token, pos = found
                tokens.append(token)
                continue
        # "@anna,@bram" arrives as "<@U1|anna>,<@U2|bram>": a mention may follow a comma, and
        # the word ends there; scanning on to the next space would make such a run quadratic.
        end = pos + 1
        while end < len(text) and not text[end].isspace():
            if text[end] == "<" and _angle(text, end) is not None:
                break
            end += 1
        raw = text[pos:end]
        tokens.append(Token(TokenKind.WORD, _unescape(raw), raw))
        pos = end
    return tokens
