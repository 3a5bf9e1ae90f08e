"""Answers: one click, changeable until close, counted once, and never tied to a person."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from nudges.actions import Action
from nudges.domain import DeliveryKind
from nudges.interactions import Actor
from nudges.pulse.answers import ButtonValue
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.models import metadata
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseAnswer, PulseParticipation
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
    # No person, no time: only the poll, the hash of the recipient's key, and the value.
    assert columns == {"id", "poll_id", "key_hash", "value"}
    assert referred == ["pulse_polls"]
    assert not any("DATE" in t.upper() or "TIME" in t.upper() for t in types)
    assert set(PulseAnswer.__table__.columns.keys()) == columns
    # Nothing else in the schema points at an answer either.
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            assert fk.column.table.name != "pulse_answers", table.name
    # The primary key is a random UUID, so it says nothing about the order of answers.
    world = await _sent(db)
    await world.click("U1", 3)
    await world.click("U2", 4)
    ids = [a.id for a in await _answers(db)]
    assert all(uuid.UUID(i).version == 4 for i in ids)


@pytest.mark.skipif(BACKEND != "sqlite", reason="rowid is a SQLite notion")
async def test_on_sqlite_the_answer_table_has_no_rowid(db: Database) -> None:
    async with db.engine.connect() as conn:
        with pytest.raises(DBAPIError):
            await conn.execute(text("SELECT rowid FROM pulse_answers"))


async def test_one_click_answers_and_the_message_shows_it(db: Database) -> None:
    world = await _sent(db)
    message = world.polls_to("U1")[0].message
    assert [b.label for b in answer_buttons(message)] == ["😞", "🙁", "😐", "🙂", "😄"]
    result = await world.click("U1", 2)
    assert result.changed and result.notice is None
    shown = world.polls_to("U1")[0].updates[-1]
    assert "You answered 🙁" in text_of(shown)
    assert "change it until" in text_of(shown)
    assert [a.value for a in await _answers(db)] == [2]


async def test_a_changed_answer_counts_once(db: Database) -> None:
    world = await _sent(db)
    for value in (1, 5, 3):
        assert (await world.click("U1", value)).changed
    (answer,) = await _answers(db)
    assert answer.value == 3
    answered = await _answered(db)
    assert answered[world.ids["U1"]] is True
    assert sum(answered.values()) == 1


async def test_a_second_copy_of_the_poll_cannot_add_a_second_answer(db: Database) -> None:
    world = await _sent(db)
    await world.click("U1", 5)
    # A resend (say, after a lost acknowledgement) composes the poll again, with a fresh key.
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
    first_key = ButtonValue.decode(answer_buttons(world.polls_to("U1")[0].message)[0].value)
    second_key = ButtonValue.decode(answer_buttons(copy)[0].value)
    assert first_key and second_key and first_key.key != second_key.key
    value = ButtonValue(second_key.poll_id, second_key.key, 1).encode()
    result = await world.interactions.on_action(
        Actor("slack", "T1", "U1"), Action.PULSE_ANSWER, value
    )
    assert result.notice is not None and "already answered" in result.notice
    assert [a.value for a in await _answers(db)] == [5]


async def test_two_first_clicks_at_once_make_one_answer(db: Database) -> None:
    world = await _sent(db)
    await asyncio.gather(world.click("U1", 1), world.click("U1", 4))
    answers = await _answers(db)
    assert len(answers) == 1 and answers[0].value in (1, 4)


async def test_the_answer_key_is_never_stored(db: Database) -> None:
    world = await _sent(db)
    await world.click("U1", 4)
    button = ButtonValue.decode(answer_buttons(world.polls_to("U1")[0].message)[0].value)
    assert button is not None
    dump = []
    async with db.session() as s:
        for table in metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in (await s.execute(select(table))).all()]
    assert button.key not in "\n".join(dump)


async def test_clicks_that_do_not_belong_record_nothing(db: Database) -> None:
    world = await _sent(db)
    value = answer_buttons(world.polls_to("U1")[0].message)[2].value
    # The manager was not asked; someone from another workspace neither.
    for actor in (Actor("slack", "T1", "UMGR"), Actor("slack", "T9", "U1")):
        result = await world.interactions.on_action(actor, Action.PULSE_ANSWER, value)
        assert result.notice and not result.changed
    for junk in ("", "x:y:z", "1:key:9", "1::3", "abc"):
        result = await world.interactions.on_action(
            Actor("slack", "T1", "U1"), Action.PULSE_ANSWER, junk
        )
        assert result.notice and not result.changed
    assert await _answers(db) == []


async def test_closing_seals_the_answers(db: Database) -> None:
    world = await _sent(db)
    for index, value in enumerate((1, 2, 3, 4, 5), start=1):
        await world.click(f"U{index}", value)
    before = {a.id for a in await _answers(db)}
    assert all(a.key_hash for a in await _answers(db))
    (poll,) = await world.polls()
    await world.run_until(poll.closes_at + timedelta(minutes=1), step=timedelta(hours=6))
    after = await _answers(db)
    # Same values, new ids, and no key hash left to match against anyone's message.
    assert sorted(a.value for a in after) == [1, 2, 3, 4, 5]
    assert not before & {a.id for a in after}
    assert all(a.key_hash is None for a in after)
    # Late clicks change nothing.
    result = await world.click("U6", 5, original=True)
    assert result.notice and "closed" in result.notice
    assert len(await _answers(db)) == 5
