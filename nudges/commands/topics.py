"""List the help topics of the command grammar and find their catalogue texts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from nudges.i18n import t


class Group(StrEnum):
    """Name the section of the help overview a topic belongs to."""

    ADMIN = "admin"
    PULSE = "pulse"
    EVERYONE = "everyone"


@dataclass(frozen=True, slots=True)
class Topic:
    """Describe one help topic: how it is typed and who may use it."""

    key: str
    words: str
    group: Group
    admin_only: bool
    # A parent topic (``pulse``, ``me``) groups subcommands instead of being one itself.
    parent: bool = False

    def text(self, locale: str, field: str) -> str:
        """Return one catalogue field (summary, usage, description, example) of this topic."""
        return t(locale, f"commands.help.{self.key}.{field}")


def _topic(words: str, group: Group, *, admin_only: bool = True, parent: bool = False) -> Topic:
    key = words.replace(" ", "_").replace("-", "_")
    return Topic(key=key, words=words, group=group, admin_only=admin_only, parent=parent)


TOPICS: tuple[Topic, ...] = (
    _topic("help", Group.EVERYONE, admin_only=False),
    _topic("status", Group.ADMIN),
    _topic("cadence", Group.ADMIN),
    _topic("kinds", Group.ADMIN),
    _topic("team", Group.ADMIN),
    _topic("pause", Group.ADMIN),
    _topic("resume", Group.ADMIN),
    _topic("timezone", Group.ADMIN),
    _topic("language", Group.ADMIN),
    _topic("country", Group.ADMIN),
    _topic("workweek", Group.ADMIN),
    _topic("away", Group.ADMIN),
    _topic("blackout", Group.ADMIN),
    _topic("budget", Group.ADMIN),
    _topic("admins", Group.ADMIN),
    _topic("dashboard", Group.ADMIN),
    _topic("test", Group.ADMIN),
    _topic("send-now", Group.ADMIN),
    _topic("export", Group.ADMIN),
    _topic("forget", Group.ADMIN),
    _topic("retention", Group.ADMIN),
    _topic("audit", Group.ADMIN),
    _topic("pulse", Group.PULSE, parent=True),
    _topic("pulse schedule", Group.PULSE),
    _topic("pulse now", Group.PULSE),
    _topic("pulse off", Group.PULSE),
    _topic("pulse on", Group.PULSE),
    _topic("pulse threshold", Group.PULSE),
    _topic("pulse results", Group.PULSE),
    _topic("pulse ask", Group.PULSE),
    _topic("pulse questions", Group.PULSE),
    _topic("pulse retire", Group.PULSE),
    _topic("me", Group.EVERYONE, admin_only=False, parent=True),
    _topic("me status", Group.EVERYONE, admin_only=False),
    _topic("me pause", Group.EVERYONE, admin_only=False),
    _topic("me resume", Group.EVERYONE, admin_only=False),
    _topic("me language", Group.EVERYONE, admin_only=False),
    _topic("me timezone", Group.EVERYONE, admin_only=False),
    _topic("me kinds", Group.EVERYONE, admin_only=False),
    _topic("me workweek", Group.EVERYONE, admin_only=False),
    _topic("me away", Group.EVERYONE, admin_only=False),
    _topic("me programme", Group.EVERYONE, admin_only=False),
    _topic("me optout", Group.EVERYONE, admin_only=False),
    _topic("me optin", Group.EVERYONE, admin_only=False),
    _topic("me export", Group.EVERYONE, admin_only=False),
    _topic("me forget", Group.EVERYONE, admin_only=False),
)

TOPICS_BY_KEY: dict[str, Topic] = {topic.key: topic for topic in TOPICS}


def children(parent: Topic) -> tuple[Topic, ...]:
    """Return the subcommand topics under a parent topic such as ``pulse``."""
    lead = parent.words + " "
    return tuple(topic for topic in TOPICS if topic.words.startswith(lead))


def topic_key(text: str) -> str:
    """Turn typed topic words such as ``pulse schedule`` or ``send-now`` into a topic key."""
    return "_".join(text.strip().lower().replace("-", "_").split())


_PERSON = re.compile(r"<@([^|>\s]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([^|>\s]+)\|([^>]*)>")


def display_example(example: str) -> str:
    """Show an example's escaped mentions the way people type them before autocomplete."""
    # Catalogue examples hold escaped mentions so that they parse; people read and type @name.
    shown = _PERSON.sub(lambda m: "@" + (m.group(2) or m.group(1)), example)
    return _CHANNEL.sub(lambda m: "#" + m.group(2), shown)


def example_for(key: str, locale: str) -> str:
    """Return the parseable example of a topic in ``locale``, without any prefix."""
    return TOPICS_BY_KEY[key].text(locale, "example")


# Echoed user text is cut short so an error stays one readable line.
_MAX_ECHO = 40


def echo(value: str, *, shorten: bool = True) -> str:
    """Make user text safe to repeat inside backticks on one line."""
    # Repeating "<!channel>" verbatim would notify a whole channel in Slack.
    cleaned = value.replace("`", "'").replace("<", "‹").replace(">", "›")
    cleaned = " ".join(cleaned.split())
    if not shorten or len(cleaned) <= _MAX_ECHO:
        return cleaned
    return cleaned[: _MAX_ECHO - 1] + "…"
