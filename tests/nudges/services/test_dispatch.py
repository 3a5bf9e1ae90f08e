from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryStatus
from nudges.ports import DeliveryError, FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

# Monday 2026-11-23 08:00 UTC = 09:00 in Amsterdam; the default cadence is Tuesday 10:00.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

FAST = EngineConfig(
    send_rate_per_workspace=1000,
    initial_rate=1000,
    backoff_base=timedelta(seconds=10),
    max_pause=0.01,
)


def dispatcher(db: Database, clock: FakeClock, messenger: InMemoryMessenger) -> Dispatcher:
    return Dispatcher(
        db, clock, default_catalogue(), {"slack": messenger}, FAST, rng=random.Random(1)
    )


async def deliveries(db: Database) -> list[Delivery]:
    async with db.session() as s:
        return list((await s.scalars(select(Delivery).order_by(Delivery.id))).all())


async def test_nothing_before_the_slot_then_one_nudge_at_it(db: Database) -> None:
    clock = FakeClock(MONDAY)
    messenger = InMemoryMessenger()
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA", "UB"]})
    d = dispatcher(db, clock, messenger)
    assert (await d.tick()).sent == 0
    clock.set(TUESDAY_10_AMS)
    result = await d.tick()
    assert result.sent == 1
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.SENT
    assert row.idempotency_key == f"nudge:{row.recipient_id}:2026-W48"
    assert row.scheduled_at == TUESDAY_10_AMS
    assert messenger.sent[0].recipient.user_external_id == "UMGR"
    assert messenger.sent[0].message.metadata == {"delivery_id": str(row.id)}


async def test_repeated_ticks_and_a_second_dispatcher_never_send_twice(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    first = dispatcher(db, clock, messenger)
    second = dispatcher(db, clock, messenger)
    for _ in range(3):
        await first.tick()
        await second.tick()
        clock.advance(timedelta(minutes=1))
    assert len(messenger.sent) == 1
    assert len(await deliveries(db)) == 1


async def test_transient_failures_back_off_then_succeed(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    messenger.fail_next(
        DeliveryError("ratelimited", permanent=False, retry_after=30),
        DeliveryError("server_error", permanent=False),
    )
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    d = dispatcher(db, clock, messenger)
    assert (await d.tick()).deferred == 1
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at >= clock.now() + timedelta(seconds=30)
    assert row.last_error == "ratelimited"
    assert (await d.tick()).sent == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    await d.tick()
    clock.advance(timedelta(minutes=5))
    await d.tick()
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 2  # being rate-limited is no failed attempt; the 5xx was
    assert len(messenger.sent) == 1


async def test_gives_up_after_max_attempts(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    messenger.fail_next(*[DeliveryError("server_error", permanent=False)] * 10)
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    d = dispatcher(db, clock, messenger)
    for _ in range(FAST.max_attempts + 2):
        await d.tick()
        clock.advance(timedelta(minutes=15))
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == FAST.max_attempts
    assert row.last_error.startswith(f"gave up after {FAST.max_attempts} attempts")


async def test_permanent_failure_marks_the_person_unreachable(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    messenger.fail_next(DeliveryError("user_not_found", permanent=True))
    ids = await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    d = dispatcher(db, clock, messenger)
    await d.tick()
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == 1
    async with db.session() as s:
        person = await s.get(Person, ids["UMGR"])
        assert person is not None
        assert person.reachable is False
        assert person.unreachable_reason == "user_not_found"
    clock.advance(timedelta(days=7))
    await d.tick()
    assert len(await deliveries(db)) == 1  # no more nudges planned for an unreachable manager


async def test_budget_holds_back_nudges_beyond_the_weekly_limit(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    async with db.session() as s:
        ws = (await s.scalars(select(Workspace))).one()
        ws.settings = {"budget": 1}
        await s.commit()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    async with db.session() as s:
        ws = (await s.scalars(select(Workspace))).one()
        mgr = (await s.scalars(select(Person).where(Person.external_id == "UMGR"))).one()
        new_id = await d.insert_delivery(
            s,
            idempotency_key="nudge:extra",
            workspace_id=ws.id,
            recipient_id=mgr.id,
            kind="nudge",
            content_key=default_catalogue().nudges[0].key,
            scheduled_at=clock.now(),
        )
        await s.commit()
    await d.tick()
    async with db.session() as s:
        extra = await s.get(Delivery, new_id)
        assert extra is not None
        assert extra.status == DeliveryStatus.CANCELLED
        assert extra.last_error == "weekly message budget reached"
    assert len(messenger.sent) == 1


async def test_a_late_tick_waits_for_working_hours(db: Database) -> None:
    # The service was down from Tuesday morning until 18:30; the nudge goes out Wednesday 09:00.
    clock = FakeClock(datetime(2026, 11, 24, 17, 30, tzinfo=UTC))
    messenger = InMemoryMessenger()
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    d = dispatcher(db, clock, messenger)
    await d.tick()
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert row.attempts == 0
    clock.set(row.next_attempt_at)
    await d.tick()
    assert len(messenger.sent) == 1


async def test_paused_and_opted_out_managers_get_nothing(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    await make_org(db, created=MONDAY, managers={"UP": ["UA"], "UO": ["UB"], "UOK": ["UC"]})
    async with db.session() as s:
        for p in (await s.scalars(select(Person))).all():
            if p.external_id == "UP":
                p.paused_until = TUESDAY_10_AMS.date()
            if p.external_id == "UO":
                p.opted_out = True
        await s.commit()
    await dispatcher(db, clock, messenger).tick()
    assert [s.recipient.user_external_id for s in messenger.sent] == ["UOK"]


async def test_a_workspace_wide_failure_does_not_mark_people_unreachable(db: Database) -> None:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    messenger.fail_next(
        DeliveryError("token_revoked", permanent=True, scope="workspace"),
        DeliveryError("invalid_blocks", permanent=True, scope="message"),
    )
    ids = await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    d = dispatcher(db, clock, messenger)
    await d.tick()
    (row,) = await deliveries(db)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "token_revoked"
    async with db.session() as s:
        person = await s.get(Person, ids["UMGR"])
        assert person is not None
        assert person.reachable is True
    # A refused message says nothing about the person either.
    clock.advance(timedelta(days=7))
    await d.tick()
    async with db.session() as s:
        person = await s.get(Person, ids["UMGR"])
        assert person is not None
        assert person.reachable is True
    # Once the bot can post again, the next week's nudge goes out as usual.
    clock.advance(timedelta(days=7))
    await d.tick()
    assert len(messenger.sent) == 1


async def test_a_person_reactivated_on_the_platform_is_reachable_again(db: Database) -> None:
    from nudges.people.directory import record_profile

    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    async with db.session() as s:
        ws = (await s.scalars(select(Workspace))).one()
        person = await record_profile(s, ws, "UA", timezone=None, locale=None, deleted=True)
        assert person.reachable is False
        person = await record_profile(s, ws, "UA", timezone=None, locale=None, deleted=False)
        assert person.reachable is True
        assert person.unreachable_reason is None
        # Someone unreachable for another reason (the platform said user_not_found) stays so.
        person.reachable = False
        person.unreachable_reason = "user_not_found"
        person = await record_profile(s, ws, "UA", timezone=None, locale=None, deleted=False)
        assert person.reachable is False
