"""Follow one poll from opening to closing on a fake clock, across two time zones.

Expected instants are worked out by hand: the default pulse cadence is Thursday 11:00 local; the
window is 3 working days counted from the latest zone; reminders go 1 and 2 working days after a
person's poll, at the same local time, only to those who have not answered.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.messages import Actions
from nudges.services.dispatch import Dispatcher
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer, PulseParticipation
from tests.nudges.pulse.world import FAST, World, answer_buttons, make_world, text_of

AMS_11 = datetime(2027, 2, 4, 10, 0, tzinfo=UTC)  # Thursday 11:00 in Amsterdam
NY_11 = datetime(2027, 2, 4, 16, 0, tzinfo=UTC)  # Thursday 11:00 in New York
FRI_AMS, FRI_NY = AMS_11 + timedelta(days=1), NY_11 + timedelta(days=1)
MON_AMS, MON_NY = AMS_11 + timedelta(days=4), NY_11 + timedelta(days=4)
CLOSES = NY_11 + timedelta(days=5)  # Tuesday 9 February, 11:00 in New York

AMS_PEOPLE = ["A1", "A2", "A3"]
NY_PEOPLE = ["N1", "N2"]


async def _world(db: Database) -> World:
    return await make_world(
        db,
        teams={"UMGR": AMS_PEOPLE + NY_PEOPLE},
        tz={p: "America/New_York" for p in NY_PEOPLE} | {p: "Europe/Amsterdam" for p in AMS_PEOPLE},
        team_names={"UMGR": "Platform"},
    )


async def _run(world: World, other: Dispatcher, until: datetime) -> None:
    """Tick both replicas together every hour up to ``until``."""
    while world.clock.now() < until:
        world.clock.set(min(until, world.clock.now() + timedelta(hours=1)))
        await asyncio.gather(world.tick(), other.tick())


async def test_a_poll_opens_at_local_eleven_reminds_non_responders_and_closes(
    db: Database, database_url: str
) -> None:
    world = await _world(db)
    other_db = Database(database_url)
    other = Dispatcher(
        other_db,
        world.clock,
        world.dispatcher.catalogue,
        {"slack": world.messenger},
        FAST,
        rng=random.Random(2),
    )
    try:
        await _run(world, other, AMS_11 - timedelta(minutes=1))
        assert all(not world.polls_to(p) for p in AMS_PEOPLE + NY_PEOPLE)

        # Amsterdam gets it at 11:00 Amsterdam time; New York is still asleep.
        await _run(world, other, AMS_11)
        assert all(len(world.polls_to(p)) == 1 for p in AMS_PEOPLE)
        assert all(not world.polls_to(p) for p in NY_PEOPLE)
        poll_message = world.polls_to("A1")[0].message
        assert len(answer_buttons(poll_message)) == 5
        assert "only the team average" in text_of(poll_message)
        assert "5 or more people" in text_of(poll_message)

        clicked = await world.click("A1", 4)
        assert clicked.changed and clicked.notice and "You chose 🙂" in clicked.notice
        assert (await world.click("A2", 2)).changed
        # The message says they answered and can still change it, never what they chose.
        a1 = world.polls_to("A1")[0]
        assert "You answered." in text_of(a1.updates[-1])
        assert "🙂" not in text_of(a1.updates[-1])
        assert [b.style for b in answer_buttons(a1.updates[-1])] == [None] * 5

        await _run(world, other, NY_11)
        assert all(len(world.polls_to(p)) == 1 for p in NY_PEOPLE)
        deliveries = await world.deliveries(DeliveryKind.PULSE)
        sent = {d.recipient_id: d.sent_at for d in deliveries}
        for person in AMS_PEOPLE:
            assert sent[world.ids[person]] == AMS_11
        for person in NY_PEOPLE:
            assert sent[world.ids[person]] == NY_11
        (poll,) = await world.polls()
        assert poll.closes_at == CLOSES

        # A2 changes their mind before the first reminder; it still counts once.
        await _run(world, other, FRI_AMS - timedelta(hours=1))
        assert (await world.click("A2", 5)).changed
        await _run(world, other, FRI_AMS)
        assert [len(world.reminders_to(p)) for p in AMS_PEOPLE] == [0, 0, 1]
        await _run(world, other, FRI_NY)
        assert [len(world.reminders_to(p)) for p in NY_PEOPLE] == [1, 1]
        reminder = world.reminders_to("N1")[0].message
        # A reminder carries no answer buttons: only the poll message holds a key.
        assert not any(isinstance(b, Actions) for b in reminder.blocks)
        assert "scroll up" in text_of(reminder)

        # N1 answers in the poll message itself after the reminder.
        assert (await world.click("N1", 3)).changed
        await _run(world, other, MON_NY)
        assert [len(world.reminders_to(p)) for p in AMS_PEOPLE] == [0, 0, 2]
        assert [len(world.reminders_to(p)) for p in NY_PEOPLE] == [1, 2]
        reminders = await world.deliveries(DeliveryKind.PULSE_REMINDER)
        assert {r.scheduled_at for r in reminders} == {FRI_AMS, FRI_NY, MON_AMS, MON_NY}
        assert all(r.status == DeliveryStatus.SENT for r in reminders)

        # Still open on Tuesday morning in Amsterdam, because New York's window runs longer.
        await _run(world, other, CLOSES - timedelta(hours=1))
        async with db.session() as s:
            assert (
                await s.scalar(
                    select(PulseParticipation.answered).where(
                        PulseParticipation.person_id == world.ids["A3"]
                    )
                )
                is False
            )
        await _run(world, other, CLOSES)
        (poll,) = await world.polls()
        assert poll.closed

        # Every poll message lost its buttons; those who answered read that it was counted.
        for person in AMS_PEOPLE + NY_PEOPLE:
            (sent_poll,) = world.polls_to(person)
            final = sent_poll.updates[-1]
            assert not answer_buttons(final)
            counted = "your answer was counted" in text_of(final)
            assert counted is (person in {"A1", "A2", "N1"})

        # A click on the old buttons of a closed poll records nothing and says so kindly.
        result = await world.click("A3", 5, original=True)
        assert result.notice is not None and "closed" in result.notice
        assert not result.changed
        async with db.session() as s:
            # Three answered, below the threshold of five: the answers are gone for good.
            assert (await s.scalars(select(PulseAnswer))).all() == []
            answered = (
                await s.scalars(
                    select(PulseParticipation.person_id).where(PulseParticipation.answered)
                )
            ).all()
        assert sorted(answered) == sorted(world.ids[p] for p in ("A1", "A2", "N1"))
        # Never twice: one message per delivery across both replicas.
        all_deliveries = await world.deliveries()
        assert len({d.idempotency_key for d in all_deliveries}) == len(all_deliveries)
        assert len(world.messenger.sent) == len(
            [d for d in all_deliveries if d.status == DeliveryStatus.SENT]
        )
    finally:
        await other_db.dispose()
