"""Answers of clicks that come close together: one transaction, each click its own outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from nudges.coaching.interactions import Actor
from nudges.messages import Action
from nudges.pulse import sealing
from nudges.pulse.clicks import AnswerClick, Click
from nudges.store.database import Database
from nudges.store.outages import is_transient
from nudges.store.pulse import PulsePending
from tests.nudges.pulse.world import World, answer_buttons, make_world, members


async def _sent(db: Database) -> World:
    world = await make_world(db)
    await world.open_now()
    await world.tick()
    assert all(len(world.polls_to(m)) == 1 for m in members(6))
    return world


async def _pending(db: Database) -> list[int]:
    async with db.session() as s:
        rows = (await s.scalars(select(PulsePending))).all()
    return sorted(
        v for r in rows if (v := sealing.current().open(r.poll_id, r.participation_id, r.sealed))
    )


def _value(world: World, user: str, value: int) -> str:
    (button,) = [
        b for b in answer_buttons(world.polls_to(user)[0].message) if b.value.endswith(f":{value}")
    ]
    return button.value


async def test_clicks_close_together_are_stored_in_one_transaction_with_their_own_outcomes(
    db: Database,
) -> None:
    world = await _sent(db)
    commits: list[Any] = []

    def count(conn: Any) -> None:
        commits.append(conn)

    event.listen(db.engine.sync_engine, "commit", count)
    try:
        results = await asyncio.gather(
            world.click("U1", 2),
            world.click("U2", 5),
            world.click("U3", 1),
            # U1 changes their mind within the same burst: the later click is the answer.
            world.click("U1", 4),
            # The manager was not asked.
            world.interactions.on_action(
                Actor("slack", "T1", "UMGR"), Action.PULSE_ANSWER, _value(world, "U1", 3)
            ),
        )
    finally:
        event.remove(db.engine.sync_engine, "commit", count)

    assert len(commits) == 1
    assert [r.changed for r in results] == [True, True, True, True, False]
    notes = [r.notice or "" for r in results]
    assert "You chose 🙁" in notes[0] and "You chose 🙂" in notes[3]
    assert "You chose 😄" in notes[1] and "You chose 😞" in notes[2]
    assert await _pending(db) == [1, 4, 5]
    # Each first answer re-rendered its poll message once; nobody else's changed.
    assert [len(world.polls_to(m)[0].updates) for m in members(6)] == [1, 1, 1, 0, 0, 0]
    assert "You answered." in str(world.polls_to("U2")[0].updates[-1].blocks)


async def test_a_click_that_fails_fails_alone_and_the_rest_of_its_batch_is_stored(
    db: Database,
) -> None:
    world = await _sent(db)
    batcher = world.interactions.pulse_answers
    now = world.clock.now()
    good = AnswerClick("slack", "T1", "U2", _value(world, "U2", 3), now)
    # A time without a zone cannot be compared with the poll's close: this click raises.
    bad = AnswerClick("slack", "T1", "U1", _value(world, "U1", 5), now.replace(tzinfo=None))
    stored, failed = await asyncio.gather(
        batcher.apply(good), batcher.apply(bad), return_exceptions=True
    )
    assert isinstance(failed, TypeError)
    assert isinstance(stored, Click) and stored.stored
    assert await _pending(db) == [3]


async def test_an_outage_fails_every_click_of_the_batch_and_stores_none(
    db: Database, tmp_path: Path
) -> None:
    world = await _sent(db)
    if db.url.get_backend_name() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'nudgebot.sqlite3'}"
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/nudgebot"  # nothing listens on port 1
    gone = create_async_engine(url)
    working = db.sessions
    db.sessions = async_sessionmaker(gone, expire_on_commit=False)
    try:
        results = await asyncio.gather(
            world.click("U1", 2), world.click("U2", 3), return_exceptions=True
        )
    finally:
        db.sessions = working
        await gone.dispose()
    # Each click fails as an outage, which the platform edge words as "try again".
    assert all(isinstance(r, Exception) and is_transient(r) for r in results), results
    assert await _pending(db) == []


async def _timed(world: World, user: str, value: int, at: float) -> Any:
    return await world.interactions.on_action(
        Actor("slack", "T1", user), Action.PULSE_ANSWER, _value(world, user, value), at
    )


async def test_an_older_click_arriving_after_a_newer_one_is_dropped_without_a_note(
    db: Database,
) -> None:
    world = await _sent(db)
    # The newer click (made at 20.0) is applied first, as by another replica.
    newer = await _timed(world, "U1", 4, 20.0)
    assert newer.changed and "You chose 🙂" in (newer.notice or "")
    older = await _timed(world, "U1", 2, 19.7)
    assert older.superseded and older.notice is None and not older.changed
    assert await _pending(db) == [4]
    # A still newer click changes it again; clicks without a time keep arrival order.
    assert (await _timed(world, "U1", 5, 20.3)).changed
    assert await _pending(db) == [5]
    assert (await world.click("U1", 1)).changed
    assert await _pending(db) == [1]
    # Within one batch the newest click wins whatever the order, and only it shows a note.
    results = await asyncio.gather(_timed(world, "U2", 3, 31.0), _timed(world, "U2", 5, 30.0))
    assert [r.superseded for r in results] == [False, True]
    assert await _pending(db) == [1, 3]


async def test_the_click_time_is_kept_only_inside_the_sealed_answer(db: Database) -> None:
    world = await _sent(db)
    await _timed(world, "U3", 2, 1_800_000_000.25)
    async with db.session() as s:
        (row,) = (await s.scalars(select(PulsePending))).all()
    opened = sealing.current().open_timed(row.poll_id, row.participation_id, row.sealed)
    assert opened == (2, 1_800_000_000.25)
    assert b"1800000000" not in row.sealed
