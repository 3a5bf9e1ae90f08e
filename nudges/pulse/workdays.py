"""Count working days for pulse polls: when reminders go and when a poll closes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from nudges.scheduling.calendar import (
    Availability,
    NoAllowedDayError,
    is_allowed_day,
)
from nudges.scheduling.workweek import DEFAULT_WORKWEEK

MAX_REMINDERS = 2


# How far ahead a working day is searched for before giving up (a year of blackouts).
SEARCH_DAYS = 400


def reminder_offsets(window_days: int) -> list[int]:
    """Return the working days after the poll on which reminders go: two at most, in the window."""
    offsets = sorted({round(window_days * share / 3) for share in (1, 2)})
    return [o for o in offsets if 0 < o < window_days][:MAX_REMINDERS]


def add_working_days(local: datetime, days: int, avail: Availability) -> datetime:
    """Return the same wall-clock time ``days`` allowed days after ``local``."""
    day = local.date()
    counted = 0
    for _ in range(SEARCH_DAYS):
        if counted >= days:
            break
        day += timedelta(days=1)
        if is_allowed_day(day, avail):
            counted += 1
    else:
        raise NoAllowedDayError(f"no {days} working days within {SEARCH_DAYS} days")
    return datetime.combine(day, local.time().replace(tzinfo=None), avail.timezone)


def closing_time(
    opens: Sequence[tuple[datetime, Availability]],
    window_days: int,
    days: frozenset[int] = DEFAULT_WORKWEEK.days,
) -> datetime:
    """Return when a poll closes: ``window_days`` working days after the latest local opening.

    The days are counted in the group's shared pattern ``days`` (someone's leave does not
    stretch a poll), each in the opener's zone and with their country's holidays.
    """
    weekend = frozenset(range(7)) - days
    ends = [
        add_working_days(local, window_days, replace(avail, weekend=weekend, time_off=frozenset()))
        for local, avail in opens
    ]
    return max(ends).astimezone(UTC)
