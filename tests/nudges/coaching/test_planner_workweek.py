"""A coffee check-in names a report who works on the day the nudge lands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nudges.coaching.planner import PlannerInput, ReportInfo, choose
from nudges.content.catalogue import default_catalogue
from nudges.domain import Kind

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # a Friday
CAT = default_catalogue()


def _coffee(reports: list[ReportInfo]) -> PlannerInput:
    return PlannerInput(
        manager_id=9,
        today=NOW.date(),
        reports=reports,
        enabled_kinds=frozenset({Kind.COFFEE_CHECKIN}),
    )


def test_the_least_recently_named_among_those_working_is_named_and_the_reason_says_so() -> None:
    reports = [
        ReportInfo(1, "UA", None, working=False),  # never named, but Friday is their day off
        ReportInfo(2, "UB", NOW - timedelta(weeks=1)),
        ReportInfo(3, "UC", NOW - timedelta(weeks=4)),
    ]
    choice = choose(_coffee(reports), CAT, NOW)
    assert choice is not None and choice.subject_external_id == "UC"
    assert choice.reason_key == "planner.reason.member_next_working"
    assert "next among the people working today" in choice.explain("en")
    assert "van wie er vandaag werkt" in choice.explain("nl")


def test_with_nobody_working_no_nudge_names_anyone() -> None:
    reports = [ReportInfo(1, "UA", None, working=False), ReportInfo(2, "UB", None, working=False)]
    choice = choose(_coffee(reports), CAT, NOW)
    assert choice is None or choice.subject_id is None


def test_when_everyone_works_the_reason_is_the_usual_one() -> None:
    reports = [ReportInfo(1, "UA", None), ReportInfo(2, "UB", NOW - timedelta(weeks=2))]
    choice = choose(_coffee(reports), CAT, NOW)
    assert choice is not None and choice.reason_key == "planner.reason.member_first"
