"""Read the ``me`` commands a member runs about themselves."""

from __future__ import annotations

from nudges.commands import ast
from nudges.commands.parser.cursor import Cursor, Parse
from nudges.commands.parser.privacy import me_forget
from nudges.commands.parser.values import read_kinds, read_language, read_timezone
from nudges.commands.parser.when import read_pause_until
from nudges.commands.parser.words import closest
from nudges.commands.parser.workweeks import me_away, read_week
from nudges.commands.tokens import TokenKind


def me_programme(c: Cursor) -> ast.Command:
    """Read ``me programme join|leave <programme>``."""
    token = c.peek()
    if token is None:
        c.fail("missing_programme_action")
    if not token.is_word("join", "leave"):
        close = closest(token.value, ("join", "leave")) if token.kind is TokenKind.WORD else None
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
        close = closest(typed, programmes)
        c.fail("unknown_programme", close, word=name.raw, choices=choices)
    return ast.MeProgramme(programmes[typed], join)


def me_opt(c: Cursor) -> ast.Command:
    """Read ``me opt out`` or ``me opt in``, typed with a space."""
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


ME: dict[str, Parse] = {
    "status": lambda c: ast.MeStatus(),
    "pause": lambda c: ast.MePause(read_pause_until(c)),
    "resume": lambda c: ast.MeResume(),
    "language": lambda c: ast.MeLanguage(read_language(c)),
    "timezone": lambda c: ast.MeTimezone(read_timezone(c)),
    "kinds": lambda c: ast.MeKinds(read_kinds(c)),
    "workweek": lambda c: ast.MeWorkweek(read_week(c)),
    "away": me_away,
    "programme": me_programme,
    "optout": lambda c: ast.MeOptOut(),
    "optin": lambda c: ast.MeOptIn(),
    "opt": me_opt,
    "export": lambda c: ast.MeExport(),
    "forget": me_forget,
}
