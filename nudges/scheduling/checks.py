"""Check the calendar's arguments: weekday indexes, wall-clock times, aware moments, days."""

from __future__ import annotations

from datetime import date, datetime, time


def is_day_index(value: object) -> bool:
    """Tell whether value is a weekday index, 0 (Monday) to 6."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6


def require_wall_clock(value: object, name: str) -> time:
    """Return value if it is a wall-clock time without a zone; raise ValueError otherwise."""
    if not isinstance(value, time):
        raise ValueError(f"{name} must be a datetime.time, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a wall-clock time without tzinfo, got {value!r}")
    return value


def require_aware(moment: datetime, name: str) -> datetime:
    """Return moment if it is timezone-aware; raise ValueError otherwise."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment


def require_date(day: date) -> date:
    """Return day if it is a date and not a datetime; raise TypeError otherwise."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, got {day!r}")
    return day
