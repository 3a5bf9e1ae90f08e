"""The queue of rows: idempotent inserts, which keys exist, what is due and how much."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nudges.delivery import queue
from nudges.ports import FakeClock
from nudges.store.database import Database
from nudges.store.org import Person
from tests.nudges.delivery.world import NOW, PING, LookingMessenger, make_dispatcher, seed


async def test_an_insert_happens_once_per_key_and_keys_are_found_in_chunks(db: Database) -> None:
    await seed(db, {"T1": 1})
    async with db.session() as s:
        person = (await s.scalars(select(Person))).one()
        values = {
            "workspace_id": person.workspace_id,
            "recipient_id": person.id,
            "kind": PING,
            "scheduled_at": NOW + timedelta(hours=1),
        }
        first = await queue.insert_delivery(s, NOW, idempotency_key="k:1", **values)
        again = await queue.insert_delivery(s, NOW, idempotency_key="k:1", **values)
        await s.commit()
        assert first is not None and again is None
        keys = [f"none:{n}" for n in range(1200)] + ["k:1", f"{PING}:{person.id}:1"]
        assert await queue.existing_keys(s, keys) == {"k:1", f"{PING}:{person.id}:1"}


async def test_what_is_due_and_when_the_next_falls_due(db: Database) -> None:
    await seed(db, {"T1": 2, "T2": 1})
    dispatcher = make_dispatcher(db, FakeClock(NOW), LookingMessenger())
    assert len(await queue.due_workspaces(dispatcher.ground)) == 2
    assert await queue.depth(dispatcher.ground) == 3
    assert await queue.next_due(dispatcher.ground) == NOW - timedelta(minutes=1)
    await dispatcher.tick()
    assert await queue.due_workspaces(dispatcher.ground) == []
    assert await queue.depth(dispatcher.ground) == 0
    assert await dispatcher.next_due() is None


async def test_many_rows_go_in_together_and_only_new_keys_are_inserted(db: Database) -> None:
    await seed(db, {"T1": 1})
    async with db.session() as s:
        person = (await s.scalars(select(Person))).one()
        row = {
            "workspace_id": person.workspace_id,
            "recipient_id": person.id,
            "kind": PING,
            "scheduled_at": NOW,
        }
        taken = f"{PING}:{person.id}:1"
        rows = [{"idempotency_key": f"bulk:{n}", **row} for n in range(250)]
        found = await queue.insert_deliveries(s, NOW, [*rows, {**row, "idempotency_key": taken}])
        await s.commit()
        assert set(found) == {f"bulk:{n}" for n in range(250)}
        assert len(set(found.values())) == 250
        assert await queue.insert_deliveries(s, NOW, rows[:3]) == {}
