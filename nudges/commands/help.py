"""Write the help overview and the help of each command from the catalogues."""

from __future__ import annotations

from nudges.commands.parser import (
    BUDGET_RANGE,
    MAX_PAUSE_DAYS,
    MAX_QUESTION_LENGTH,
    THRESHOLD_RANGE,
)
from nudges.commands.topics import (
    TOPICS,
    TOPICS_BY_KEY,
    Group,
    Topic,
    children,
    display_example,
    echo,
    topic_key,
)
from nudges.domain import Dimension, Kind
from nudges.i18n import t

_SECTIONS = (Group.ADMIN, Group.PULSE, Group.EVERYONE)


def _facts(prefix: str) -> dict[str, object]:
    """Return the values help descriptions may mention, so no number is written twice."""
    return {
        "prefix": prefix,
        "kinds": ", ".join(kind.value.replace("_", "-") for kind in Kind),
        "dimensions": ", ".join(dimension.value for dimension in Dimension),
        "budget_min": BUDGET_RANGE[0],
        "budget_max": BUDGET_RANGE[1],
        "threshold_min": THRESHOLD_RANGE[0],
        "threshold_max": THRESHOLD_RANGE[1],
        "max_pause_days": MAX_PAUSE_DAYS,
        "max_question_length": MAX_QUESTION_LENGTH,
    }


def _line(locale: str, prefix: str, topic: Topic) -> str:
    summary = topic.text(locale, "summary")
    return t(locale, "commands.overview.line", command=prefix + topic.words, summary=summary)


def _overview(locale: str, prefix: str, is_admin: bool) -> str:
    lines = [t(locale, "commands.overview.title")]
    for group in _SECTIONS:
        shown = [
            topic
            for topic in TOPICS
            if topic.group is group and not topic.parent and (is_admin or not topic.admin_only)
        ]
        if not shown:
            continue
        lines.append("")
        lines.append(t(locale, f"commands.overview.section_{group.value}"))
        lines.extend(_line(locale, prefix, topic) for topic in shown)
    if not is_admin:
        lines.append("")
        lines.append(t(locale, "commands.overview.admins_configure"))
    lines.append("")
    sample = "cadence" if is_admin else "me pause"
    lines.append(t(locale, "commands.overview.more", command=f"{prefix}help {sample}"))
    return "\n".join(lines)


def _example(locale: str, prefix: str, topic: Topic) -> str:
    example = prefix + display_example(topic.text(locale, "example"))
    return t(locale, "commands.overview.example", example=example)


def _topic_help(locale: str, prefix: str, topic: Topic) -> str:
    usage = t(locale, "commands.overview.usage", usage=prefix + topic.text(locale, "usage"))
    description = t(locale, f"commands.help.{topic.key}.description", **_facts(prefix))
    lines = [usage, description]
    if topic.parent:
        lines.append("")
        lines.extend(_line(locale, prefix, child) for child in children(topic))
        lines.append("")
    lines.append(_example(locale, prefix, topic))
    return "\n".join(lines)


def help_text(locale: str, topic: str | None, prefix: str, is_admin: bool) -> str:
    """Return the overview, or the usage, description and example of one topic."""
    if topic is None or not topic.strip():
        return _overview(locale, prefix, is_admin)
    found = TOPICS_BY_KEY.get(topic_key(topic))
    if found is None:
        missing = t(locale, "commands.overview.unknown_topic", topic=echo(topic))
        return missing + "\n\n" + _overview(locale, prefix, is_admin)
    if found.admin_only and not is_admin:
        refusal = t(locale, "commands.overview.admin_only", command=prefix + found.words)
        return refusal + "\n\n" + _overview(locale, prefix, is_admin)
    return _topic_help(locale, prefix, found)
