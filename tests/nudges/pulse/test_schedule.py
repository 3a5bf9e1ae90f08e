"""Scheduling rules around polls: windows, reminders, budget, small groups, the separate digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nudges.domain import DeliveryKind, DeliveryStatus, Frequency, Scope
from nudges.messages import Header
from nudges.pulse.workdays import add_working_days, reminder_offsets
from nudges.scheduling.calendar import Availability
from nudges.store.cadence import CadenceRule
from nudges.store.database import Database
from nudges.store.org import Person
from tests.nudges.pulse.world import make_world, members, text_of

THURSDAY_11 = datetime(2027, 2, 4, 10, 0, tzinfo=UTC)
AMS = ZoneInfo("Europe/Amsterdam")


def test_at_most_two_reminders_inside_the_window() -> None:
    assert reminder_offsets(1) == []
    assert reminder_offsets(2) == [1]
    assert reminder_offsets(3) == [1, 2]
    assert reminder_offsets(7) == [2, 5]


def test_the_window_counts_working_days_only() -> None:
    avail = Availability(timezone=AMS, country="NL")
    # Thursday before Easter 2027: Good Friday, the weekend and Easter Monday do not count.
    start = datetime(2027, 3, 25, 11, 0, tzinfo=AMS)
    assert add_working_days(start, 1, avail) == datetime(2027, 3, 30, 11, 0, tzinfo=AMS)
    assert add_working_days(start, 3, avail) == datetime(2027, 4, 1, 11, 0, tzinfo=AMS)


async def test_a_group_smaller_than_the_threshold_is_never_polled(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(4)})
    await world.run_until(THURSDAY_11 + timedelta(hours=1))
    assert await world.polls() == []
    await world.settings(anonymity_threshold=3)
    await world.run_until(THURSDAY_11 + timedelta(days=7, hours=1))
    # This week's slot is an hour old, still within the lookback, so it goes out late.
    polls = await world.polls()
    assert [(p.period_key, p.threshold) for p in polls] == [("2027-W05", 3), ("2027-W06", 3)]


async def test_polls_count_against_the_weekly_budget(db: Database) -> None:
    # U1 also leads a team, so their Tuesday nudge uses this week's only message.
    world = await make_world(db, teams={"UMGR": members(6), "U1": ["X1"]})
    await world.settings(budget=1)
    await world.run_until(THURSDAY_11 + timedelta(hours=1))
    polls = {d.recipient_id: d for d in await world.deliveries(DeliveryKind.PULSE)}
    assert polls[world.ids["U1"]].status == DeliveryStatus.CANCELLED
    assert polls[world.ids["U1"]].last_error == "weekly message budget reached"
    assert sum(d.status == DeliveryStatus.SENT for d in polls.values()) == 5
    for i in range(2, 7):
        await world.click(f"U{i}", 4)
    (poll,) = await world.polls()
    await world.run_until(poll.closes_at + timedelta(minutes=1))
    text = (await world.command("pulse results")).text
    # Those the poll never reached are not counted as asked.
    assert "5 of 5 answered (100%)" in text


async def test_a_poll_opened_on_request_takes_the_place_of_that_weeks_poll(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(5)})
    world.clock.set(datetime(2027, 2, 3, 9, 0, tzinfo=UTC))  # Wednesday
    opened = await world.open_now()
    await world.run_until(THURSDAY_11 + timedelta(hours=2))
    assert [p.id for p in await world.polls()] == [opened.polls[0].id]
    assert all(len(world.polls_to(f"U{i}")) == 1 for i in range(1, 6))


async def test_people_who_opted_out_or_paused_get_no_poll(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(6)})
    async with db.session() as s:
        for ext, field, value in (
            ("U1", "opted_out", True),
            ("U2", "paused_until", date(2027, 3, 1)),
        ):
            person = await s.scalar(select(Person).where(Person.external_id == ext))
            assert person is not None
            setattr(person, field, value)
        await s.commit()
    await world.run_until(THURSDAY_11 + timedelta(hours=1))
    assert not world.polls_to("U1") and not world.polls_to("U2")
    assert all(world.polls_to(f"U{i}") for i in range(3, 7))


async def test_the_digest_can_be_a_message_of_its_own(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(5)})
    await world.settings(pulse_digest="separate")
    await world.run_poll({f"U{i}": 4 for i in range(1, 6)})
    await world.run_until(datetime(2027, 2, 9, 9, 0, tzinfo=UTC))  # Tuesday 10:00 Amsterdam
    digests = await world.deliveries(DeliveryKind.DIGEST)
    assert [d.status for d in digests] == [DeliveryStatus.SENT] * 2  # one per weekly nudge
    to_manager = world.messenger.to("UMGR")
    nudge, digest = to_manager[-2].message, to_manager[-1].message
    assert "How your team is doing" not in text_of(nudge)
    assert (
        isinstance(digest.blocks[0], Header) and digest.blocks[0].text == "How your team is doing"
    )
    assert "**Feeling heard** 4.0" in text_of(digest)


async def test_a_team_rule_and_the_workspace_rule_set_the_pulse_cadence(db: Database) -> None:
    world = await make_world(
        db,
        teams={"MA": members(5, "A"), "MB": members(5, "B")},
        team_names={"MA": "Alpha", "MB": "Beta"},
    )
    async with db.session() as s:
        s.add_all(
            [
                CadenceRule(
                    workspace_id=world.workspace_id,
                    purpose="pulse",
                    scope=Scope.WORKSPACE,
                    scope_key="workspace",
                    frequency=Frequency.WEEKLY,
                    weekday=0,
                    at_time="13:00",
                ),
                CadenceRule(
                    workspace_id=world.workspace_id,
                    purpose="pulse",
                    scope=Scope.TEAM,
                    scope_key="team:Beta",
                    team="Beta",
                    frequency=Frequency.WEEKLY,
                    weekday=2,
                    at_time="15:30",
                ),
            ]
        )
        await s.commit()
    await world.run_until(datetime(2027, 2, 5, 12, 0, tzinfo=UTC))
    sent = {d.recipient_id: d.scheduled_at for d in await world.deliveries(DeliveryKind.PULSE)}
    monday_13 = datetime.combine(date(2027, 2, 1), time(13, 0), AMS)
    wednesday = datetime.combine(date(2027, 2, 3), time(15, 30), AMS)
    assert {sent[world.ids[f"A{i}"]] for i in range(1, 6)} == {monday_13}
    assert {sent[world.ids[f"B{i}"]] for i in range(1, 6)} == {wednesday}
