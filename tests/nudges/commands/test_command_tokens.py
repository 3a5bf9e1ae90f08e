from __future__ import annotations

import pytest

from nudges.commands.tokens import Token, TokenKind, UnbalancedQuoteError, tokenize

W, Q, P, T, S = (
    TokenKind.WORD,
    TokenKind.QUOTED,
    TokenKind.PERSON,
    TokenKind.TEAM,
    TokenKind.SPECIAL,
)


def kinds_and_values(text: str) -> list[tuple[TokenKind, str]]:
    return [(token.kind, token.value) for token in tokenize(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("  \t\n ", []),
        ("cadence  weekly\u00a0tue", [(W, "cadence"), (W, "weekly"), (W, "tue")]),
        ("<@U123ABC|anna>", [(P, "U123ABC")]),
        ("<@U123ABC>", [(P, "U123ABC")]),
        ("<@29:1AbC-xyz>", [(P, "29:1AbC-xyz")]),
        ("<@U1|anna>,<@U2>", [(P, "U1"), (W, ","), (P, "U2")]),
        ("<#C123|platform>", [(T, "platform")]),
        ("<#C123|>", [(T, "")]),
        ("<!here>", [(S, "!here")]),
        ("<!subteam^S1|@devs>", [(S, "!subteam^S1|@devs")]),
        ("<https://example.org|link>", [(W, "<https://example.org|link>")]),
        ("<@U1 oops", [(W, "<@U1"), (W, "oops")]),
        ("#Platform", [(T, "Platform")]),
        ('#"Team  Blue"', [(T, "Team Blue")]),
        ("#„Team Blue”", [(T, "Team Blue")]),
        ("#", [(T, "")]),
        ('"a b" c', [(Q, "a b"), (W, "c")]),
        ("“a b”", [(Q, "a b")]),
        ("‘a b’", [(Q, "a b")]),
        ("'it's fine' x", [(Q, "it's fine"), (W, "x")]),
        ('"a"b', [(Q, "a"), (W, "b")]),
        ("don't", [(W, "don't")]),
        ("Q&amp;A &lt;3", [(W, "Q&A"), (W, "<3")]),
        ("&amp;lt;", [(W, "&lt;")]),
    ],
)
def test_tokenize(text: str, expected: list[tuple[TokenKind, str]]) -> None:
    assert kinds_and_values(text) == expected


@pytest.mark.parametrize("text", ['"open', "“open", "'open", 'x #"Team', "'it's"])
def test_unbalanced_quote_is_reported(text: str) -> None:
    with pytest.raises(UnbalancedQuoteError):
        tokenize(text)


def test_raw_keeps_what_was_typed() -> None:
    assert tokenize("<@U1|anna> #“A B”") == [
        Token(P, "U1", "<@U1|anna>"),
        Token(T, "A B", "#“A B”"),
    ]


def test_is_word_ignores_case_and_only_matches_words() -> None:
    word, quoted = tokenize('ADD "add"')
    assert word.is_word("add")
    assert not quoted.is_word("add")
