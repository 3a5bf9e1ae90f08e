"""Place cadence occurrences in the recipient's zone around weekends, holidays and working hours.

A cadence names a wall-clock slot (weekly, biweekly, monthly or every working day). APScheduler's
cron trigger picks the nominal day; this module turns it into a real instant in the recipient's
zone and moves it off weekends, public holidays, blackout days and out-of-hours times. Every
occurrence carries the key of its nominal period, which the store uses for idempotency, so one
period never yields two sends however the slot was moved.

Moving rules:

* a blocked day (weekend or other day off, public holiday, blackout, time off) moves to the
  next allowed day at the same wall-clock time, except for the ``weekdays`` frequency, which
  skips the day;
* a time before ``work_start`` moves to ``work_start`` the same day; a time after ``work_end``
  moves to ``work_start`` of the next allowed day (the window includes both ends);
* a period whose moved slot would reach the next period's nominal instant is skipped;
* a wall-clock time in a spring-forward gap becomes the first instant after the gap; an ambiguous
  fall-back time means its first occurrence (``fold=0``).

When someone may be contacted lives in ``availability``, the holiday countries in ``countries``;
this module re-exports their public names so callers keep one import.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from nudges.domain import Frequency
from nudges.scheduling.availability import (
    DEFAULT_WEEKEND,
    ONE_DAY,
    SEARCH_LIMIT_DAYS,
    Availability,
    MoveReason,
    NoAllowedDayError,
    as_utc,
    blocked_reason,
    blocking_reason,
    first_working_moment,
    is_allowed_day,
    next_allowed_moment,
    resolve,
    wall_clock_instant,
)
from nudges.scheduling.checks import is_day_index, require_aware, require_wall_clock
from nudges.scheduling.countries import holiday_name, is_supported_country, subdivisions_of

__all__ = [
    "BIWEEKLY_ANCHOR",
    "DEFAULT_NUDGE_CADENCE",
    "DEFAULT_PULSE_CADENCE",
    "DEFAULT_WEEKEND",
    "SEARCH_LIMIT_DAYS",
    "Availability",
    "CadenceSpec",
    "MoveReason",
    "NoAllowedDayError",
    "Occurrence",
    "blocked_reason",
    "holiday_name",
    "is_allowed_day",
    "is_supported_country",
    "next_allowed_moment",
    "next_occurrence",
    "occurrences_between",
    "skipped_between",
    "subdivisions_of",
    "wall_clock_instant",
    "week_key",
]

logger = logging.getLogger(__name__)

# Biweekly periods count whole weeks from this Monday; ISO week parity flips at 53-week years.
BIWEEKLY_ANCHOR = date(2024, 1, 1)

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORDINAL_NAMES = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}
# Longer than the widest gap between two nominal slots of each frequency, so looking back this far
# always reaches the period whose (possibly moved) slot may still lie ahead.
_LOOKBACK = {
    Frequency.WEEKLY: timedelta(days=8),
    Frequency.BIWEEKLY: timedelta(days=15),
    Frequency.MONTHLY: timedelta(days=36),
    Frequency.WEEKDAYS: timedelta(days=8),
}


@dataclass(frozen=True)
class CadenceSpec:
    """Describe a repeating wall-clock slot; weekday 0 is Monday."""

    frequency: Frequency
    weekday: int | None
    at: time
    ordinal: int | None = None

    def __post_init__(self) -> None:
        """Validate the combination of frequency, weekday, time and ordinal."""
        try:
            frequency = Frequency(self.frequency)
        except ValueError:
            known = ", ".join(f.value for f in Frequency)
            raise ValueError(
                f"unknown frequency {self.frequency!r}; expected one of {known}"
            ) from None
        object.__setattr__(self, "frequency", frequency)
        require_wall_clock(self.at, "cadence time")
        if self.at.microsecond:
            raise ValueError(f"cadence time has no sub-second precision, got {self.at!r}")
        if frequency is Frequency.WEEKDAYS:
            if self.weekday is not None:
                raise ValueError(f"a weekdays cadence takes no weekday, got {self.weekday!r}")
        elif not is_day_index(self.weekday):
            raise ValueError(
                f"a {frequency.value} cadence needs a weekday from 0 (Monday) to 6 (Sunday), "
                f"got {self.weekday!r}"
            )
        if frequency is Frequency.MONTHLY:
            if isinstance(self.ordinal, bool) or self.ordinal not in _ORDINAL_NAMES:
                raise ValueError(
                    f"a monthly cadence needs an ordinal of 1, 2, 3, 4 or -1 (last), "
                    f"got {self.ordinal!r}"
                )
        elif self.ordinal is not None:
            raise ValueError(
                f"only a monthly cadence takes an ordinal, got {self.ordinal!r} for "
                f"{frequency.value}"
            )


DEFAULT_NUDGE_CADENCE = CadenceSpec(Frequency.WEEKLY, 1, time(10, 0))
DEFAULT_PULSE_CADENCE = CadenceSpec(Frequency.WEEKLY, 3, time(11, 0))


@dataclass(frozen=True)
class Occurrence:
    """Hold one placed send: its period, nominal and actual instants, and why it moved."""

    period_key: str
    nominal_local: datetime
    local: datetime
    utc: datetime
    moved: MoveReason | None


def week_key(moment: datetime, tz: ZoneInfo) -> str:
    """Return the ISO week (like 2026-W48) that moment falls in, seen from tz."""
    iso = require_aware(moment, "moment").astimezone(tz).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@functools.lru_cache(maxsize=1024)
def _trigger(spec: CadenceSpec, tz: ZoneInfo, weekend: frozenset[int]) -> CronTrigger:
    at = spec.at
    if spec.frequency is Frequency.WEEKDAYS:
        days = ",".join(name for index, name in enumerate(_DAY_NAMES) if index not in weekend)
        return CronTrigger(
            day_of_week=days, hour=at.hour, minute=at.minute, second=at.second, timezone=tz
        )
    assert spec.weekday is not None
    if spec.frequency is Frequency.MONTHLY:
        assert spec.ordinal is not None
        day = f"{_ORDINAL_NAMES[spec.ordinal]} {_DAY_NAMES[spec.weekday]}"
        return CronTrigger(day=day, hour=at.hour, minute=at.minute, second=at.second, timezone=tz)
    return CronTrigger(
        day_of_week=_DAY_NAMES[spec.weekday],
        hour=at.hour,
        minute=at.minute,
        second=at.second,
        timezone=tz,
    )


def _in_biweekly_period(day: date) -> bool:
    return ((day - BIWEEKLY_ANCHOR).days // 7) % 2 == 0


def _nominal_days(spec: CadenceSpec, availability: Availability, since: datetime) -> Iterator[date]:
    """Yield the local days of the nominal slots at or after since, in order."""
    tz = availability.timezone
    trigger = _trigger(spec, tz, availability.weekend)
    probe = since.astimezone(tz)
    while True:
        fire: datetime | None = trigger.get_next_fire_time(None, probe)
        if fire is None:  # pragma: no cover - a cron trigger without an end date always fires
            return
        # Only the day is taken from the trigger: it reads gap times with the old offset and fires
        # twice on an ambiguous time, so the instant itself comes from _resolve.
        day = fire.replace(tzinfo=None).date()
        if spec.frequency is not Frequency.BIWEEKLY or _in_biweekly_period(day):
            yield day
        probe = resolve(day + ONE_DAY, time(0), tz)


def _period_key(spec: CadenceSpec, day: date) -> str:
    if spec.frequency is Frequency.WEEKDAYS:
        return day.isoformat()
    if spec.frequency is Frequency.MONTHLY:
        return f"{day.year}-{day.month:02d}"
    # A biweekly slot falls in the first week of its period, so its ISO week is the period's.
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _place(
    spec: CadenceSpec,
    availability: Availability,
    day: date,
    nominal: datetime,
    next_nominal: datetime,
) -> Occurrence | None:
    """Move one nominal slot onto an allowed working moment, or return None to skip its period."""
    tz = availability.timezone
    last_day = next_nominal.date()
    reason = blocking_reason(day, availability)
    if reason is None:
        candidate = nominal
    elif spec.frequency is Frequency.WEEKDAYS:
        # The next working day has its own period; moving there would send two on one day.
        return None
    else:
        target = day + ONE_DAY
        while target <= last_day and not is_allowed_day(target, availability):
            target += ONE_DAY
        if target > last_day:
            return None
        candidate = resolve(target, spec.at, tz)
    placed = first_working_moment(candidate, availability, last_day)
    if placed is None or as_utc(placed) >= as_utc(next_nominal):
        return None
    if reason is None and as_utc(placed) != as_utc(candidate):
        early = candidate.time() < availability.work_start
        reason = MoveReason.BEFORE_HOURS if early else MoveReason.AFTER_HOURS
    return Occurrence(
        period_key=_period_key(spec, day),
        nominal_local=nominal,
        local=placed,
        utc=as_utc(placed),
        moved=reason,
    )


def _periods(
    spec: CadenceSpec, availability: Availability, since: datetime
) -> Iterator[tuple[datetime, Occurrence | None]]:
    """Yield each period's nominal instant in UTC with its placed occurrence, or None if skipped."""
    tz = availability.timezone
    days = _nominal_days(spec, availability, since)
    current = next(days)
    current_nominal = resolve(current, spec.at, tz)
    for following in days:
        following_nominal = resolve(following, spec.at, tz)
        placed = _place(spec, availability, current, current_nominal, following_nominal)
        yield as_utc(current_nominal), placed
        current, current_nominal = following, following_nominal


def next_occurrence(spec: CadenceSpec, availability: Availability, after: datetime) -> Occurrence:
    """Return the first occurrence whose send instant is strictly after after."""
    after_utc = as_utc(require_aware(after, "after"))
    horizon = after_utc + timedelta(days=SEARCH_LIMIT_DAYS)
    for nominal_utc, placed in _periods(spec, availability, after_utc - _LOOKBACK[spec.frequency]):
        if placed is not None and placed.utc > after_utc:
            return placed
        if nominal_utc > horizon:
            break
    raise NoAllowedDayError(
        f"no allowed slot for {spec!r} within {SEARCH_LIMIT_DAYS} days after {after.isoformat()}"
    )


def occurrences_between(
    spec: CadenceSpec, availability: Availability, start: datetime, end: datetime
) -> list[Occurrence]:
    """Return the occurrences sent at or after start and before end, in order."""
    start_utc = as_utc(require_aware(start, "start"))
    end_utc = as_utc(require_aware(end, "end"))
    found: list[Occurrence] = []
    if end_utc <= start_utc:
        return found
    for nominal_utc, placed in _periods(spec, availability, start_utc - _LOOKBACK[spec.frequency]):
        # A slot only ever moves later, so no period from here on can land before end.
        if nominal_utc >= end_utc:
            break
        if placed is not None and start_utc <= placed.utc < end_utc:
            found.append(placed)
    return found


def skipped_between(
    spec: CadenceSpec, availability: Availability, start: datetime, end: datetime
) -> list[tuple[datetime, MoveReason]]:
    """Return the nominal slots in ``[start, end)`` whose period is skipped, each with why.

    The reason is the one that blocked the nominal day, or the working hours when the day itself
    was free but no working moment was left before the next period.
    """
    start_utc = as_utc(require_aware(start, "start"))
    end_utc = as_utc(require_aware(end, "end"))
    found: list[tuple[datetime, MoveReason]] = []
    for nominal_utc, placed in _periods(spec, availability, start_utc):
        if nominal_utc >= end_utc:
            break
        if placed is None and nominal_utc >= start_utc:
            local = nominal_utc.astimezone(availability.timezone)
            reason = blocking_reason(local.date(), availability) or MoveReason.AFTER_HOURS
            found.append((local, reason))
    return found
