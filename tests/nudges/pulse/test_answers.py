"""Answers: one click, changeable until close, counted once, and never tied to a person."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from nudges.coaching.interactions import Actor
from nudges.domain import DeliveryKind
from nudges.messages import Action
from nudges.pulse import sealing
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.models import metadata
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePending
from tests.conftest import BACKEND
from tests.nudges.pulse.world import World, answer_buttons, make_world, members, text_of


async def _sent(db: Database) -> World:
    world = await make_world(db)
    opened = await world.open_now()
    assert len(opened.polls) == 1 and opened.people == 6
    await world.tick()
    assert all(len(world.polls_to(m)) == 1 for m in members(6))
    return world


async def _answers(db: Database) -> list[PulseAnswer]:
    async with db.session() as s:
        return list((await s.scalars(select(PulseAnswer))).all())


async def _pending(db: Database) -> list[int]:
    """Open the sealed answers of open polls, as only the service can."""
    async with db.session() as s:
        rows = (await s.scalars(select(PulsePending))).all()
    opened = [sealing.current().open(r.poll_id, r.participation_id, r.sealed) for r in rows]
    assert None not in opened
    return sorted(v for v in opened if v is not None)


async def _answered(db: Database) -> dict[int, bool]:
    async with db.session() as s:
        rows = await s.execute(select(PulseParticipation.person_id, PulseParticipation.answered))
        return {person: answered for person, answered in rows}


def _answer_table(conn: Connection) -> tuple[set[str], list[str], list[str]]:
    inspector = inspect(conn)
    columns = {c["name"] for c in inspector.get_columns("pulse_answers")}
    referred = [fk["referred_table"] for fk in inspector.get_foreign_keys("pulse_answers")]
    types = [str(c["type"]) for c in inspector.get_columns("pulse_answers")]
    return columns, referred, types


async def test_the_answer_table_cannot_be_joined_to_people(db: Database) -> None:
    async with db.engine.connect() as conn:
        columns, referred, types = await conn.run_sync(_answer_table)
    # No person, no time, nothing from a message: only the poll and the value.
    assert columns == {"id", "poll_id", "value"}
    assert referred == ["pulse_polls"]
    assert not any("DATE" in t.upper() or "TIME" in t.upper() for t in types)
    assert set(PulseAnswer.__table__.columns.keys()) == columns
    # Nothing else in the schema points at an answer either.
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            assert fk.column.table.name != "pulse_answers", table.name
    # The primary key is a random UUID, so it says nothing about the order of answers.
    world = await _sent(db)
    for index, value in enumerate((3, 4, 3, 4, 5), start=1):
        await world.click(f"U{index}", value)
    # An open poll has no plain answer at all, only sealed ones.
    assert await _answers(db) == []
    assert await _pending(db) == [3, 3, 4, 4, 5]
    (poll,) = await world.polls()
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=6))
    ids = [a.id for a in await _answers(db)]
    assert len(ids) == 5 and all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.skipif(BACKEND != "sqlite", reason="rowid is a SQLite notion")
async def test_on_sqlite_the_answer_table_has_no_rowid(db: Database) -> None:
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT rowid FROM pulse_answers"))


async def test_one_click_answers_and_only_the_clicker_is_shown_the_choice(db: Database) -> None:
    world = await _sent(db)
    message = world.polls_to("U1")[0].message
    assert [b.label for b in answer_buttons(message)] == ["😞", "🙁", "😐", "🙂", "😄"]
    result = await world.click("U1", 2)
    # The choice goes to the clicker alone, as a note the platform shows ephemerally.
    assert result.changed and result.notice and "You chose 🙁" in result.notice
    shown = world.polls_to("U1")[0].updates[-1]
    assert "You answered." in text_of(shown) and "change your answer until" in text_of(shown)
    # The message the bot can read back is the same whatever was chosen.
    assert "🙁" not in text_of(shown)
    assert all(b.style is None for b in answer_buttons(shown))
    assert await _pending(db) == [2]


async def test_a_changed_answer_counts_once_and_leaves_the_message_alone(db: Database) -> None:
    world = await _sent(db)
    for value in (1, 5, 3):
        assert (await world.click("U1", value)).changed
    # Only the first answer changed the message; a change would date the click for nothing.
    assert len(world.polls_to("U1")[0].updates) == 1
    assert await _pending(db) == [3]
    answered = await _answered(db)
    assert answered[world.ids["U1"]] is True
    assert sum(answered.values()) == 1


async def test_a_second_copy_of_the_poll_changes_the_same_answer(db: Database) -> None:
    world = await _sent(db)
    await world.click("U1", 5)
    # A resend (say, after a lost acknowledgement) composes the poll again.
    async with db.session() as s:
        delivery = await s.scalar(
            select(Delivery).where(
                Delivery.kind == DeliveryKind.PULSE.value,
                Delivery.recipient_id == world.ids["U1"],
            )
        )
        person = await s.get(Person, world.ids["U1"])
        workspace = await s.get(Workspace, world.workspace_id)
        assert delivery and person and workspace
        copy = await world.dispatcher.compose(s, delivery, workspace, person)
    assert copy is not None
    # Every button of every copy says only the poll and the value: nothing tells copies apart.
    assert [b.value for b in answer_buttons(copy)] == [
        b.value for b in answer_buttons(world.polls_to("U1")[0].message)
    ]
    value = answer_buttons(copy)[0].value
    result = await world.interactions.on_action(
        Actor("slack", "T1", "U1"), Action.PULSE_ANSWER, value
    )
    assert result.changed
    assert await _pending(db) == [1]


async def test_two_first_clicks_at_once_make_one_answer(db: Database) -> None:
    world = await _sent(db)
    await asyncio.gather(world.click("U1", 1), world.click("U1", 4))
    pending = await _pending(db)
    assert len(pending) == 1 and pending[0] in (1, 4)


async def test_no_answer_and_no_button_value_is_stored_in_the_clear(db: Database) -> None:
    world = await _sent(db)
    await world.click("U1", 4)
    buttons = [b.value for b in answer_buttons(world.polls_to("U1")[0].message)]
    dump = []
    async with db.session() as s:
        for table in metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in (await s.execute(select(table))).all()]
    joined = "\n".join(dump)
    assert not any(value in joined for value in buttons)
    async with db.session() as s:
        (row,) = (await s.scalars(select(PulsePending))).all()
    # A nonce, a fixed-size sealed block and a tag: the same length whatever the answer.
    assert len(row.sealed) == 12 + 16 + 16


async def test_clicks_that_do_not_belong_record_nothing(db: Database) -> None:
    world = await _sent(db)
    value = answer_buttons(world.polls_to("U1")[0].message)[2].value
    # The manager was not asked; someone from another workspace neither.
    for actor in (Actor("slack", "T1", "UMGR"), Actor("slack", "T9", "U1")):
        result = await world.interactions.on_action(actor, Action.PULSE_ANSWER, value)
        assert result.notice and not result.changed
    for junk in ("", "x:y:z", "1:key:9", "1::3", "abc", "1:9", "1:2:3:4"):
        result = await world.interactions.on_action(
            Actor("slack", "T1", "U1"), Action.PULSE_ANSWER, junk
        )
        assert result.notice and not result.changed
    assert await _answers(db) == [] and await _pending(db) == []


async def test_closing_writes_the_answers_once_and_drops_the_sealed_ones(db: Database) -> None:
    world = await _sent(db)
    for index, value in enumerate((1, 2, 3, 4, 5), start=1):
        await world.click(f"U{index}", value)
    assert await _answers(db) == []
    (poll,) = await world.polls()
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=6))
    after = await _answers(db)
    assert sorted(a.value for a in after) == [1, 2, 3, 4, 5]
    async with db.session() as s:
        assert (await s.scalars(select(PulsePending))).all() == []
    # Late clicks change nothing.
    result = await world.click("U6", 5, original=True)
    assert result.notice and "closed" in result.notice
    assert len(await _answers(db)) == 5


async def test_an_answer_stored_before_sealing_counts_but_cannot_change(db: Database) -> None:
    world = await _sent(db)
    (poll,) = await world.polls()
    # As migration 0006 leaves an open poll: the flag set and a plain answer already stored.
    async with db.session() as s:
        await s.execute(
            update(PulseParticipation)
            .where(PulseParticipation.person_id == world.ids["U1"])
            .values(answered=True)
        )
        s.add(PulseAnswer(id=str(uuid.uuid4()), poll_id=poll.id, value=2))
        await s.commit()
    result = await world.click("U1", 5)
    assert not result.changed and result.notice and "can no longer be changed" in result.notice
    for index, value in enumerate((1, 3, 4, 5), start=2):
        await world.click(f"U{index}", value)
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=6))
    assert sorted(a.value for a in await _answers(db)) == [1, 2, 3, 4, 5]
