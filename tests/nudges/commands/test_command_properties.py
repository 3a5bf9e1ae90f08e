from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nudges.commands import ast
from nudges.commands.help import help_text
from nudges.commands.parser import CommandError, parse, render_error
from nudges.domain import LOCALES
from nudges.i18n import has

COMMAND_TYPES = ast.Command.__args__

WORDS = """
    help ? status cadence kinds team pause resume timezone language country blackout budget
    admins test send-now pulse me schedule now off on threshold results ask questions retire
    programme optout optin opt out in join leave empathic-listening add remove list until tot
    workspace all weekly biweekly monthly weekdays first last fifth tue di sat zondag 10:00
    9:5 24:00 10.00 3pm 2w 10d 0d 10 days 2027-01-04 2027-02-30 04-01-2027 Europe/Amsterdam
    amsterdam nl en NL XX 3 21 -1 coffee-checkin listening,coffee heard clarity clarity-2
    <@U0ANNA|anna> <@U0BRAM> <@29:1AbC-xyz> @anna <!here> <#C1|platform> <#C1|> #Platform
    “smart” 'single' " “ ' ` , &amp; < > | /nudges
    """
GRAMMAR_TOKENS = [
    *WORDS.split(),
    '#"Team Blue"',
    '"Do you feel heard?"',
    "\u00a0",
    "\n",
]


def check(text: str) -> None:
    result = parse(text)
    if isinstance(result, CommandError):
        assert has(result.key), result.key
        assert result.key != "commands.errors.internal", text
        for locale in LOCALES:
            line = render_error(result, locale, "/nudges ")
            assert line and "\n" not in line
            assert not isinstance(parse(result.example_in(locale)), CommandError)
    else:
        assert isinstance(result, COMMAND_TYPES)
        if isinstance(result, ast.Help):
            for locale in LOCALES:
                assert help_text(locale, result.topic, "", is_admin=True)
                assert help_text(locale, result.topic, "", is_admin=False)


@given(st.text())
@settings(max_examples=500, deadline=None)
def test_any_text_gives_a_command_or_an_error(text: str) -> None:
    check(text)


noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
piece = st.one_of(st.sampled_from(GRAMMAR_TOKENS), noise)
separator = st.sampled_from([" ", "  ", "\t", "", "\u00a0"])


@given(st.lists(st.tuples(piece, separator), max_size=10))
@settings(max_examples=1500, deadline=None)
def test_grammar_tokens_with_noise_give_a_command_or_an_error(
    pieces: list[tuple[str, str]],
) -> None:
    check("".join(token + gap for token, gap in pieces))


@given(
    st.sampled_from(["cadence", "pulse schedule", "me pause", "pause", "kinds", "team"]),
    st.lists(st.sampled_from(GRAMMAR_TOKENS), max_size=6),
)
@settings(max_examples=1500, deadline=None)
def test_commands_with_arbitrary_arguments_give_a_command_or_an_error(
    command: str, arguments: list[str]
) -> None:
    check(" ".join([command, *arguments]))
