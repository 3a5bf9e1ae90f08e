"""Time-travel tests for cadence placement in real time zones."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nudges.domain import DEFAULT_COUNTRY, Frequency
from nudges.scheduling.calendar import (
    DEFAULT_NUDGE_CADENCE,
    DEFAULT_PULSE_CADENCE,
    Availability,
    CadenceSpec,
    MoveReason,
    NoAllowedDayError,
    Occurrence,
    holiday_name,
    is_allowed_day,
    is_supported_country,
    next_allowed_moment,
    next_occurrence,
    occurrences_between,
    week_key,
)

AMS = ZoneInfo("Europe/Amsterdam")
NYC = ZoneInfo("America/New_York")
SYD = ZoneInfo("Australia/Sydney")
KOL = ZoneInfo("Asia/Kolkata")

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def weekly(weekday: int, hour: int, minute: int = 0) -> CadenceSpec:
    return CadenceSpec(Frequency.WEEKLY, weekday, time(hour, minute))


def monthly(ordinal: int, weekday: int, hour: int = 10) -> CadenceSpec:
    return CadenceSpec(Frequency.MONTHLY, weekday, time(hour), ordinal)


def every_weekday(hour: int, minute: int = 0) -> CadenceSpec:
    return CadenceSpec(Frequency.WEEKDAYS, None, time(hour, minute))


def round_the_clock(tz: ZoneInfo) -> Availability:
    """Allow every day and (nearly) every minute, so only DST rules shape the result."""
    return Availability(
        tz, country=None, weekend=frozenset(), work_start=time(0), work_end=time(23, 59)
    )


def between(spec: CadenceSpec, av: Availability, first: date, last: date) -> list[Occurrence]:
    """Return occurrences from the start of first to the start of the day after last."""
    tz = av.timezone
    start = datetime.combine(first, time(0), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
    return occurrences_between(spec, av, start, end)


def sends(occurrences: list[Occurrence]) -> list[tuple[str, date, time, MoveReason | None]]:
    return [(o.period_key, o.local.date(), o.local.time(), o.moved) for o in occurrences]


# --- two full years of the default cadence in four very different zones -----------------------

# Tuesdays on either side of each DST change, with the UTC offset (hours) that must hold there.
OFFSETS: dict[str, dict[date, float]] = {
    "Europe/Amsterdam": {
        date(2026, 3, 24): 1,
        date(2026, 3, 31): 2,
        date(2026, 10, 20): 2,
        date(2026, 10, 27): 1,
        date(2027, 3, 23): 1,
        date(2027, 3, 30): 2,
        date(2027, 10, 26): 2,
        date(2027, 11, 2): 1,
    },
    "America/New_York": {
        date(2026, 3, 3): -5,
        date(2026, 3, 10): -4,
        date(2026, 10, 27): -4,
        date(2026, 11, 3): -5,
        date(2027, 3, 9): -5,
        date(2027, 3, 16): -4,
        date(2027, 11, 2): -4,
        date(2027, 11, 9): -5,
    },
    "Australia/Sydney": {
        date(2026, 3, 31): 11,
        date(2026, 4, 7): 10,
        date(2026, 9, 29): 10,
        date(2026, 10, 6): 11,
        date(2027, 3, 30): 11,
        date(2027, 4, 6): 10,
        date(2027, 9, 28): 10,
        date(2027, 10, 5): 11,
    },
    "Asia/Kolkata": {
        date(2026, 1, 6): 5.5,
        date(2026, 7, 7): 5.5,
        date(2027, 3, 30): 5.5,
        date(2027, 10, 5): 5.5,
    },
}


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Amsterdam", "NL"),
        ("America/New_York", "US"),
        ("Australia/Sydney", "AU"),
        ("Asia/Kolkata", "IN"),
    ],
)
def test_weekly_tuesday_lands_once_per_iso_week_at_ten_for_two_years(
    zone: str, country: str
) -> None:
    tz = ZoneInfo(zone)
    av = Availability(tz, country=country)
    # 2026-W01 starts on Monday 2025-12-29; 2027-W52 ends on Sunday 2028-01-02.
    found = between(DEFAULT_NUDGE_CADENCE, av, date(2025, 12, 29), date(2028, 1, 2))

    mondays = [date(2025, 12, 29) + timedelta(weeks=n) for n in range(105)]
    expected_keys = [f"{m.isocalendar().year}-W{m.isocalendar().week:02d}" for m in mondays]
    keys = [o.period_key for o in found]
    assert len(keys) == len(set(keys))
    assert set(keys) <= set(expected_keys)
    for missing in set(expected_keys) - set(keys):
        tuesday = mondays[expected_keys.index(missing)] + timedelta(days=1)
        assert not is_allowed_day(tuesday, av), f"{missing} skipped without a reason"
    assert len(found) == 105  # no real holiday calendar blocks a whole week

    utcs = [o.utc for o in found]
    assert utcs == sorted(utcs)
    assert len(set(utcs)) == len(utcs)
    for o in found:
        assert o.local.tzinfo is tz
        assert o.local.time() == time(10, 0)
        assert o.nominal_local.weekday() == TUE
        assert o.nominal_local.time() == time(10, 0)
        assert o.utc.tzinfo is UTC
        assert o.utc == o.local.astimezone(UTC)
        # The send stays in its own ISO week even when a Tuesday holiday moves it.
        assert week_key(o.utc, tz) == o.period_key
        if o.moved is None:
            assert o.local.weekday() == TUE
        else:
            assert o.moved is MoveReason.HOLIDAY
            assert holiday_name(o.nominal_local.date(), country) is not None
            assert is_allowed_day(o.local.date(), av)

    by_day = {o.local.date(): o for o in found}
    for day, hours in OFFSETS[zone].items():
        occurrence = by_day[day]
        offset = timedelta(hours=hours)
        assert occurrence.local.utcoffset() == offset
        assert occurrence.utc == datetime.combine(day, time(10), tzinfo=UTC) - offset


# --- DST gaps and repeated hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_utc"),
    [
        # 02:30 does not exist on spring-forward day: the first instant after the gap is 03:00.
        ("Europe/Amsterdam", date(2026, 3, 29), time(2, 30), datetime(2026, 3, 29, 1, 0)),
        ("America/New_York", date(2026, 3, 8), time(2, 30), datetime(2026, 3, 8, 7, 0)),
        ("Australia/Sydney", date(2026, 10, 4), time(2, 30), datetime(2026, 10, 3, 16, 0)),
        # A repeated wall-clock time means its first occurrence, still on summer time.
        ("Europe/Amsterdam", date(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30)),
        ("Australia/Sydney", date(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 15, 30)),
        # In New York 02:30 is not repeated on fall-back day: it is plain standard time.
        ("America/New_York", date(2026, 11, 1), time(2, 30), datetime(2026, 11, 1, 7, 30)),
    ],
)
def test_dst_day_yields_one_occurrence_at_the_documented_instant(
    zone: str, day: date, at: time, expected_utc: datetime
) -> None:
    tz = ZoneInfo(zone)
    av = round_the_clock(tz)
    spec = CadenceSpec(Frequency.WEEKLY, day.weekday(), at)
    expected = expected_utc.replace(tzinfo=UTC)

    found = between(spec, av, day - timedelta(days=7), day + timedelta(days=7))

    assert [o.local.date() for o in found] == [day - timedelta(days=7), day, day + timedelta(7)]
    assert len({o.period_key for o in found}) == 3
    assert all(o.moved is None for o in found)
    dst_day = found[1]
    assert dst_day.utc == expected
    assert dst_day.nominal_local.astimezone(UTC) == expected
    assert dst_day.local.astimezone(UTC) == expected
    # The weeks around it keep the wall-clock time.
    assert found[0].local.time() == at
    assert found[2].local.time() == at

    # Asking from just before gives it; asking from it, or from the repeated hour, never gives it
    # again on the same day.
    assert next_occurrence(spec, av, expected - timedelta(seconds=1)) == dst_day
    following = next_occurrence(spec, av, expected)
    assert following == found[2]
    assert next_occurrence(spec, av, expected + timedelta(hours=1)) == found[2]


def test_gap_resolves_to_the_transition_instant_not_a_shifted_one() -> None:
    av = round_the_clock(AMS)
    found = between(weekly(SUN, 2, 30), av, date(2026, 3, 29), date(2026, 3, 29))
    (only,) = found
    assert only.local.time() == time(3, 0)
    assert only.local.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("tz", "first", "last", "before", "after"),
    [
        (AMS, date(2026, 3, 25), date(2026, 4, 1), 1, 2),
        (AMS, date(2026, 10, 21), date(2026, 10, 28), 2, 1),
        (NYC, date(2026, 3, 4), date(2026, 3, 11), -5, -4),
        (NYC, date(2026, 10, 28), date(2026, 11, 4), -4, -5),
        (SYD, date(2026, 4, 1), date(2026, 4, 8), 11, 10),
        (SYD, date(2026, 9, 30), date(2026, 10, 7), 10, 11),
    ],
)
def test_weekdays_cadence_across_dst_weekend(
    tz: ZoneInfo, first: date, last: date, before: int, after: int
) -> None:
    av = Availability(tz, country=None)
    found = between(every_weekday(10), av, first, last)

    expected_days = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() < SAT
    ]
    assert [o.local.date() for o in found] == expected_days
    assert [o.period_key for o in found] == [d.isoformat() for d in expected_days]
    assert all(o.local.time() == time(10) and o.moved is None for o in found)
    sunday = first + timedelta(days=(SUN - first.weekday()) % 7)
    for o in found:
        hours = before if o.local.date() < sunday else after
        assert o.local.utcoffset() == timedelta(hours=hours)
        assert o.utc == datetime.combine(o.local.date(), time(10), tzinfo=UTC) - timedelta(
            hours=hours
        )


@pytest.mark.parametrize(
    ("tz", "gap_day", "fold_day"),
    [
        (AMS, date(2026, 3, 29), date(2026, 10, 25)),
        (NYC, date(2026, 3, 8), date(2026, 11, 1)),
        (SYD, date(2026, 10, 4), date(2026, 4, 5)),
    ],
)
def test_daily_slot_inside_the_changing_hour_fires_once_every_day(
    tz: ZoneInfo, gap_day: date, fold_day: date
) -> None:
    av = round_the_clock(tz)
    for day in (gap_day, fold_day):
        found = between(every_weekday(2, 30), av, day - timedelta(days=2), day + timedelta(days=2))
        assert [o.local.date() for o in found] == [day + timedelta(days=n) for n in range(-2, 3)]
        assert len({o.utc for o in found}) == 5
        assert all(
            b.utc - a.utc in {timedelta(hours=h) for h in (23.5, 24, 25)}
            for a, b in itertools.pairwise(found)
        )


# --- holidays, blackouts, weekends -----------------------------------------------------------


def test_kings_day_on_a_tuesday_moves_to_wednesday_and_keeps_its_week() -> None:
    av = Availability(AMS)
    found = between(DEFAULT_NUDGE_CADENCE, av, date(2027, 4, 26), date(2027, 5, 2))
    assert sends(found) == [("2027-W17", date(2027, 4, 28), time(10), MoveReason.HOLIDAY)]
    assert found[0].nominal_local == datetime(2027, 4, 27, 10, tzinfo=AMS)


def test_workspace_without_country_ignores_public_holidays() -> None:
    av = Availability(AMS, country=None)
    found = between(DEFAULT_NUDGE_CADENCE, av, date(2027, 4, 26), date(2027, 5, 2))
    assert sends(found) == [("2027-W17", date(2027, 4, 27), time(10), None)]


def test_christmas_friday_and_new_year_friday_each_move_to_the_next_monday() -> None:
    av = Availability(AMS)
    found = between(weekly(FRI, 10), av, date(2026, 12, 21), date(2027, 1, 10))
    assert sends(found) == [
        ("2026-W52", date(2026, 12, 28), time(10), MoveReason.HOLIDAY),
        ("2026-W53", date(2027, 1, 4), time(10), MoveReason.HOLIDAY),
        ("2027-W01", date(2027, 1, 8), time(10), None),
    ]


def test_christmas_tuesday_moves_past_both_christmas_days() -> None:
    av = Availability(AMS)
    found = between(DEFAULT_NUDGE_CADENCE, av, date(2029, 12, 24), date(2029, 12, 30))
    assert sends(found) == [("2029-W52", date(2029, 12, 27), time(10), MoveReason.HOLIDAY)]


def test_easter_monday_moves_a_weekly_slot_and_skips_a_weekdays_slot() -> None:
    av = Availability(AMS)
    moved = between(weekly(MON, 10), av, date(2026, 4, 6), date(2026, 4, 12))
    assert sends(moved) == [("2026-W15", date(2026, 4, 7), time(10), MoveReason.HOLIDAY)]

    # Good Friday (3 April) and Easter Monday (6 April) are both holidays in the NL calendar.
    daily = between(every_weekday(10), av, date(2026, 4, 2), date(2026, 4, 7))
    assert sends(daily) == [
        ("2026-04-02", date(2026, 4, 2), time(10), None),
        ("2026-04-07", date(2026, 4, 7), time(10), None),
    ]


def test_blackout_day_moves_to_the_next_allowed_day() -> None:
    av = Availability(AMS, blackout=frozenset({date(2026, 11, 24)}))
    found = between(DEFAULT_NUDGE_CADENCE, av, date(2026, 11, 23), date(2026, 11, 29))
    assert sends(found) == [("2026-W48", date(2026, 11, 25), time(10), MoveReason.BLACKOUT)]


def test_period_is_skipped_when_moving_would_reach_the_next_nominal_slot() -> None:
    blocked = {date(2026, 11, 27)} | {date(2026, 11, 30) + timedelta(days=n) for n in range(4)}
    av = Availability(AMS, blackout=frozenset(blocked))
    found = between(weekly(FRI, 10), av, date(2026, 11, 16), date(2026, 12, 6))
    assert sends(found) == [
        ("2026-W47", date(2026, 11, 20), time(10), None),
        ("2026-W49", date(2026, 12, 4), time(10), None),
    ]


def test_weekend_slot_moves_to_monday() -> None:
    av = Availability(AMS)
    found = between(weekly(SAT, 11), av, date(2026, 11, 17), date(2026, 11, 30))
    assert sends(found) == [
        ("2026-W47", date(2026, 11, 23), time(11), MoveReason.WEEKEND),
        ("2026-W48", date(2026, 11, 30), time(11), MoveReason.WEEKEND),
    ]


def test_custom_weekend_is_honoured() -> None:
    av = Availability(ZoneInfo("Asia/Jerusalem"), country=None, weekend=frozenset({FRI, SAT}))
    found = between(every_weekday(10), av, date(2026, 11, 16), date(2026, 11, 22))
    assert [o.local.weekday() for o in found] == [MON, TUE, WED, THU, SUN]


def test_early_slot_is_clamped_to_work_start() -> None:
    av = Availability(AMS)
    found = between(weekly(TUE, 7, 30), av, date(2026, 11, 23), date(2026, 11, 29))
    assert sends(found) == [("2026-W48", date(2026, 11, 24), time(9), MoveReason.BEFORE_HOURS)]
    assert found[0].nominal_local.time() == time(7, 30)


def test_late_slot_moves_to_work_start_of_the_next_allowed_day() -> None:
    av = Availability(AMS)
    tuesday = between(weekly(TUE, 18), av, date(2026, 11, 23), date(2026, 11, 29))
    assert sends(tuesday) == [("2026-W48", date(2026, 11, 25), time(9), MoveReason.AFTER_HOURS)]

    # Friday evening before Whit Monday lands on Tuesday morning.
    friday = between(weekly(FRI, 18), av, date(2026, 5, 19), date(2026, 5, 27))
    assert sends(friday) == [("2026-W21", date(2026, 5, 26), time(9), MoveReason.AFTER_HOURS)]


def test_working_hours_include_both_ends() -> None:
    av = Availability(AMS)
    found = between(weekly(TUE, 17), av, date(2026, 11, 23), date(2026, 11, 29))
    assert sends(found) == [("2026-W48", date(2026, 11, 24), time(17), None)]


def test_late_weekdays_slot_sends_each_day_the_next_morning_without_doubles() -> None:
    av = Availability(AMS, country=None)
    found = between(every_weekday(18), av, date(2026, 11, 27), date(2026, 12, 1))
    assert sends(found) == [
        ("2026-11-26", date(2026, 11, 27), time(9), MoveReason.AFTER_HOURS),
        ("2026-11-27", date(2026, 11, 30), time(9), MoveReason.AFTER_HOURS),
        ("2026-11-30", date(2026, 12, 1), time(9), MoveReason.AFTER_HOURS),
    ]


# --- monthly and biweekly --------------------------------------------------------------------


def test_monthly_first_tuesday() -> None:
    av = Availability(AMS)
    found = between(monthly(1, TUE), av, date(2026, 1, 1), date(2026, 12, 31))
    assert [o.local.date().day for o in found] == [6, 3, 3, 7, 5, 2, 7, 4, 1, 6, 3, 1]
    assert [o.period_key for o in found] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert all(o.local.weekday() == TUE and o.moved is None for o in found)


def test_monthly_last_friday_moves_off_christmas() -> None:
    av = Availability(AMS)
    found = between(monthly(-1, FRI), av, date(2026, 1, 1), date(2026, 12, 31))
    days = [o.local.date() for o in found]
    assert [d.day for d in days[:11]] == [30, 27, 27, 24, 29, 26, 31, 28, 25, 30, 27]
    assert sends(found)[-1] == ("2026-12", date(2026, 12, 28), time(10), MoveReason.HOLIDAY)
    assert found[-1].nominal_local.date() == date(2026, 12, 25)


@pytest.mark.parametrize(("ordinal", "expected"), [(2, 10), (3, 17), (4, 24)])
def test_monthly_middle_ordinals(ordinal: int, expected: int) -> None:
    av = Availability(AMS, country=None)
    (found,) = between(monthly(ordinal, TUE), av, date(2026, 11, 1), date(2026, 11, 30))
    assert found.local.date() == date(2026, 11, expected)


def test_monthly_period_skipped_when_blackout_reaches_the_next_month() -> None:
    blocked = {date(2026, 3, 3) + timedelta(days=n) for n in range(36)}  # through 7 April
    av = Availability(AMS, blackout=frozenset(blocked))
    found = between(monthly(1, TUE), av, date(2026, 2, 1), date(2026, 5, 31))
    assert sends(found) == [
        ("2026-02", date(2026, 2, 3), time(10), None),
        ("2026-04", date(2026, 4, 8), time(10), MoveReason.BLACKOUT),
        ("2026-05", date(2026, 5, 5), time(10), None),
    ]


def test_biweekly_keeps_strict_fourteen_day_spacing_across_a_53_week_year() -> None:
    av = Availability(AMS, country=None)
    spec = CadenceSpec(Frequency.BIWEEKLY, TUE, time(10))
    found = between(spec, av, date(2026, 6, 1), date(2027, 6, 30))

    days = [o.local.date() for o in found]
    assert all(b - a == timedelta(days=14) for a, b in itertools.pairwise(days))
    assert len(found) >= 27
    keys = [o.period_key for o in found]
    # 2026 has 53 ISO weeks: odd week W53 is followed by odd week W01 a single week later, so
    # week-number parity would have sent twice in a row here.
    assert "2026-W53" in keys
    assert keys[keys.index("2026-W53") + 1] == "2027-W02"
    assert all((d - date(2024, 1, 1)).days % 14 == 1 for d in days)


def test_biweekly_moved_slot_keeps_the_period_key() -> None:
    av = Availability(AMS, country=None, blackout=frozenset({date(2026, 12, 29)}))
    spec = CadenceSpec(Frequency.BIWEEKLY, TUE, time(10))
    found = between(spec, av, date(2026, 12, 21), date(2027, 1, 17))
    assert sends(found) == [
        ("2026-W53", date(2026, 12, 30), time(10), MoveReason.BLACKOUT),
        ("2027-W02", date(2027, 1, 12), time(10), None),
    ]


# --- next_occurrence -------------------------------------------------------------------------


def test_next_occurrence_is_strictly_after() -> None:
    av = Availability(AMS)
    first = next_occurrence(DEFAULT_NUDGE_CADENCE, av, datetime(2026, 11, 23, 12, tzinfo=AMS))
    assert first.local == datetime(2026, 11, 24, 10, tzinfo=AMS)
    assert next_occurrence(DEFAULT_NUDGE_CADENCE, av, first.utc - timedelta(microseconds=1)) == (
        first
    )
    second = next_occurrence(DEFAULT_NUDGE_CADENCE, av, first.utc)
    assert second.local == datetime(2026, 12, 1, 10, tzinfo=AMS)


def test_next_occurrence_finds_a_moved_slot_after_its_nominal_time() -> None:
    av = Availability(AMS)
    # Asked on King's Day after the nominal 10:00: the moved Wednesday slot is still ahead.
    found = next_occurrence(DEFAULT_NUDGE_CADENCE, av, datetime(2027, 4, 27, 15, tzinfo=AMS))
    assert sends([found]) == [("2027-W17", date(2027, 4, 28), time(10), MoveReason.HOLIDAY)]


def test_next_occurrence_accepts_any_zone_and_answers_in_the_recipient_zone() -> None:
    av = Availability(NYC, country="US")
    found = next_occurrence(DEFAULT_PULSE_CADENCE, av, datetime(2026, 11, 24, 12, tzinfo=UTC))
    # 26 November 2026 is Thanksgiving: that Thursday moves to Friday.
    assert found.period_key == "2026-W48"
    assert found.local.date() == date(2026, 11, 27)
    assert found.moved is MoveReason.HOLIDAY


def test_chained_next_occurrence_matches_occurrences_between() -> None:
    av = Availability(SYD, country="AU")
    spec = monthly(-1, FRI, 16)
    start = datetime(2026, 1, 1, tzinfo=SYD)
    listed = occurrences_between(spec, av, start, datetime(2028, 1, 1, tzinfo=SYD))
    chained = []
    cursor = start - timedelta(microseconds=1)
    for _ in listed:
        found = next_occurrence(spec, av, cursor)
        chained.append(found)
        cursor = found.utc
    assert chained == listed


def test_naive_instants_are_rejected() -> None:
    av = Availability(AMS)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(DEFAULT_NUDGE_CADENCE, av, datetime(2026, 11, 24))
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences_between(DEFAULT_NUDGE_CADENCE, av, datetime(2026, 11, 24), datetime(2027, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        week_key(datetime(2026, 11, 24), AMS)


def test_empty_or_reversed_range_is_empty() -> None:
    av = Availability(AMS)
    moment = datetime(2026, 11, 24, 10, tzinfo=AMS)
    assert occurrences_between(DEFAULT_NUDGE_CADENCE, av, moment, moment) == []
    assert occurrences_between(DEFAULT_NUDGE_CADENCE, av, moment, moment - timedelta(days=9)) == []


def test_everything_blacked_out_raises_a_clear_error() -> None:
    blocked = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(800))
    av = Availability(AMS, blackout=blocked)
    moment = datetime(2026, 3, 1, tzinfo=AMS)
    for spec in (DEFAULT_NUDGE_CADENCE, every_weekday(10), monthly(1, TUE)):
        with pytest.raises(NoAllowedDayError, match="no allowed"):
            next_occurrence(spec, av, moment)
    with pytest.raises(NoAllowedDayError, match="no allowed"):
        next_allowed_moment(moment, av)
    # A bounded window simply has nothing in it.
    assert occurrences_between(every_weekday(10), av, moment, moment + timedelta(days=30)) == []


# --- helpers ---------------------------------------------------------------------------------


def test_is_allowed_day() -> None:
    av = Availability(AMS, blackout=frozenset({date(2026, 11, 25)}))
    assert is_allowed_day(date(2026, 11, 24), av)
    assert not is_allowed_day(date(2026, 11, 25), av)  # blackout
    assert not is_allowed_day(date(2026, 11, 28), av)  # Saturday
    assert not is_allowed_day(date(2026, 4, 27), av)  # King's Day
    assert is_allowed_day(date(2026, 4, 27), Availability(AMS, country=None))
    with pytest.raises(TypeError):
        is_allowed_day(datetime(2026, 11, 24, 10, tzinfo=AMS), av)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 11, 24, 12, tzinfo=AMS), datetime(2026, 11, 24, 12, tzinfo=AMS)),
        (datetime(2026, 11, 24, 8, tzinfo=AMS), datetime(2026, 11, 24, 9, tzinfo=AMS)),
        (datetime(2026, 11, 24, 17, 30, tzinfo=AMS), datetime(2026, 11, 25, 9, tzinfo=AMS)),
        (datetime(2026, 11, 28, 12, tzinfo=AMS), datetime(2026, 11, 30, 9, tzinfo=AMS)),
        (datetime(2026, 12, 24, 18, tzinfo=AMS), datetime(2026, 12, 28, 9, tzinfo=AMS)),
        # Another zone is converted first; a naive time is read in the recipient's zone.
        (datetime(2026, 11, 24, 7, 30, tzinfo=UTC), datetime(2026, 11, 24, 9, tzinfo=AMS)),
        (datetime(2026, 11, 24, 9, 45), datetime(2026, 11, 24, 9, 45, tzinfo=AMS)),
    ],
)
def test_next_allowed_moment(local: datetime, expected: datetime) -> None:
    found = next_allowed_moment(local, Availability(AMS))
    assert found.tzinfo is AMS
    assert found.astimezone(UTC) == expected.astimezone(UTC)


def test_next_allowed_moment_steps_over_a_dst_gap() -> None:
    av = Availability(
        AMS, country=None, weekend=frozenset(), work_start=time(2, 30), work_end=time(23)
    )
    found = next_allowed_moment(datetime(2026, 3, 29, 1, 0, tzinfo=AMS), av)
    assert found.astimezone(UTC) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert found.time() == time(3, 0)


def test_week_key_depends_on_the_zone() -> None:
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Sunday night in UTC
    assert week_key(moment, ZoneInfo("UTC")) == "2026-W48"
    assert week_key(moment, AMS) == "2026-W49"
    assert week_key(datetime(2026, 12, 31, 12, tzinfo=AMS), AMS) == "2026-W53"
    assert week_key(datetime(2027, 1, 1, 12, tzinfo=AMS), AMS) == "2026-W53"


def test_holiday_name() -> None:
    assert holiday_name(date(2026, 4, 27), "NL")
    assert holiday_name(date(2026, 4, 27), "nl", language="nl") == "Koningsdag"
    assert holiday_name(date(2026, 4, 28), "NL") is None
    assert holiday_name(date(2026, 4, 27), None) is None
    with pytest.raises(ValueError, match="unsupported"):
        holiday_name(date(2026, 4, 27), "XX")


def test_is_supported_country() -> None:
    assert is_supported_country("NL")
    assert is_supported_country(" nl ")
    assert is_supported_country("US")
    assert not is_supported_country("XX")
    assert not is_supported_country("")


# --- validation and defaults -----------------------------------------------------------------


def test_defaults() -> None:
    assert CadenceSpec(Frequency.WEEKLY, TUE, time(10)) == DEFAULT_NUDGE_CADENCE
    assert CadenceSpec(Frequency.WEEKLY, THU, time(11)) == DEFAULT_PULSE_CADENCE
    av = Availability(AMS)
    assert av.country == DEFAULT_COUNTRY
    assert (av.work_start, av.work_end) == (time(9), time(17))
    assert av.blackout == frozenset()
    assert av.weekend == frozenset({SAT, SUN})


def test_frequency_given_as_text_is_accepted() -> None:
    spec = CadenceSpec("biweekly", MON, time(9))  # type: ignore[arg-type]
    assert spec.frequency is Frequency.BIWEEKLY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": Frequency.WEEKLY, "weekday": None, "at": time(10)}, "needs a weekday"),
        ({"frequency": Frequency.WEEKLY, "weekday": 7, "at": time(10)}, "needs a weekday"),
        ({"frequency": Frequency.WEEKLY, "weekday": True, "at": time(10)}, "needs a weekday"),
        ({"frequency": Frequency.WEEKDAYS, "weekday": 1, "at": time(10)}, "takes no weekday"),
        ({"frequency": Frequency.MONTHLY, "weekday": 1, "at": time(10)}, "needs an ordinal"),
        (
            {"frequency": Frequency.MONTHLY, "weekday": 1, "at": time(10), "ordinal": 5},
            "needs an ordinal",
        ),
        (
            {"frequency": Frequency.MONTHLY, "weekday": 1, "at": time(10), "ordinal": 0},
            "needs an ordinal",
        ),
        (
            {"frequency": Frequency.WEEKLY, "weekday": 1, "at": time(10), "ordinal": 1},
            "only a monthly",
        ),
        ({"frequency": "daily", "weekday": 1, "at": time(10)}, "unknown frequency"),
        ({"frequency": Frequency.WEEKLY, "weekday": 1, "at": time(10, tzinfo=UTC)}, "wall-clock"),
        ({"frequency": Frequency.WEEKLY, "weekday": 1, "at": "10:00"}, "datetime.time"),
        ({"frequency": Frequency.WEEKLY, "weekday": 1, "at": time(10, 0, 0, 5)}, "sub-second"),
    ],
)
def test_invalid_cadence_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CadenceSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Europe/Amsterdam"}, "zoneinfo"),
        ({"timezone": AMS, "country": "XX"}, "unsupported holiday country"),
        ({"timezone": AMS, "work_start": time(17), "work_end": time(9)}, "before work_end"),
        ({"timezone": AMS, "work_start": time(9), "work_end": time(9)}, "before work_end"),
        ({"timezone": AMS, "blackout": frozenset({datetime(2026, 1, 1)})}, "dates only"),
        ({"timezone": AMS, "weekend": frozenset(range(7))}, "every day"),
        ({"timezone": AMS, "weekend": frozenset({7})}, "weekday indexes"),
    ],
)
def test_invalid_availability_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Availability(**kwargs)  # type: ignore[arg-type]


def test_availability_normalises_country_and_blackout() -> None:
    av = Availability(AMS, country="nl", blackout={date(2026, 1, 2)})  # type: ignore[arg-type]
    assert av.country == "NL"
    assert av.blackout == frozenset({date(2026, 1, 2)})
    hash(av)
