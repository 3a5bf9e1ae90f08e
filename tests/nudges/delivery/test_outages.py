from __future__ import annotations

from datetime import timedelta

import pytest

from nudges.delivery import Dispatcher, EngineConfig
from nudges.delivery.engine import DB_ERRORS
from nudges.domain import DeliveryStatus
from nudges.messages import Message
from nudges.ports import FakeClock, MessageRef, Recipient
from nudges.store.database import Database
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


def unreachable(database_url: str) -> Database:
    if database_url.startswith("postgresql"):
        return Database("postgresql+asyncpg://postgres@127.0.0.1:9/gone")
    return Database("sqlite+aiosqlite:////nonexistent-dir/gone.sqlite3")


class CuttingMessenger(LookingMessenger):
    """Take the database away from the dispatcher after a number of posts."""

    def __init__(self, cut_after: int) -> None:
        super().__init__()
        self.cut_after = cut_after
        self.dispatcher: Dispatcher | None = None
        self.broken: Database | None = None

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        ref = await super().send(recipient, message, retry=retry)
        if sum(self.posts.values()) == self.cut_after:
            assert self.dispatcher is not None and self.broken is not None
            self.dispatcher.db = self.broken
        return ref


async def test_the_database_gone_mid_batch_loses_nothing_and_doubles_nothing(
    db: Database, database_url: str
) -> None:
    ids = await seed(db, {"T1": 12, "T2": 12})
    clock = FakeClock(NOW)
    messenger = CuttingMessenger(cut_after=5)
    config = EngineConfig(
        send_rate_per_workspace=1000, initial_rate=1000, batch_size=6, max_in_flight=2
    )
    dispatcher = make_dispatcher(db, clock, messenger, config)
    messenger.dispatcher, messenger.broken = dispatcher, unreachable(database_url)
    with pytest.raises(DB_ERRORS):
        await dispatcher.tick()
    # Outcomes of what went out are held, not lost; nothing was failed meanwhile.
    assert dispatcher._unrecorded
    assert not [r for r in await rows(db) if r.status == DeliveryStatus.FAILED]
    with pytest.raises(DB_ERRORS):
        await dispatcher.tick()  # still down: the tick gives up quietly, holding on
    await messenger.broken.dispose()
    dispatcher.db = db  # the database is back
    clock.advance(timedelta(seconds=1))
    await dispatcher.tick()
    after = await rows(db)
    assert {r.status for r in after} == {DeliveryStatus.SENT}
    assert set(messenger.posts.values()) == {1} and len(messenger.posts) == len(ids)
    assert all(r.attempts == 1 for r in after)
