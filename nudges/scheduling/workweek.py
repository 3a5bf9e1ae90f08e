"""Read, write and reason about a working week: which weekdays someone works, and their hours.

Pure calendar maths, no storage: the days are ``date.weekday()`` numbers (Monday is 0), the hours
wall-clock times in the person's zone. ``nudges.people.workweeks`` resolves whose week applies.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from nudges.scheduling.calendar import wall_clock_instant

__all__ = [
    "DAY_NAMES",
    "DAY_NUMBERS",
    "DEFAULT_WORKWEEK",
    "MAX_TIME_OFF_DAYS",
    "WorkWeek",
    "WorkWeekError",
    "days_text",
    "decode_days",
    "encode_days",
    "expand_time_off",
    "majority_week",
    "parse_days",
    "parse_hours",
    "parse_time_off",
    "week_began",
    "week_start_day",
]

# One stretch of leave longer than this is surely a typo (2026 for 2027); refuse it.
MAX_TIME_OFF_DAYS = 366
# Each weekday's names in English and Dutch, Monday first; the command grammar reads these too.
DAY_NAMES: tuple[tuple[str, ...], ...] = (
    ("mon", "monday", "ma", "maandag"),
    ("tue", "tues", "tuesday", "di", "dinsdag"),
    ("wed", "wednesday", "wo", "woensdag"),
    ("thu", "thur", "thurs", "thursday", "do", "donderdag"),
    ("fri", "friday", "vr", "vrij", "vrijdag"),
    ("sat", "saturday", "za", "zaterdag"),
    ("sun", "sunday", "zo", "zondag"),
)
DAY_NUMBERS = {name: number for number, names in enumerate(DAY_NAMES) for name in names}
_HOURS = re.compile(r"^(\d{1,2}):?(\d{2})\s*[-–]\s*(\d{1,2}):?(\d{2})$")
_TIME_OFF = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:\s*(?:to|tot|t/m|until|-|–)\s*(\d{4}-\d{2}-\d{2}))?$", re.IGNORECASE
)


class WorkWeekError(ValueError):
    """A working week, its hours or a stretch of leave that cannot be read; code names which."""

    def __init__(self, code: str, value: str) -> None:
        super().__init__(f"{code}: {value!r}")
        self.code = code
        self.value = value


@dataclass(frozen=True)
class WorkWeek:
    """The weekdays someone works (at least one) and their hours (start before end)."""

    days: frozenset[int]
    start: time = time(9, 0)
    end: time = time(17, 0)

    def __post_init__(self) -> None:
        """Refuse an empty week, unknown weekdays and hours that do not run forward."""
        days = frozenset(self.days)
        if not days or not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
            raise WorkWeekError("days", ",".join(map(str, sorted(days))))
        object.__setattr__(self, "days", days)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise WorkWeekError("hours", f"{self.start}-{self.end}")
        if self.start >= self.end or self.start.second or self.end.second:
            raise WorkWeekError("hours", f"{self.start:%H:%M}-{self.end:%H:%M}")

    @property
    def weekend(self) -> frozenset[int]:
        """Return the weekdays not worked."""
        return frozenset(range(7)) - self.days

    def hours_text(self) -> str:
        """Return the hours as ``08:30-16:30``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_WORKWEEK = WorkWeek(frozenset(range(5)))


def _day(token: str, text: str) -> int:
    number = DAY_NUMBERS.get(token.strip().lower())
    if number is None:
        raise WorkWeekError("days", text)
    return number


def parse_days(text: str) -> frozenset[int]:
    """Read ``mon-thu``, ``sun-thu`` (wrapping), ``mon,tue,thu,fri`` or mixed: ``mon-wed,fri``."""
    days: set[int] = set()
    for part in text.split(","):
        if not part.strip():
            raise WorkWeekError("days", text)
        first, dash, last = part.partition("-")
        if not dash:
            days.add(_day(first, text))
            continue
        start, end = _day(first, text), _day(last, text)
        span = (end - start) % 7
        days.update((start + offset) % 7 for offset in range(span + 1))
    return frozenset(days)


def parse_hours(text: str) -> tuple[time, time]:
    """Read ``08:30-16:30`` (minute precision; the end after the start)."""
    match = _HOURS.match(text.strip())
    if match is None:
        raise WorkWeekError("hours", text)
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise WorkWeekError("hours", text)
    start = time(h1, m1)
    # 24:00 means the end of the day; the window includes its end, so a minute short is the same.
    end = time(23, 59) if h2 == 24 else time(h2, m2)
    if start >= end:
        raise WorkWeekError("hours", text)
    return start, end


def parse_time_off(text: str) -> tuple[date, date]:
    """Read ``2026-12-21 to 2027-01-03`` (or one day); the first day on or before the last."""
    match = _TIME_OFF.match(text.strip())
    if match is None:
        raise WorkWeekError("time_off", text)
    try:
        first = date.fromisoformat(match.group(1))
        last = date.fromisoformat(match.group(2)) if match.group(2) else first
    except ValueError:
        raise WorkWeekError("time_off", text) from None
    if last < first or (last - first).days >= MAX_TIME_OFF_DAYS:
        raise WorkWeekError("time_off", text)
    return first, last


def encode_days(days: Iterable[int]) -> str:
    """Store weekdays as ``0,1,2,3``."""
    return ",".join(str(d) for d in sorted(set(days)))


def decode_days(stored: str) -> frozenset[int]:
    """Read weekdays stored by ``encode_days``."""
    return frozenset(int(part) for part in stored.split(",") if part.strip())


def _runs(days: frozenset[int]) -> list[tuple[int, int]]:
    """Return the runs of consecutive weekdays in days as (first, length), wrapping Sunday."""
    if len(days) == 7:
        return [(0, 7)]
    runs = []
    for first in sorted(days):
        if (first - 1) % 7 in days:
            continue
        length = 1
        while (first + length) % 7 in days:
            length += 1
        runs.append((first, length))
    return runs


def days_text(days: frozenset[int], names: Sequence[str]) -> str:
    """Write weekdays compactly with the given seven names: ``mon-thu``, ``mon,tue,thu,fri``."""
    parts = []
    for first, length in sorted(_runs(days), key=lambda run: (run[0] - week_start_day(days)) % 7):
        last = (first + length - 1) % 7
        if length >= 3:
            parts.append(f"{names[first]}-{names[last]}")
        else:
            parts.extend(names[(first + offset) % 7] for offset in range(length))
    return ",".join(parts)


def week_start_day(days: frozenset[int]) -> int:
    """Return the weekday someone's working week begins on: the day after their longest rest.

    Monday for Monday-Friday and for a week with Wednesday off, Sunday for Sunday-Thursday; a
    tie goes to the start closest to Monday, and a seven-day week starts on Monday.
    """
    rest = frozenset(range(7)) - days
    if not rest:
        return 0
    best = max(_runs(rest), key=lambda run: (run[1], -((run[0] + run[1]) % 7)))
    return (best[0] + best[1]) % 7


def week_began(moment: datetime, tz: ZoneInfo, days: frozenset[int]) -> datetime:
    """Return midnight, in tz, of the first day of the working week moment falls in."""
    local = moment.astimezone(tz)
    back = (local.weekday() - week_start_day(days)) % 7
    return wall_clock_instant(local.date() - timedelta(days=back), time(0), tz)


def majority_week(weeks: Iterable[frozenset[int]]) -> frozenset[int]:
    """Return the most common set of working days; a tie goes to the one with more days."""
    counts = Counter(weeks)
    if not counts:
        return DEFAULT_WORKWEEK.days
    return max(counts, key=lambda days: (counts[days], len(days), -min(days)))


def expand_time_off(stretches: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Return every day of the given stretches of leave, first and last day included."""
    found: set[date] = set()
    for first, last in stretches:
        day = first
        while day <= last:
            found.add(day)
            day += timedelta(days=1)
    return frozenset(found)
