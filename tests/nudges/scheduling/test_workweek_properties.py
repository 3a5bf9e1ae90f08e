"""Property tests: in any working week, zone, country and leave, every send is in working time."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudges.domain import Frequency
from nudges.scheduling.calendar import Availability, CadenceSpec, occurrences_between
from nudges.scheduling.workweek import (
    WorkWeek,
    expand_time_off,
    week_began,
    week_start_day,
)

ZONES = [
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "Asia/Jerusalem",  # Sunday-Thursday weeks
    "Australia/Sydney",
    "America/Santiago",  # spring-forward at midnight
]
COUNTRIES = [None, "NL", "BE", "DE", "DE-BY", "GB", "IL", "US"]
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def weeks(draw: st.DrawFn) -> WorkWeek:
    days = draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1))
    start = draw(st.integers(min_value=0, max_value=22 * 60))
    end = draw(st.integers(min_value=start + 1, max_value=23 * 60 + 59))
    return WorkWeek(days, time(*divmod(start, 60)), time(*divmod(end, 60)))


@st.composite
def leave(draw: st.DrawFn) -> list[tuple[date, date]]:
    stretches = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        first = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)))
        stretches.append((first, first + timedelta(days=draw(st.integers(0, 20)))))
    return stretches


@st.composite
def cadences(draw: st.DrawFn) -> CadenceSpec:
    frequency = draw(st.sampled_from(list(Frequency)))
    at = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
    if frequency is Frequency.WEEKDAYS:
        return CadenceSpec(frequency, None, at)
    ordinal = draw(st.sampled_from([1, 2, 3, 4, -1])) if frequency is Frequency.MONTHLY else None
    return CadenceSpec(frequency, draw(st.integers(0, 6)), at, ordinal)


def _holiday(day: date, country: str | None) -> bool:
    # Asked of the holiday library directly, not through the module under test.
    if country is None:
        return False
    code, _, subdivision = country.partition("-")
    return day in holidays.country_holidays(code, subdiv=subdivision or None, years=day.year)


@PROFILE
@given(
    spec=cadences(),
    week=weeks(),
    zone=st.sampled_from(ZONES),
    country=st.sampled_from(COUNTRIES),
    stretches=leave(),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 6, 30), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=7, max_value=120),
)
def test_every_send_is_inside_the_persons_working_time(
    spec: CadenceSpec,
    week: WorkWeek,
    zone: str,
    country: str | None,
    stretches: list[tuple[date, date]],
    start: datetime,
    days: int,
) -> None:
    tz = ZoneInfo(zone)
    off = expand_time_off(stretches)
    avail = Availability(
        tz,
        country=country,
        work_start=week.start,
        work_end=week.end,
        weekend=week.weekend,
        time_off=off,
    )
    found = occurrences_between(spec, avail, start, start + timedelta(days=days))
    assert len({o.period_key for o in found}) == len(found)
    assert all(a.utc < b.utc for a, b in itertools.pairwise(found))
    for occurrence in found:
        local = occurrence.utc.astimezone(tz)
        assert local.weekday() in week.days
        assert week.start <= local.time() <= week.end
        assert local.date() not in off
        assert not _holiday(local.date(), country)
        if occurrence.moved is None:
            assert occurrence.utc == occurrence.nominal_local.astimezone(UTC)


@PROFILE
@given(
    days=st.frozensets(st.integers(min_value=0, max_value=6), min_size=1),
    zone=st.sampled_from(ZONES),
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)
def test_the_working_week_begins_on_its_first_day_at_most_a_week_before(
    days: frozenset[int], zone: str, moment: datetime
) -> None:
    tz = ZoneInfo(zone)
    began = week_began(moment, tz, days)
    local = began.astimezone(tz)
    assert local.weekday() == week_start_day(days)
    assert began <= moment < began + timedelta(days=7, hours=1)
    # Midnight, or the first instant after a DST gap that swallowed it.
    assert local.time() <= time(1, 0)
