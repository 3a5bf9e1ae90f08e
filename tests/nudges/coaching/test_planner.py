from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from nudges.coaching.planner import PastNudge, PlannerInput, ReportInfo, choose
from nudges.content.catalogue import default_catalogue
from nudges.domain import Dimension, DimensionSignal, Kind, NudgeState

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CAT = default_catalogue()


def _run(inp: PlannerInput, weeks: int) -> list[tuple[str, Kind, int | None]]:
    """Simulate weekly choices, feeding each back as history like the dispatcher would."""
    history = list(inp.history)
    reports = {r.person_id: r for r in inp.reports}
    out = []
    for week in range(weeks):
        now = NOW + timedelta(weeks=week)
        sim = PlannerInput(
            **{
                **inp.__dict__,
                "history": tuple(history),
                "reports": tuple(reports.values()),
                "today": now.date(),
            }
        )
        choice = choose(sim, CAT, now)
        assert choice is not None
        out.append((choice.nudge_key, choice.kind, choice.subject_id))
        history.append(PastNudge(choice.nudge_key, choice.kind, now))
        if choice.subject_id is not None:
            old = reports[choice.subject_id]
            reports[old.person_id] = ReportInfo(old.person_id, old.external_id, now)
    return out


def test_members_rotate_least_recently_first() -> None:
    reports = [
        ReportInfo(1, "UA", NOW - timedelta(weeks=1)),
        ReportInfo(2, "UB", None),
        ReportInfo(3, "UC", NOW - timedelta(weeks=5)),
    ]
    inp = PlannerInput(
        manager_id=9,
        today=NOW.date(),
        reports=reports,
        enabled_kinds=frozenset({Kind.COFFEE_CHECKIN}),
    )
    # One coffee nudge names nobody; the member-named ones rotate, never-contacted first.
    subjects = [s for _, _, s in _run(inp, 7) if s is not None]
    assert subjects[:6] == [2, 3, 1, 2, 3, 1]


def test_no_repeat_within_the_window_and_reasons_explain() -> None:
    inp = PlannerInput(manager_id=9, today=NOW.date(), reports=[ReportInfo(1, "UA", None)])
    keys = [k for k, _, _ in _run(inp, 16)]
    for i, key in enumerate(keys):
        assert key not in keys[i + 1 : i + 8]
    first = choose(inp, CAT, NOW)
    assert first is not None
    line = first.explain("en")
    assert line and "\n" not in line
    assert first.explain("nl") != line


def test_enabled_kinds_are_respected() -> None:
    kinds = frozenset({Kind.LISTENING, Kind.OPEN_QUESTIONS})
    inp = PlannerInput(manager_id=9, today=NOW.date(), enabled_kinds=kinds)
    assert {k for _, k, _ in _run(inp, 6)} <= kinds


def test_a_manager_without_reports_gets_no_member_nudges() -> None:
    inp = PlannerInput(manager_id=9, today=NOW.date())
    for key, _, subject in _run(inp, 12):
        assert subject is None
        assert not CAT.nudge(key).needs_report


def test_not_relevant_lowers_a_kind() -> None:
    history = [
        PastNudge("x", Kind.COFFEE_CHECKIN, NOW - timedelta(weeks=30), NudgeState.NOT_RELEVANT),
        PastNudge("y", Kind.COFFEE_CHECKIN, NOW - timedelta(weeks=31), NudgeState.NOT_RELEVANT),
    ]
    inp = PlannerInput(
        manager_id=9, today=NOW.date(), reports=[ReportInfo(1, "UA", None)], history=history
    )
    kinds = [k for _, k, _ in _run(inp, 8)]
    assert Kind.COFFEE_CHECKIN not in kinds[:4]


def test_programme_weeks_come_in_order_then_normal_rotation_resumes() -> None:
    programme = CAT.programme("empathic-listening")
    start = NOW.date()
    inp = PlannerInput(
        manager_id=9, today=start, programme=programme.key, programme_started_on=start
    )
    keys = [k for k, _, _ in _run(inp, 9)]
    assert tuple(keys[:7]) == programme.weeks
    assert not set(keys[7:]) & set(programme.weeks)
    choice = choose(inp, CAT, NOW)
    assert choice is not None and choice.reason_key == "planner.reason.programme"
    assert "1" in choice.explain("en") and "7" in choice.explain("en")


def test_programme_only_nudges_never_reach_others() -> None:
    inp = PlannerInput(manager_id=9, today=NOW.date(), reports=[ReportInfo(1, "UA", None)])
    sent = {k for k, _, _ in _run(inp, 30)}
    assert not sent & set(CAT.programme("empathic-listening").weeks)


def test_a_pulse_signal_steers_the_choice_and_the_reason() -> None:
    signal = DimensionSignal(Dimension.CLARITY, 5.0, "planner.reason.kind_new", {})
    inp = PlannerInput(
        manager_id=9, today=NOW.date(), reports=[ReportInfo(1, "UA", None)], signals=[signal]
    )
    choice = choose(inp, CAT, NOW)
    assert choice is not None
    assert CAT.nudge(choice.nudge_key).dimension is Dimension.CLARITY
    assert choice.reason_key == signal.reason_key


def test_choices_are_stable_for_the_same_input() -> None:
    inp = PlannerInput(manager_id=4, today=date(2026, 11, 24), reports=[ReportInfo(1, "UA", None)])
    assert choose(inp, CAT, NOW) == choose(inp, CAT, NOW)
