"""Say when one recipient may be contacted: working days, hours, holidays, blackouts and leave."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from nudges.domain import DEFAULT_COUNTRY
from nudges.scheduling.checks import is_day_index, require_date, require_wall_clock
from nudges.scheduling.countries import holidays_for, normalise_country

# Long enough for any real closure period; it only exists to stop a search that can never succeed.
SEARCH_LIMIT_DAYS = 366
DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})

ONE_DAY = timedelta(days=1)


class MoveReason(StrEnum):
    """Name why an occurrence left its nominal slot."""

    WEEKEND = "weekend"
    DAY_OFF = "day_off"
    HOLIDAY = "holiday"
    BLACKOUT = "blackout"
    TIME_OFF = "time_off"
    BEFORE_HOURS = "before_hours"
    AFTER_HOURS = "after_hours"


class NoAllowedDayError(ValueError):
    """Signal that no allowed working moment exists within the search limit."""


@dataclass(frozen=True)
class Availability:
    """Describe when one recipient may be contacted; weekend holds the weekday indexes not worked.

    ``country`` may name a subdivision (``DE-BY``); ``time_off`` holds the days of their leave.
    """

    timezone: ZoneInfo
    country: str | None = DEFAULT_COUNTRY
    blackout: frozenset[date] = frozenset()
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    weekend: frozenset[int] = DEFAULT_WEEKEND
    time_off: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Validate and normalise the fields."""
        if not isinstance(self.timezone, ZoneInfo):
            raise ValueError(f"timezone must be a zoneinfo.ZoneInfo, got {self.timezone!r}")
        if self.country is not None:
            code = normalise_country(self.country)
            object.__setattr__(self, "country", code)
        blackout = frozenset(self.blackout)
        for day in blackout:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"blackout holds dates only, got {day!r}")
        object.__setattr__(self, "blackout", blackout)
        time_off = frozenset(self.time_off)
        for day in time_off:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"time_off holds dates only, got {day!r}")
        object.__setattr__(self, "time_off", time_off)
        start = require_wall_clock(self.work_start, "work_start")
        end = require_wall_clock(self.work_end, "work_end")
        if start >= end:
            raise ValueError(f"work_start {start} must be before work_end {end}")
        weekend = frozenset(self.weekend)
        if not all(is_day_index(day) for day in weekend):
            raise ValueError(f"weekend holds weekday indexes 0 (Monday) to 6, got {self.weekend!r}")
        if len(weekend) == 7:
            raise ValueError("weekend cannot cover every day of the week")
        object.__setattr__(self, "weekend", weekend)


def blocking_reason(day: date, availability: Availability) -> MoveReason | None:
    """Say why a day already known to be a date is not a working day, or None."""
    if day.weekday() in availability.weekend:
        # Saturday and Sunday read as the weekend; another day not worked is a day off.
        return MoveReason.WEEKEND if day.weekday() in DEFAULT_WEEKEND else MoveReason.DAY_OFF
    if availability.country is not None and day in holidays_for(
        availability.country, day.year, None
    ):
        return MoveReason.HOLIDAY
    if day in availability.blackout:
        return MoveReason.BLACKOUT
    if day in availability.time_off:
        return MoveReason.TIME_OFF
    return None


def blocked_reason(day: date, availability: Availability) -> MoveReason | None:
    """Say why day is not a working day for this availability, or None when it is."""
    return blocking_reason(require_date(day), availability)


def is_allowed_day(day: date, availability: Availability) -> bool:
    """Tell whether day is a working day: no day off, public holiday, blackout or time off."""
    return blocking_reason(require_date(day), availability) is None


def resolve(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return the instant of wall-clock at on day in tz, past any spring-forward gap."""
    naive = datetime.combine(day, at)
    # fold=0 picks the first of the two instants an ambiguous fall-back time names.
    local = naive.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return local
    # In a gap fold=0 reads the time with the offset before the transition, fold=1 with the one
    # after; the transition instant lies between those two readings, so bisect for it.
    before = local.utcoffset()
    after = local.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    low = math.floor((naive - after).replace(tzinfo=UTC).timestamp())
    high = math.ceil((naive - before).replace(tzinfo=UTC).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC).astimezone(tz)


def wall_clock_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return the instant of wall-clock ``at`` on ``day`` in tz, past any spring-forward gap."""
    return resolve(require_date(day), require_wall_clock(at, "at"), tz)


def as_utc(moment: datetime) -> datetime:
    """Return moment in UTC."""
    # Aware datetimes sharing a tzinfo compare by wall clock and ignore fold, so compare in UTC.
    return moment.astimezone(UTC)


def _working_moment_on(day: date, local: datetime, availability: Availability) -> datetime | None:
    start = resolve(day, availability.work_start, availability.timezone)
    # The second reading of an ambiguous work_start matters when local sits between the two.
    candidates = (local, start, start.replace(fold=1))
    floor = as_utc(local)
    valid = [
        moment
        for moment in candidates
        if moment.date() == day
        and availability.work_start <= moment.time() <= availability.work_end
        and as_utc(moment) >= floor
    ]
    return min(valid, key=as_utc) if valid else None


def first_working_moment(
    moment: datetime, availability: Availability, last_day: date
) -> datetime | None:
    """Return the first working moment at or after moment, up to last_day, or None."""
    local = moment.astimezone(availability.timezone)
    day = local.date()
    while day <= last_day:
        if is_allowed_day(day, availability):
            found = _working_moment_on(day, local, availability)
            if found is not None:
                return found
        day += ONE_DAY
    return None


def next_allowed_moment(local: datetime, availability: Availability) -> datetime:
    """Return the first allowed working moment at or after local, in the availability's zone.

    A naive local is read as wall-clock time in the availability's zone.
    """
    tz = availability.timezone
    moment = resolve(local.date(), local.time(), tz) if local.utcoffset() is None else local
    last_day = moment.astimezone(tz).date() + timedelta(days=SEARCH_LIMIT_DAYS)
    found = first_working_moment(moment, availability, last_day)
    if found is None:
        raise NoAllowedDayError(
            f"no allowed working moment within {SEARCH_LIMIT_DAYS} days after {local.isoformat()}"
        )
    return found
