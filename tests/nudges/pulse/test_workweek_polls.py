"""Polls count their open working days in the group's majority week, and say so."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nudges.messages import Context
from nudges.pulse.messages import poll_message
from nudges.pulse.workdays import closing_time
from nudges.scheduling.calendar import Availability
from nudges.scheduling.workweek import majority_week

AMS = ZoneInfo("Europe/Amsterdam")
THURSDAY_11 = datetime(2026, 11, 26, 11, 0, tzinfo=AMS)
MON_THU, MON_FRI = frozenset(range(4)), frozenset(range(5))


def test_three_working_days_from_thursday_in_a_monday_thursday_group_end_on_wednesday() -> None:
    # Someone's own leave does not stretch the poll: only the group's pattern counts.
    on_leave = Availability(AMS, time_off=frozenset({THURSDAY_11.date().replace(day=30)}))
    opens = [(THURSDAY_11, Availability(AMS)), (THURSDAY_11, on_leave)]
    part_time = majority_week([MON_THU, MON_THU, MON_FRI])
    assert closing_time(opens, 3, part_time) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert closing_time(opens, 3, MON_FRI) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_poll_states_the_week_its_closing_counts_in() -> None:
    message = poll_message(
        delivery_id=1,
        poll_id=2,
        question="How was your week?",
        locale="en",
        threshold=5,
        closes_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        zone=AMS,
        window=(3, "Mon-Thu"),
    )
    lines = [b.text for b in message.blocks if isinstance(b, Context)]
    assert (
        "It closes after 3 working days, counted in the week most of your team works: Mon-Thu."
        in lines
    )
