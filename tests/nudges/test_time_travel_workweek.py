"""Drive an organisation of mixed working weeks through 13 weeks on a fake clock.

Mon-Thu, Sun-Thu, Wednesday off, 07:00-15:00, people in Germany (Bavaria), Belgium and the
Netherlands, a two-week leave, and the DST changes of spring (Amsterdam, 28 March) and autumn
(Sydney, 4 April). Expected nudge times are worked out here from the rules, independently of the
calendar module; every message of any kind is checked against each person's working time with
the holiday library asked directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select

from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryKind, DeliveryStatus, Frequency, Scope
from nudges.ports import FakeClock
from nudges.scheduling.calendar import Availability, CadenceSpec, MoveReason, skipped_between
from nudges.scheduling.workweek import expand_time_off
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person
from nudges.store.pulse import PulseParticipation, PulsePoll
from nudges.store.workweeks import TimeOff, WorkPattern
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

# Sunday noon UTC: no slot of anyone falls in the planner's look-back before the first tick.
START = datetime(2027, 2, 14, 12, 0, tzinfo=UTC)
END = START + timedelta(weeks=13)
AMS, BRU, BER, SYD = (
    ZoneInfo("Europe/Amsterdam"),
    ZoneInfo("Europe/Brussels"),
    ZoneInfo("Europe/Berlin"),
    ZoneInfo("Australia/Sydney"),
)
MON_THU, SUN_THU, WED_OFF, MON_FRI = (
    frozenset({0, 1, 2, 3}),
    frozenset({6, 0, 1, 2, 3}),
    frozenset({0, 1, 3, 4}),
    frozenset(range(5)),
)
LEAVE = (date(2027, 3, 8), date(2027, 3, 21))
MEMBER_LEAVE = (date(2027, 3, 1), date(2027, 3, 14))
FOLLOWUP_DUE = date(2027, 2, 19)  # a Friday: M_PT's day off


# name: (zone, country, days, start, end, cadence weekday, cadence time)
MANAGERS = {
    "M_PT": (AMS, "NL", MON_THU, time(9), time(17), 4, time(10)),
    "M_SUN": (SYD, "AU", SUN_THU, time(9), time(17), 0, time(9, 30)),
    "M_WED": (AMS, "NL", WED_OFF, time(9), time(17), 2, time(10)),
    "M_EARLY": (BER, "DE-BY", MON_FRI, time(7), time(15), 0, time(8)),
    "M_BE": (BRU, "BE", MON_FRI, time(9), time(17), 3, time(10)),
    "M_NL": (AMS, "NL", MON_FRI, time(9), time(17), 1, time(10)),
}
MEMBERS = {
    "P1": (AMS, "NL", MON_FRI, time(9), time(17)),
    "P2": (AMS, "NL", MON_FRI, time(9), time(17)),
    "P3": (BRU, "BE", MON_FRI, time(9), time(17)),
    "P4": (AMS, "NL", MON_FRI, time(9), time(17)),  # on leave MEMBER_LEAVE
    "P5": (AMS, "NL", MON_THU, time(9), time(17)),
    "P6": (BER, "DE-BY", MON_FRI, time(7), time(15)),
}
LEAVE_OF = {"M_NL": LEAVE, "P4": MEMBER_LEAVE}


def _holiday(day: date, country: str) -> bool:
    code, _, sub = country.partition("-")
    return day in holidays.country_holidays(code, subdiv=sub or None, years=day.year)


def _off(name: str, day: date) -> bool:
    _zone, country, days, *_ = {**MANAGERS, **MEMBERS}[name]
    leave = LEAVE_OF.get(name)
    return (
        day.weekday() not in days
        or _holiday(day, country)
        or (leave is not None and leave[0] <= day <= leave[1])
    )


def expected_nudges(name: str) -> tuple[list[datetime], list[date]]:
    """Return the sends of a weekly cadence and the nominal days skipped, by the rules."""
    zone, _country, _days, start, end, weekday, at = MANAGERS[name]
    sends: list[datetime] = []
    skipped: list[date] = []
    day = START.astimezone(zone).date() - timedelta(days=7)
    while datetime.combine(day, time(0), zone) < END:
        if day.weekday() == weekday:
            following = day + timedelta(days=7)
            target = day
            while target < following and _off(name, target):
                target += timedelta(days=1)
            moment = datetime.combine(target, max(at, start), zone)
            if at > end:
                target += timedelta(days=1)
                while target < following and _off(name, target):
                    target += timedelta(days=1)
                moment = datetime.combine(target, start, zone)
            if target >= following:
                skipped.append(day)
            elif START < moment < END:
                sends.append(moment)
        day += timedelta(days=1)
    return sends, skipped


def test_the_expected_schedule_covers_what_the_scenario_claims() -> None:
    sends, skipped = expected_nudges("M_NL")
    # Two weeks of leave: the first Tuesday is skipped, the second moves to the Monday after.
    assert skipped == [date(2027, 3, 9)]
    assert datetime(2027, 3, 22, 10, tzinfo=AMS) in sends
    # King's Day (27 April) is a Dutch holiday on a Tuesday: moved to Wednesday.
    assert datetime(2027, 4, 28, 10, tzinfo=AMS) in sends
    be, _ = expected_nudges("M_BE")
    assert datetime(2027, 5, 7, 10, tzinfo=BRU) in be  # Ascension Day moves to Friday
    early, _ = expected_nudges("M_EARLY")
    assert datetime(2027, 3, 30, 8, tzinfo=BER) in early  # Easter Monday moves to Tuesday
    part, _ = expected_nudges("M_PT")
    # Every Friday lands on Monday, and Good Friday's past Easter Monday on Tuesday.
    assert {moment.weekday() for moment in part} == {0, 1}
    assert datetime(2027, 3, 30, 10, tzinfo=AMS) in part
    wed, _ = expected_nudges("M_WED")
    # Wednesday off: Thursday, and Friday after Ascension Day.
    assert {moment.weekday() for moment in wed} == {3, 4}
    sun, _ = expected_nudges("M_SUN")
    assert {moment.astimezone(UTC).hour for moment in sun} == {22, 23}  # Sydney leaves DST


async def _setup(db: Database) -> dict[str, int]:
    people = {**MANAGERS, **MEMBERS}
    ids = await make_org(
        db,
        created=START - timedelta(days=3),
        managers={
            "M_NL": ["P1", "P2", "P3", "P4", "P5", "P6"],
            **{name: [] for name in MANAGERS if name != "M_NL"},
        },
        tz={name: spec[0].key for name, spec in people.items()},
    )
    ws = ids["__workspace__"]
    async with db.session() as s:
        for name, (_zone, country, days, start, end, *rest) in people.items():
            person = await s.get(Person, ids[name])
            assert person is not None
            person.country = country
            s.add(
                WorkPattern(
                    workspace_id=ws,
                    scope="person",
                    scope_key=f"person:{ids[name]}",
                    person_id=ids[name],
                    days=",".join(str(d) for d in sorted(days)),
                    start_time=f"{start:%H:%M}",
                    end_time=f"{end:%H:%M}",
                )
            )
            if name in MANAGERS:
                weekday, at = rest
                s.add(
                    CadenceRule(
                        workspace_id=ws,
                        scope=Scope.PERSON,
                        scope_key=f"person:{ids[name]}",
                        person_id=ids[name],
                        frequency=Frequency.WEEKLY,
                        weekday=weekday,
                        at_time=f"{at:%H:%M}",
                    )
                )
        for name, (first, last) in LEAVE_OF.items():
            s.add(TimeOff(workspace_id=ws, person_id=ids[name], first_day=first, last_day=last))
        s.add(
            Commitment(
                workspace_id=ws,
                manager_id=ids["M_PT"],
                member_id=None,
                text="Send the plan",
                due_on=FOLLOWUP_DUE,
            )
        )
        await s.commit()
    return ids


async def test_thirteen_weeks_of_mixed_working_weeks(db: Database) -> None:
    ids = await _setup(db)
    names = {v: k for k, v in ids.items() if k != "__workspace__"}
    clock = FakeClock(START)
    messenger = InMemoryMessenger()
    config = EngineConfig(send_rate_per_workspace=1000, initial_rate=1000)
    dispatcher = Dispatcher(db, clock, default_catalogue(), {"slack": messenger}, config)
    expected = {name: expected_nudges(name)[0] for name in MANAGERS}
    instants = {m.astimezone(UTC) for ms in expected.values() for m in ms}
    followup_at = datetime(2027, 2, 22, 9, tzinfo=AMS)
    steps = {START + timedelta(hours=6 * i) for i in range(13 * 7 * 4)} | instants
    steps.add(followup_at.astimezone(UTC))
    for step in sorted(steps):
        clock.set(step)
        await dispatcher.tick()

    async with db.session() as s:
        rows = (await s.scalars(select(Delivery).order_by(Delivery.sent_at))).all()
        polls = (await s.scalars(select(PulsePoll).order_by(PulsePoll.opened_at))).all()
        asked = (
            await s.execute(select(PulseParticipation.poll_id, PulseParticipation.person_id))
        ).all()

    sent = [r for r in rows if r.status == DeliveryStatus.SENT]
    assert len(messenger.sent) == len(sent)
    # No message of any kind outside someone's working days and hours, on a holiday or on leave.
    for delivery in sent:
        name = names[delivery.recipient_id]
        zone, _country, _days, start, end, *_ = {**MANAGERS, **MEMBERS}[name]
        assert delivery.sent_at is not None
        local = delivery.sent_at.astimezone(zone)
        assert not _off(name, local.date()), (name, delivery.kind, local)
        assert start <= local.time() <= end, (name, delivery.kind, local)

    # Every period delivered once at the expected moment, or skipped as the rules say.
    for name, moments in expected.items():
        nudges = [
            r for r in sent if r.recipient_id == ids[name] and r.kind == DeliveryKind.NUDGE.value
        ]
        got = [r.sent_at.astimezone(moments[0].tzinfo) for r in nudges if r.sent_at]
        assert got == moments, name
        assert len({r.period_key for r in nudges}) == len(nudges)

    # The commitment due on M_PT's Friday off is asked about on the next working day.
    followups = [r for r in sent if r.kind == DeliveryKind.FOLLOWUP.value]
    assert [r.sent_at for r in followups] == [followup_at]

    # Participation only over people who could answer: nobody asked for a poll on their leave.
    assert len(polls) >= 12, "the team of six gets a poll every week"
    inside_leave = 0
    for poll in polls:
        people = {names[person] for poll_id, person in asked if poll_id == poll.id}
        assert people <= set(MEMBERS)
        opened = poll.opened_at.astimezone(AMS).date()
        closes = poll.closes_at.astimezone(AMS).date()
        if MEMBER_LEAVE[0] <= opened and closes <= MEMBER_LEAVE[1]:
            inside_leave += 1
            assert people == set(MEMBERS) - {"P4"}, poll.period_key
        elif not _off("P4", opened):
            assert "P4" in people, poll.period_key
    assert inside_leave == 1


def test_each_skipped_period_has_the_reason_the_rules_give() -> None:
    zone, country, days, start, end, weekday, at = MANAGERS["M_NL"]
    avail = Availability(
        zone,
        country=country,
        work_start=start,
        work_end=end,
        weekend=frozenset(range(7)) - days,
        time_off=expand_time_off([LEAVE]),
    )
    skipped = skipped_between(CadenceSpec(Frequency.WEEKLY, weekday, at), avail, START, END)
    _sends, expected = expected_nudges("M_NL")
    assert [(moment.date(), reason) for moment, reason in skipped] == [
        (day, MoveReason.TIME_OFF) for day in expected
    ]
