"""A crash in the middle of answering loses nothing silently.

An answer is committed sealed, together with the flag that says its person answered, in one
transaction: a process killed before that commit leaves neither (the person is still asked and
can answer again); killed after it, both (the answer counts at close). Without a configured
secret the sealing key dies with the process; then the person is marked as not answered and
their poll takes an answer again, rather than being counted without one.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from nudges.pulse import sealing
from nudges.store.database import Database
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePending
from tests.nudges.pulse.world import World, make_world, members, text_of

SECRET = "a long-lived service secret for the crash tests"
PEOPLE = members(6)

CLICK_THEN_DIE = """
import asyncio, os, signal, sys
from nudges.pulse import sealing
from nudges.pulse.answers import ButtonValue, record_answer
from nudges.store.database import Database
from nudges.store.pulse import PulsePoll

async def main(url, secret, poll_id, person_id, value, commit):
    sealing.configure(secret)
    db = Database(url)
    async with db.session() as s:
        poll = await s.get(PulsePoll, poll_id)
        await record_answer(s, poll, person_id, ButtonValue(poll_id, value), poll.opened_at)
        if commit == "commit":
            await s.commit()
        # Killed before anything else runs: no message update, no clean shutdown.
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                 int(sys.argv[5]), sys.argv[6]))
"""


@pytest.fixture(autouse=True)
def restore_sealer() -> Iterator[None]:
    saved = sealing.current()
    try:
        yield
    finally:
        sealing._current = saved


async def _world(db: Database) -> tuple[World, int]:
    world = await make_world(db, teams={"UMGR": PEOPLE})
    opened = await world.open_now()
    await world.tick()
    return world, opened.polls[0].id


async def _kill_mid_click(db: Database, poll_id: int, person_id: int, commit: bool) -> int:
    url = db.url.render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLICK_THEN_DIE,
        url,
        SECRET,
        str(poll_id),
        str(person_id),
        "4",
        "commit" if commit else "no-commit",
    )
    return await process.wait()


async def _state(db: Database, person_id: int) -> tuple[bool, int]:
    async with db.session() as s:
        answered = await s.scalar(
            select(PulseParticipation.answered).where(PulseParticipation.person_id == person_id)
        )
        pending = len((await s.scalars(select(PulsePending))).all())
    return bool(answered), pending


async def _close(world: World) -> list[int]:
    (poll,) = await world.polls()
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=12))
    async with world.db.session() as s:
        return sorted((await s.scalars(select(PulseAnswer.value))).all())


async def test_killed_after_the_commit_the_answer_counts(db: Database) -> None:
    sealing.configure(SECRET)
    world, poll_id = await _world(db)
    code = await _kill_mid_click(db, poll_id, world.ids["U1"], commit=True)
    assert code == -signal.SIGKILL
    assert await _state(db, world.ids["U1"]) == (True, 1)
    # The restarted service derives the same key from the same secret.
    sealing.configure(SECRET)
    for person, value in zip(PEOPLE[1:5], (1, 2, 3, 5), strict=True):
        await world.click(person, value)
    assert await _close(world) == [1, 2, 3, 4, 5]


async def test_killed_before_the_commit_nothing_is_half_recorded(db: Database) -> None:
    sealing.configure(SECRET)
    world, poll_id = await _world(db)
    code = await _kill_mid_click(db, poll_id, world.ids["U1"], commit=False)
    assert code == -signal.SIGKILL
    # Not answered, so still reminded, and the same message takes the answer again.
    assert await _state(db, world.ids["U1"]) == (False, 0)
    again = await world.click("U1", 4)
    assert again.changed and again.notice and "You chose" in again.notice
    for person, value in zip(PEOPLE[1:5], (1, 2, 3, 5), strict=True):
        await world.click(person, value)
    assert await _close(world) == [1, 2, 3, 4, 5]


async def test_without_a_secret_a_restart_asks_again_instead_of_counting_nothing(
    db: Database,
) -> None:
    sealing.configure(None)
    world, _poll_id = await _world(db)
    for person, value in zip(PEOPLE[:5], (1, 2, 3, 4, 5), strict=True):
        await world.click(person, value)
    # A restart: the per-process key is gone.
    sealing.configure(None)
    await world.tick()
    for person in PEOPLE[:5]:
        assert await _state(db, world.ids[person]) == (False, 0)
        # Their poll is shown open again, so they can see they need to answer.
        shown = world.polls_to(person)[0].updates[-1]
        assert "One click is enough" in text_of(shown), person
    # Nobody is counted as having answered, so nothing shows below the threshold by accident.
    for person, value in zip(PEOPLE[:5], (5, 4, 3, 2, 1), strict=True):
        result = await world.click(person, value)
        assert result.changed and result.notice and "You chose" in result.notice
    assert await _close(world) == [1, 2, 3, 4, 5]
