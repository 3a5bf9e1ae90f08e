"""Plan ahead: a slot's nudges are stored before it, kept in step with the cadence, sent once."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from nudges.coaching.preview import preview
from nudges.coaching.upcoming import next_free_occurrence
from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryStatus, Frequency, Scope
from nudges.ports import FakeClock
from nudges.scheduling.cadences import NUDGE, apply_spec, find_or_add_rule
from nudges.scheduling.calendar import CadenceSpec
from nudges.services.dispatch import Dispatcher, EngineConfig, TickResult
from nudges.services.ticker import Ticker
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

# Tuesday 2026-11-24 10:00 in Amsterdam: the default cadence's slot.
SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONFIG = EngineConfig(
    send_rate_per_workspace=1000, initial_rate=1000, plan_ahead=timedelta(hours=2)
)


def dispatcher(db: Database, clock: FakeClock, messenger: InMemoryMessenger) -> Dispatcher:
    return Dispatcher(
        db, clock, default_catalogue(), {"slack": messenger}, CONFIG, rng=random.Random(1)
    )


async def nudges(db: Database) -> list[Delivery]:
    async with db.session() as s:
        return list((await s.scalars(select(Delivery).order_by(Delivery.id))).all())


async def set_cadence(db: Database, spec: CadenceSpec, when: datetime) -> None:
    async with db.session() as s:
        workspace = (await s.scalars(select(Workspace))).one()
        rule, _ = await find_or_add_rule(
            s, workspace_id=workspace.id, purpose=NUDGE, scope=Scope.WORKSPACE, key="workspace"
        )
        apply_spec(rule, spec, when)
        await s.commit()


async def test_a_slot_is_planned_ahead_with_its_choice_and_only_sent_at_the_slot(
    db: Database,
) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA", "UB"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    result = await d.tick()
    assert (result.planned, result.sent) == (1, 0)
    (planned,) = await nudges(db)
    assert planned.status == DeliveryStatus.PENDING and planned.scheduled_at == SLOT
    assert planned.content_key and planned.reason and planned.payload["reason_key"]
    # Ticks before the slot plan nothing twice and send nothing.
    clock.advance(timedelta(minutes=30))
    assert (await d.tick()).planned == 0 and not messenger.sent
    clock.set(SLOT)
    assert (await d.tick()).sent == 1
    (sent,) = await nudges(db)
    assert sent.id == planned.id and sent.content_key == planned.content_key
    assert sent.status == DeliveryStatus.SENT and len(messenger.sent) == 1


async def test_nothing_is_planned_beyond_the_horizon(db: Database) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    d = dispatcher(db, FakeClock(SLOT - timedelta(hours=3)), InMemoryMessenger())
    assert (await d.tick()).planned == 0
    assert await nudges(db) == []


async def test_a_cadence_changed_shortly_before_the_slot_refreshes_the_plan(db: Database) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    (weekly,) = await nudges(db)
    assert not await d.plans_outdated()
    # Same period, later moment: the planned row moves with it.
    clock.set(SLOT - timedelta(minutes=2))
    await set_cadence(db, CadenceSpec(Frequency.WEEKLY, 1, time(10, 30)), clock.now())
    assert await d.plans_outdated()
    await d.tick()
    (moved,) = await nudges(db)
    assert moved.id == weekly.id and moved.scheduled_at == SLOT + timedelta(minutes=30)
    # Another cadence altogether: the weekly plan is dropped and today's weekday one planned.
    await set_cadence(db, CadenceSpec(Frequency.WEEKDAYS, None, time(10, 0)), clock.now())
    assert (await d.tick()).planned == 1
    (daily,) = await nudges(db)
    assert daily.period_key == "2026-11-24" and daily.scheduled_at == SLOT
    clock.set(SLOT + timedelta(hours=1))
    assert (await d.tick()).sent == 1
    assert len(messenger.sent) == 1


async def test_a_pause_after_planning_drops_the_plan(db: Database) -> None:
    ids = await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    assert len(await nudges(db)) == 1
    async with db.session() as s:
        manager = await s.get(Person, ids["UMGR"])
        assert manager is not None
        manager.paused_until = date(2026, 11, 30)
        await s.commit()
    await d.tick()
    assert await nudges(db) == []
    clock.set(SLOT)
    await d.tick()
    assert not messenger.sent


async def test_a_plan_being_sent_is_never_dropped_or_moved_by_a_refresh(db: Database) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    clock.set(SLOT)
    (claimed,) = await d.claim()  # a worker took it and is sending it
    await set_cadence(db, CadenceSpec(Frequency.WEEKDAYS, None, time(11, 0)), clock.now())
    await d.plan()
    rows = {r.id: r for r in await nudges(db)}
    assert rows[claimed].status == DeliveryStatus.SENDING
    assert rows[claimed].scheduled_at == SLOT
    # The new cadence's own occurrence later today is a period of its own.
    assert {r.period_key for r in rows.values()} == {"2026-W48", "2026-11-24"}


async def test_preview_and_the_next_nudge_show_the_planned_nudge(db: Database) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA", "UB"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    await dispatcher(db, clock, InMemoryMessenger()).tick()
    (planned,) = await nudges(db)
    async with db.session() as s:
        items = await preview(
            s, default_catalogue(), clock.now(), workspace_id="T1", person_id="UMGR", weeks=3
        )
        manager = await s.get(Person, planned.recipient_id)
        workspace = await s.get(Workspace, planned.workspace_id)
        assert manager is not None and workspace is not None
        upcoming = await next_free_occurrence(s, workspace, manager, clock.now())
    assert items[0].nudge_key == planned.content_key and items[0].status == "planned"
    assert items[0].utc_time == SLOT.isoformat(timespec="minutes")
    # The weeks after it see the planned nudge as sent: no repeat right after it.
    assert all(item.nudge_key != planned.content_key for item in items[1:])
    assert upcoming is not None and upcoming.utc == SLOT


async def test_the_ticker_plans_at_once_when_a_cadence_changes(db: Database) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT - timedelta(hours=3))
    ticker = Ticker(dispatcher(db, clock, InMemoryMessenger()), interval_seconds=30)
    try:
        await ticker.tick()
        assert await ticker.poll_due() is None  # nothing due, nothing changed
        clock.set(SLOT - timedelta(seconds=30))
        await set_cadence(db, CadenceSpec(Frequency.WEEKDAYS, None, time(10, 0)), clock.now())
        result = await ticker.poll_due()
        assert result is not None and result.planned == 1
        assert await ticker.poll_due() is None
    finally:
        await ticker.stop()


async def test_a_plan_left_unsent_past_the_lookback_is_dropped_not_sent_late(
    db: Database,
) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    # The service was down over the slot and long after it.
    clock.set(SLOT + CONFIG.lookback + timedelta(hours=1))
    result = await d.tick()
    assert result.sent == 0 and not messenger.sent
    (dropped,) = await nudges(db)
    assert dropped.status == DeliveryStatus.CANCELLED
    assert dropped.last_error == "planned for a slot that passed while nobody sent it"


async def test_each_workspace_gets_its_first_chunk_planned_before_any_its_last(
    db: Database,
) -> None:
    created = SLOT - timedelta(days=7)
    await make_org(db, created=created, managers={"UM1": ["UA"], "UM2": ["UB"]})
    await make_org(db, created=created, workspace="T2", managers={"UM3": ["UC"], "UM4": ["UD"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    config = EngineConfig(plan_chunk=1)
    d = Dispatcher(db, clock, default_catalogue(), {"slack": InMemoryMessenger()}, config)
    announced: list[int] = []
    assert await d.plan(announced.append) == 4
    first, second = sorted(set(announced))
    assert announced[:4] == [first, second, first, second]
    assert len(await nudges(db)) == 4


async def test_a_plan_its_cadence_no_longer_has_is_not_sent_even_before_a_refresh(
    db: Database,
) -> None:
    await make_org(db, created=SLOT - timedelta(days=7), managers={"UMGR": ["UA"], "UM2": ["UB"]})
    clock = FakeClock(SLOT - timedelta(hours=1))
    messenger = InMemoryMessenger()
    d = dispatcher(db, clock, messenger)
    await d.tick()
    clock.set(SLOT - timedelta(seconds=1))
    # UMGR's cadence moves to another day; UM2 keeps the workspace's (re-saved, unchanged).
    async with db.session() as s:
        manager = (await s.scalars(select(Person).where(Person.external_id == "UMGR"))).one()
        rule, _ = await find_or_add_rule(
            s,
            workspace_id=manager.workspace_id,
            purpose=NUDGE,
            scope=Scope.PERSON,
            key=f"person:{manager.id}",
            person_id=manager.id,
        )
        apply_spec(rule, CadenceSpec(Frequency.WEEKLY, 3, time(10, 0)), clock.now())
        await s.commit()
    await set_cadence(db, CadenceSpec(Frequency.WEEKLY, 1, time(10, 0)), clock.now())
    clock.set(SLOT)
    # Sent before any planning pass could refresh the plan.
    ids = await d.claim()
    result = TickResult()
    await d.send_claimed(ids, result)
    rows = {r.recipient_id: r for r in await nudges(db)}
    assert rows[manager.id].status == DeliveryStatus.CANCELLED
    assert rows[manager.id].last_error == "the cadence changed after it was planned"
    assert [m.recipient.user_external_id for m in messenger.sent] == ["UM2"]
