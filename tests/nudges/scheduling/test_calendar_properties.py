"""Property tests: placed occurrences keep their invariants in any zone, cadence and window."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudges.domain import Frequency
from nudges.scheduling.calendar import (
    DEFAULT_WEEKEND,
    Availability,
    CadenceSpec,
    is_allowed_day,
    next_allowed_moment,
    next_occurrence,
    occurrences_between,
)

ZONES = [
    "Europe/Amsterdam",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/London",
    "America/Los_Angeles",
    "America/St_Johns",  # half-hour offset with DST
    "Australia/Lord_Howe",  # half-hour DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # spring-forward at midnight
    "Africa/Cairo",  # DST changes on a Friday, at midnight
    "Asia/Tokyo",
]
COUNTRIES = [None, "NL", "US", "AU", "IN", "GB", "DE"]

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

quarter_hours = st.builds(
    time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 15, 30, 45])
)


@st.composite
def cadences(draw: st.DrawFn) -> CadenceSpec:
    frequency = draw(st.sampled_from(list(Frequency)))
    at = draw(quarter_hours)
    if frequency is Frequency.WEEKDAYS:
        return CadenceSpec(frequency, None, at)
    weekday = draw(st.integers(min_value=0, max_value=6))
    ordinal = draw(st.sampled_from([1, 2, 3, 4, -1])) if frequency is Frequency.MONTHLY else None
    return CadenceSpec(frequency, weekday, at, ordinal)


@st.composite
def availabilities(draw: st.DrawFn) -> Availability:
    start_minutes = draw(st.integers(min_value=0, max_value=14 * 60))
    end_minutes = draw(st.integers(min_value=start_minutes + 30, max_value=23 * 60 + 59))
    blackout = draw(
        st.frozensets(
            st.dates(min_value=date(2024, 1, 1), max_value=date(2031, 12, 31)), max_size=12
        )
    )
    return Availability(
        ZoneInfo(draw(st.sampled_from(ZONES))),
        country=draw(st.sampled_from(COUNTRIES)),
        blackout=blackout,
        work_start=time(*divmod(start_minutes, 60)),
        work_end=time(*divmod(end_minutes, 60)),
        weekend=draw(
            st.sampled_from([DEFAULT_WEEKEND, frozenset({4, 5}), frozenset({6}), frozenset()])
        ),
    )


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


def expected_key(spec: CadenceSpec, nominal: date) -> str:
    if spec.frequency is Frequency.WEEKDAYS:
        return nominal.isoformat()
    if spec.frequency is Frequency.MONTHLY:
        return f"{nominal.year}-{nominal.month:02d}"
    iso = nominal.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@PROFILE
@given(
    spec=cadences(),
    av=availabilities(),
    start=instants,
    days=st.integers(min_value=1, max_value=120),
)
def test_occurrences_keep_their_invariants(
    spec: CadenceSpec, av: Availability, start: datetime, days: int
) -> None:
    end = start + timedelta(days=days)
    found = occurrences_between(spec, av, start, end)

    utcs = [o.utc for o in found]
    assert all(a < b for a, b in itertools.pairwise(utcs))
    assert len({o.period_key for o in found}) == len(found)
    for o in found:
        assert start <= o.utc < end
        assert o.utc == o.local.astimezone(UTC)
        assert o.local.tzinfo is av.timezone
        assert is_allowed_day(o.local.date(), av)
        assert av.work_start <= o.local.time() <= av.work_end
        assert o.nominal_local.astimezone(UTC) <= o.utc
        assert (o.moved is None) == (o.nominal_local.astimezone(UTC) == o.utc)
        assert o.period_key == expected_key(spec, o.nominal_local.date())
        if spec.weekday is not None:
            assert o.nominal_local.weekday() == spec.weekday
        # The nominal slot shows the cadence's wall-clock time unless a DST gap swallowed it.
        if o.nominal_local.time() != spec.at:
            naive = datetime.combine(o.nominal_local.date(), spec.at)
            round_trip = naive.replace(tzinfo=av.timezone).astimezone(UTC)
            assert round_trip.astimezone(av.timezone).replace(tzinfo=None) != naive

    # Walking with next_occurrence visits exactly the same sends.
    if found:
        assert next_occurrence(spec, av, start - timedelta(microseconds=1)) == found[0]
        for earlier, later in itertools.pairwise(found):
            assert next_occurrence(spec, av, earlier.utc) == later


@PROFILE
@given(av=availabilities(), moment=instants)
def test_next_allowed_moment_is_the_earliest_allowed_moment(
    av: Availability, moment: datetime
) -> None:
    found = next_allowed_moment(moment, av)
    assert found.tzinfo is av.timezone
    assert found.astimezone(UTC) >= moment
    assert is_allowed_day(found.date(), av)
    assert av.work_start <= found.time() <= av.work_end
    local = moment.astimezone(av.timezone)
    if is_allowed_day(local.date(), av) and av.work_start <= local.time() <= av.work_end:
        assert found.astimezone(UTC) == moment
