"""Say what is wrong with a command, and render that as one line with a correct example."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nudges.commands.topics import display_example, echo, example_for
from nudges.domain import DEFAULT_LOCALE
from nudges.i18n import t

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


class Fail(Exception):
    """Carry a CommandError out of the nested parse functions."""

    def __init__(self, error: CommandError) -> None:
        super().__init__(error.key)
        self.error = error


TYPED_PARAMS = frozenset({"word", "quote"})


def render_error(error: CommandError, locale: str, prefix: str) -> str:
    """Render an error as one line: what is wrong, a likely fix, and a correct example."""
    # Only the words people typed are cut short; lists of choices are shown whole.
    params = {
        name: echo(value, shorten=name in TYPED_PARAMS) for name, value in error.params.items()
    }
    parts = [t(locale, error.key, prefix=prefix, **params)]
    if error.suggestion:
        parts.append(t(locale, "commands.render.did_you_mean", suggestion=echo(error.suggestion)))
    example = display_example(error.example_in(locale))
    parts.append(t(locale, "commands.render.example", example=f"{prefix}{example}"))
    return " ".join(parts)
