"""Build the neutral messages of pulse polls: the poll itself, its reminder, and shared wording."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

from nudges.domain import Dimension
from nudges.i18n import format_day, format_moment, normalize_locale, t
from nudges.messages import Action, Actions, Block, Button, Context, Message, Text
from nudges.pulse.answers import SCALE, ButtonValue
from nudges.pulse.groups import manager_of_key


def _lang(locale: str) -> str:
    return normalize_locale(locale) or "en"


def emoji(locale: str, value: int) -> str:
    """Return the emoji of a value on the 1-5 scale."""
    return t(locale, f"pulse.scale.{value}")


def score_text(locale: str, score: float) -> str:
    """Format an average with one decimal, the way ``locale`` writes numbers."""
    return format_decimal(round(score, 1), format="0.0", locale=_lang(locale))


def rate_text(locale: str, rate: float) -> str:
    """Format a share as a whole percentage."""
    return format_percent(rate, format="0%", locale=_lang(locale))


def dimension_label(locale: str, dimension: Dimension | None) -> str:
    """Name a dimension; None stands for the admins' own questions."""
    return t(locale, f"pulse.dimension.{dimension.value if dimension else 'own'}")


def team_label(locale: str, group_key: str, team: str, managers: dict[int, str]) -> str:
    """Name a group for admins: its team, or the team of its manager."""
    if team:
        return t(locale, "pulse.team.named", team=team)
    manager_id = manager_of_key(group_key)
    external = managers.get(manager_id) if manager_id is not None else None
    return t(locale, "pulse.team.of_manager", manager=external or "?")


def local_moment(locale: str, moment: datetime, zone: ZoneInfo) -> str:
    """Format an instant in a reader's zone."""
    return format_moment(locale, moment.astimezone(zone))


def poll_message(
    *,
    delivery_id: int,
    poll_id: int,
    question: str,
    locale: str,
    threshold: int,
    closes_at: datetime,
    zone: ZoneInfo,
    is_closed: bool = False,
    answered: bool = False,
    window: tuple[int, str] | None = None,
) -> Message:
    """Render a poll: the question, five emoji buttons while it is open, and who sees what.

    ``window`` (working days open, the week they count in) is stated when that week is not
    Monday to Friday, so a group of part-timers sees why the poll stays open longer.

    Nothing in it depends on the answer given: the bot's token can read this message back, so
    it says only whether the person answered. Their choice is shown to them ephemerally.
    """
    moment = local_moment(locale, closes_at, zone)
    blocks: list[Block] = [Text(f"**{question}**")]
    if is_closed:
        state = "pulse.poll.closed_answered" if answered else "pulse.poll.closed"
        blocks.append(Context(t(locale, state)))
    else:
        buttons = tuple(
            Button(emoji(locale, value), Action.PULSE_ANSWER, ButtonValue(poll_id, value).encode())
            for value in SCALE
        )
        blocks.append(Actions(f"pulse-{poll_id}", buttons))
        state = "pulse.poll.answered" if answered else "pulse.poll.open_until"
        blocks.append(Context(t(locale, state, moment=moment)))
        if window is not None:
            days, week = window
            blocks.append(Context(t(locale, "pulse.poll.window", days=days, week=week)))
    blocks.append(Context(t(locale, "pulse.poll.who_sees", threshold=threshold)))
    return Message(
        fallback=t(locale, "pulse.poll.fallback", question=question),
        blocks=tuple(blocks),
        metadata={"delivery_id": str(delivery_id)},
    )


def reminder_message(
    *,
    delivery_id: int,
    question: str,
    locale: str,
    threshold: int,
    sent_on: date,
    closes_at: datetime,
    zone: ZoneInfo,
) -> Message:
    """Render a reminder: no buttons, so the only answer key stays in the poll message."""
    blocks: tuple[Block, ...] = (
        Text(t(locale, "pulse.reminder.text", day=format_day(locale, sent_on), question=question)),
        Context(t(locale, "pulse.reminder.how", moment=local_moment(locale, closes_at, zone))),
        Context(t(locale, "pulse.poll.who_sees", threshold=threshold)),
    )
    return Message(
        fallback=t(locale, "pulse.reminder.fallback"),
        blocks=blocks,
        metadata={"delivery_id": str(delivery_id)},
    )
