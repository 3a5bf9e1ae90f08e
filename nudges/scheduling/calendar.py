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
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from apscheduler.triggers.cron import CronTrigger

from nudges.domain import DEFAULT_COUNTRY, Frequency

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

# Long enough for any real closure period; it only exists to stop a search that can never succeed.
SEARCH_LIMIT_DAYS = 366
# Biweekly periods count whole weeks from this Monday; ISO week parity flips at 53-week years.
BIWEEKLY_ANCHOR = date(2024, 1, 1)
DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})

_ONE_DAY = timedelta(days=1)
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


def _is_day_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6


def _require_wall_clock(value: object, name: str) -> time:
    if not isinstance(value, time):
        raise ValueError(f"{name} must be a datetime.time, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a wall-clock time without tzinfo, got {value!r}")
    return value


def _require_aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment


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
        _require_wall_clock(self.at, "cadence time")
        if self.at.microsecond:
            raise ValueError(f"cadence time has no sub-second precision, got {self.at!r}")
        if frequency is Frequency.WEEKDAYS:
            if self.weekday is not None:
                raise ValueError(f"a weekdays cadence takes no weekday, got {self.weekday!r}")
        elif not _is_day_index(self.weekday):
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
            code = _normalise_country(self.country)
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
        start = _require_wall_clock(self.work_start, "work_start")
        end = _require_wall_clock(self.work_end, "work_end")
        if start >= end:
            raise ValueError(f"work_start {start} must be before work_end {end}")
        weekend = frozenset(self.weekend)
        if not all(_is_day_index(day) for day in weekend):
            raise ValueError(f"weekend holds weekday indexes 0 (Monday) to 6, got {self.weekend!r}")
        if len(weekend) == 7:
            raise ValueError("weekend cannot cover every day of the week")
        object.__setattr__(self, "weekend", weekend)


@dataclass(frozen=True)
class Occurrence:
    """Hold one placed send: its period, nominal and actual instants, and why it moved."""

    period_key: str
    nominal_local: datetime
    local: datetime
    utc: datetime
    moved: MoveReason | None


def _split_country(code: str) -> tuple[str, str | None]:
    country, _, subdivision = code.strip().upper().partition("-")
    return country, subdivision or None


def is_supported_country(code: str) -> bool:
    """Tell whether the holiday library knows this country (or ``CC-SUB`` subdivision) code."""
    if not isinstance(code, str):
        return False
    country, subdivision = _split_country(code)
    supported = _supported_countries()
    if country not in supported:
        return False
    return subdivision is None or subdivision in _subdivisions_of(country)


@functools.cache
def _supported_countries() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(
        {code: tuple(subs) for code, subs in holidays.list_supported_countries().items()}
    )


def _subdivisions_of(country: str) -> frozenset[str]:
    return frozenset(sub.upper() for sub in _supported_countries().get(country, ()))


def subdivisions_of(code: str) -> list[str]:
    """Return the subdivision codes the holiday library knows for a country, sorted."""
    return sorted(_subdivisions_of(_split_country(code)[0]))


def _normalise_country(code: str) -> str:
    if not is_supported_country(code):
        raise ValueError(
            f"unsupported holiday country {code!r}; use an ISO code such as 'NL' or 'DE-BY'"
        )
    country, subdivision = _split_country(code)
    return f"{country}-{subdivision}" if subdivision else country


@functools.lru_cache(maxsize=512)
def _holidays_for(country: str, year: int, language: str | None) -> Mapping[date, str]:
    # The library computes a whole year at once; caching it keeps day checks cheap.
    code, subdivision = _split_country(country)
    found = holidays.country_holidays(code, subdiv=subdivision, years=year, language=language)
    return MappingProxyType(dict(found))


def _require_date(day: date) -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, got {day!r}")
    return day


def holiday_name(day: date, country: str | None, *, language: str | None = None) -> str | None:
    """Return the public holiday's name on day in country, or None."""
    _require_date(day)
    if country is None:
        return None
    return _holidays_for(_normalise_country(country), day.year, language).get(day)


def _blocked_reason(day: date, availability: Availability) -> MoveReason | None:
    if day.weekday() in availability.weekend:
        # Saturday and Sunday read as the weekend; another day not worked is a day off.
        return MoveReason.WEEKEND if day.weekday() in DEFAULT_WEEKEND else MoveReason.DAY_OFF
    if availability.country is not None and day in _holidays_for(
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
    return _blocked_reason(_require_date(day), availability)


def is_allowed_day(day: date, availability: Availability) -> bool:
    """Tell whether day is a working day: no day off, public holiday, blackout or time off."""
    return _blocked_reason(_require_date(day), availability) is None


def week_key(moment: datetime, tz: ZoneInfo) -> str:
    """Return the ISO week (like 2026-W48) that moment falls in, seen from tz."""
    iso = _require_aware(moment, "moment").astimezone(tz).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _resolve(day: date, at: time, tz: ZoneInfo) -> datetime:
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
    return _resolve(_require_date(day), _require_wall_clock(at, "at"), tz)


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare by wall clock and ignore fold, so compare in UTC.
    return moment.astimezone(UTC)


def _working_moment_on(day: date, local: datetime, availability: Availability) -> datetime | None:
    start = _resolve(day, availability.work_start, availability.timezone)
    # The second reading of an ambiguous work_start matters when local sits between the two.
    candidates = (local, start, start.replace(fold=1))
    floor = _utc(local)
    valid = [
        moment
        for moment in candidates
        if moment.date() == day
        and availability.work_start <= moment.time() <= availability.work_end
        and _utc(moment) >= floor
    ]
    return min(valid, key=_utc) if valid else None


def _first_working_moment(
    moment: datetime, availability: Availability, last_day: date
) -> datetime | None:
    local = moment.astimezone(availability.timezone)
    day = local.date()
    while day <= last_day:
        if is_allowed_day(day, availability):
            found = _working_moment_on(day, local, availability)
            if found is not None:
                return found
        day += _ONE_DAY
    return None


def next_allowed_moment(local: datetime, availability: Availability) -> datetime:
    """Return the first allowed working moment at or after local, in the availability's zone.

    A naive local is read as wall-clock time in the availability's zone.
    """
    tz = availability.timezone
    moment = _resolve(local.date(), local.time(), tz) if local.utcoffset() is None else local
    last_day = moment.astimezone(tz).date() + timedelta(days=SEARCH_LIMIT_DAYS)
    found = _first_working_moment(moment, availability, last_day)
    if found is None:
        raise NoAllowedDayError(
            f"no allowed working moment within {SEARCH_LIMIT_DAYS} days after {local.isoformat()}"
        )
    return found


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
        probe = _resolve(day + _ONE_DAY, time(0), tz)


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
    reason = _blocked_reason(day, availability)
    if reason is None:
        candidate = nominal
    elif spec.frequency is Frequency.WEEKDAYS:
        # The next working day has its own period; moving there would send two on one day.
        return None
    else:
        target = day + _ONE_DAY
        while target <= last_day and not is_allowed_day(target, availability):
            target += _ONE_DAY
        if target > last_day:
            return None
        candidate = _resolve(target, spec.at, tz)
    placed = _first_working_moment(candidate, availability, last_day)
    if placed is None or _utc(placed) >= _utc(next_nominal):
        return None
    if reason is None and _utc(placed) != _utc(candidate):
        early = candidate.time() < availability.work_start
        reason = MoveReason.BEFORE_HOURS if early else MoveReason.AFTER_HOURS
    return Occurrence(
        period_key=_period_key(spec, day),
        nominal_local=nominal,
        local=placed,
        utc=_utc(placed),
        moved=reason,
    )


def _periods(
    spec: CadenceSpec, availability: Availability, since: datetime
) -> Iterator[tuple[datetime, Occurrence | None]]:
    """Yield each period's nominal instant in UTC with its placed occurrence, or None if skipped."""
    tz = availability.timezone
    days = _nominal_days(spec, availability, since)
    current = next(days)
    current_nominal = _resolve(current, spec.at, tz)
    for following in days:
        following_nominal = _resolve(following, spec.at, tz)
        placed = _place(spec, availability, current, current_nominal, following_nominal)
        yield _utc(current_nominal), placed
        current, current_nominal = following, following_nominal


def next_occurrence(spec: CadenceSpec, availability: Availability, after: datetime) -> Occurrence:
    """Return the first occurrence whose send instant is strictly after after."""
    after_utc = _utc(_require_aware(after, "after"))
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
    start_utc = _utc(_require_aware(start, "start"))
    end_utc = _utc(_require_aware(end, "end"))
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
    start_utc = _utc(_require_aware(start, "start"))
    end_utc = _utc(_require_aware(end, "end"))
    found: list[tuple[datetime, MoveReason]] = []
    for nominal_utc, placed in _periods(spec, availability, start_utc):
        if nominal_utc >= end_utc:
            break
        if placed is None and nominal_utc >= start_utc:
            local = nominal_utc.astimezone(availability.timezone)
            reason = _blocked_reason(local.date(), availability) or MoveReason.AFTER_HOURS
            found.append((local, reason))
    return found
