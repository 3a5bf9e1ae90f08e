"""A poll of eight people that the attacks run against, and what "no better than chance" means.

An attack turns whatever it can read into candidates: for each person, the answers it narrowed
theirs down to. It learns nothing beyond chance when, for every person, it found no candidate
at all, or only the poll's whole set of answers, which the closed poll shows anyway.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from nudges.store.database import Database
from nudges.store.org import Person
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll
from tests.nudges.pulse.world import World, make_world, members

PEOPLE = members(8)
# Eight people, three of whom answer alike in pairs, so values alone do not name anyone.
FIRST = {"U1": 1, "U2": 2, "U3": 5, "U4": 4, "U5": 5, "U6": 1, "U7": 2, "U8": 3}
# U3 changes their mind; their answer must still count once.
FINAL = {**FIRST, "U3": 3}
CLICK_ORDER = [*PEOPLE, "U3"]

Candidates = dict[str, Counter[int]]


def poll_answers() -> Counter[int]:
    """Return the answers the closed poll holds."""
    return Counter(FINAL.values())


def assert_no_better_than_chance(candidates: Candidates, whole: Counter[int]) -> None:
    """Fail when an attack narrowed anyone's answer below the whole poll's answers."""
    for person, found in candidates.items():
        assert not found or found == whole, (person, dict(found), dict(whole))


async def answered_world(db: Database) -> tuple[World, PulsePoll]:
    """Open a poll for eight people, send it, and let each answer (U3 twice)."""
    world = await make_world(db, teams={"UMGR": PEOPLE}, team_names={"UMGR": "Platform"})
    opened = await world.open_now()
    (poll,) = opened.polls
    await world.tick()
    for index, person in enumerate(CLICK_ORDER):
        value = FIRST[person] if index < len(PEOPLE) else FINAL[person]
        result = await world.click(person, value)
        assert result.changed, result.notice
    return world, poll


async def close(world: World, poll: PulsePoll) -> None:
    """Run the scheduler past the poll's close."""
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=12))
    (closed,) = await world.polls()
    assert closed.closed


async def unsealed_world(db: Database) -> tuple[World, PulsePoll]:
    """Send the same poll but store answers as the code did before issue 10, as a control.

    Each answer goes in with its participation flip in one transaction, in the clear; the
    attacks must link these, or they would prove nothing about the real code.
    """
    world = await make_world(db, teams={"UMGR": PEOPLE}, team_names={"UMGR": "Platform"})
    opened = await world.open_now()
    (poll,) = opened.polls
    await world.tick()
    for person, value in FINAL.items():
        async with db.session() as s:
            person_id = await s.scalar(select(Person.id).where(Person.external_id == person))
            await s.execute(
                update(PulseParticipation)
                .where(
                    PulseParticipation.poll_id == poll.id,
                    PulseParticipation.person_id == person_id,
                )
                .values(answered=True)
            )
            s.add(PulseAnswer(id=str(uuid.uuid4()), poll_id=poll.id, value=value))
            await s.commit()
    return world, poll


def assert_linked(candidates: Candidates) -> None:
    """Check that an attack, run on the control, names every answer."""
    assert {p: dict(c) for p, c in candidates.items()} == {p: {v: 1} for p, v in FINAL.items()}
