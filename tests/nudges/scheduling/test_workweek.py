"""Reading working weeks, hours and leave, and the calendar's answers for days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from nudges.domain import Frequency
from nudges.scheduling.calendar import (
    Availability,
    CadenceSpec,
    MoveReason,
    blocked_reason,
    is_supported_country,
    next_occurrence,
)
from nudges.scheduling.workweek import (
    WorkWeek,
    WorkWeekError,
    days_text,
    majority_week,
    parse_days,
    parse_hours,
    parse_time_off,
    week_began,
    week_start_day,
)

AMS = ZoneInfo("Europe/Amsterdam")
NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-thu", {0, 1, 2, 3}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("fri-mon", {4, 5, 6, 0}),
        ("mon,tue,thu,fri", {0, 1, 3, 4}),
        ("mon-wed,fri", {0, 1, 2, 4}),
        ("ma-do", {0, 1, 2, 3}),
        ("Wednesday", {2}),
    ],
)
def test_days_are_read_as_ranges_lists_or_both(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["", "mon-", "mon,,tue", "funday", "mon-thu-fri"])
def test_unreadable_days_are_refused(text: str) -> None:
    with pytest.raises(WorkWeekError):
        parse_days(text)


def test_hours_are_read_to_the_minute_and_must_run_forward() -> None:
    assert parse_hours("08:30-16:30") == (time(8, 30), time(16, 30))
    assert parse_hours("7:05–15:00") == (time(7, 5), time(15, 0))
    for bad in ("16:30-08:30", "09:00-09:00", "25:00-26:00", "9-17", "09:61-10:00"):
        with pytest.raises(WorkWeekError):
            parse_hours(bad)


def test_a_week_needs_a_day_and_forward_hours() -> None:
    with pytest.raises(WorkWeekError):
        WorkWeek(frozenset())
    with pytest.raises(WorkWeekError):
        WorkWeek(frozenset({0}), time(17), time(9))


def test_time_off_is_a_forward_stretch_of_at_most_a_year() -> None:
    assert parse_time_off("2026-12-21 to 2027-01-03") == (date(2026, 12, 21), date(2027, 1, 3))
    assert parse_time_off("2027-05-01") == (date(2027, 5, 1), date(2027, 5, 1))
    for bad in ("2027-01-03 to 2026-12-21", "2026-02-30", "2026-01-01 to 2027-06-01", "soon"):
        with pytest.raises(WorkWeekError):
            parse_time_off(bad)


def test_days_are_written_compactly_from_the_start_of_the_week() -> None:
    assert days_text(frozenset({0, 1, 2, 3}), NAMES) == "Mon-Thu"
    assert days_text(frozenset({6, 0, 1, 2, 3}), NAMES) == "Sun-Thu"
    assert days_text(frozenset({0, 1, 3, 4}), NAMES) == "Mon,Tue,Thu,Fri"


def test_the_week_starts_after_the_longest_rest() -> None:
    assert week_start_day(frozenset(range(5))) == 0
    assert week_start_day(frozenset({6, 0, 1, 2, 3})) == 6
    assert week_start_day(frozenset({0, 1, 3, 4})) == 0
    assert week_start_day(frozenset(range(7))) == 0


def test_a_sunday_thursday_week_began_on_sunday_midnight_even_across_dst() -> None:
    # Thursday 2 April 2026, after the spring change in Amsterdam on Sunday 29 March.
    began = week_began(datetime(2026, 4, 2, 12, tzinfo=UTC), AMS, frozenset({6, 0, 1, 2, 3}))
    assert began == datetime(2026, 3, 29, 0, 0, tzinfo=AMS)


def test_the_majority_pattern_wins_and_a_tie_goes_to_the_longer_week() -> None:
    full, part = frozenset(range(5)), frozenset(range(4))
    assert majority_week([full, part, part]) == part
    assert majority_week([full, part]) == full


def test_days_off_time_off_and_regional_holidays_are_named() -> None:
    avail = Availability(
        AMS,
        country="DE-BY",
        weekend=frozenset({4, 5, 6}),
        time_off=frozenset({date(2026, 8, 3)}),
    )
    assert blocked_reason(date(2026, 7, 31), avail) is MoveReason.DAY_OFF  # a Friday
    assert blocked_reason(date(2026, 8, 1), avail) is MoveReason.WEEKEND
    assert blocked_reason(date(2026, 8, 3), avail) is MoveReason.TIME_OFF
    # Epiphany is a holiday in Bavaria, not in Germany as a whole.
    assert blocked_reason(date(2026, 1, 6), avail) is MoveReason.HOLIDAY
    assert blocked_reason(date(2026, 1, 6), Availability(AMS, country="DE")) is None
    assert is_supported_country("be") and is_supported_country("de-by")
    assert not is_supported_country("DE-XX")


def test_a_friday_slot_of_a_monday_thursday_person_moves_to_monday() -> None:
    avail = Availability(AMS, weekend=frozenset({4, 5, 6}))
    friday = CadenceSpec(Frequency.WEEKLY, 4, time(10))
    found = next_occurrence(friday, avail, datetime(2026, 11, 24, tzinfo=UTC))
    assert found.local == datetime(2026, 11, 30, 10, tzinfo=AMS)
    assert found.moved is MoveReason.DAY_OFF
