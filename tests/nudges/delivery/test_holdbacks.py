"""The shared checks before a send, and the weekly budget's count, on real rows."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from nudges.delivery.holdbacks import HoldBacks, sent_this_week
from nudges.delivery.kinds import KindRules
from nudges.domain import DeliveryStatus
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from tests.nudges.delivery.world import NOW, PING, PingHandler, seed


class Budgeted(PingHandler):
    rules = KindRules(budgeted=True)


class Deferred(PingHandler):
    rules = KindRules(deferred_while_paused=True)


async def _one(db: Database) -> tuple[Delivery, Workspace, Person]:
    await seed(db, {"T1": 1})
    async with db.session() as s:
        # Planned, not explicit: every check applies.
        await s.execute(update(Delivery).values(payload={}))
        await s.commit()
        delivery = (await s.scalars(select(Delivery))).one()
        workspace = (await s.scalars(select(Workspace))).one()
        person = (await s.scalars(select(Person))).one()
    return delivery, workspace, person


async def test_an_opted_out_or_unreachable_recipient_is_cancelled(db: Database) -> None:
    delivery, workspace, person = await _one(db)
    checks = HoldBacks({PING: PingHandler()})
    async with db.session() as s:
        person.opted_out = True
        assert await checks.verdict(s, delivery, workspace, person, NOW, {}) == (
            DeliveryStatus.CANCELLED,
            "recipient opted out",
            None,
        )
        person.opted_out, person.reachable = False, False
        verdict = await checks.verdict(s, delivery, workspace, person, NOW, {})
        assert verdict is not None and verdict[1] == "recipient unreachable"
        person.reachable = True
        assert await checks.verdict(s, delivery, workspace, person, NOW, {}) is None


async def test_an_unknown_kind_fails(db: Database) -> None:
    delivery, workspace, person = await _one(db)
    async with db.session() as s:
        verdict = await HoldBacks({}).verdict(s, delivery, workspace, person, NOW, {})
    assert verdict == (DeliveryStatus.FAILED, "no handler for kind 'ping'", None)


async def test_a_pause_cancels_or_defers_by_kind(db: Database) -> None:
    delivery, workspace, person = await _one(db)
    person.paused_until = date(2026, 11, 26)
    async with db.session() as s:
        cancelled = await HoldBacks({PING: PingHandler()}).verdict(
            s, delivery, workspace, person, NOW, {}
        )
        deferred = await HoldBacks({PING: Deferred()}).verdict(
            s, delivery, workspace, person, NOW, {}
        )
    assert cancelled == (DeliveryStatus.CANCELLED, "recipient paused", None)
    assert deferred is not None and deferred[:2] == (DeliveryStatus.PENDING, "paused")
    assert deferred[2] is not None and deferred[2].date() == date(2026, 11, 27)


async def test_outside_working_time_waits_for_the_next_working_moment(db: Database) -> None:
    delivery, workspace, person = await _one(db)
    evening = NOW + timedelta(hours=10)  # 20:00 in Amsterdam
    async with db.session() as s:
        verdict = await HoldBacks({PING: PingHandler()}).verdict(
            s, delivery, workspace, person, evening, {}
        )
    assert verdict is not None and verdict[:2] == (DeliveryStatus.PENDING, "outside working time")
    assert verdict[2] is not None and verdict[2] > evening


async def test_the_budget_counts_within_a_batch_and_then_cancels(db: Database) -> None:
    delivery, workspace, person = await _one(db)
    workspace.settings = {**(workspace.settings or {}), "budget": 2}
    counts: dict[int, int] = {person.id: 1}
    checks = HoldBacks({PING: Budgeted()})
    async with db.session() as s:
        assert await checks.verdict(s, delivery, workspace, person, NOW, counts) is None
        assert counts[person.id] == 2
        verdict = await checks.verdict(s, delivery, workspace, person, NOW, counts)
    assert verdict == (DeliveryStatus.CANCELLED, "weekly message budget reached", None)


async def test_the_week_counts_sends_since_monday_in_the_recipients_zone(db: Database) -> None:
    _, workspace, person = await _one(db)
    monday = NOW.replace(hour=0) - timedelta(days=1, hours=1)  # Monday 00:00 in Amsterdam
    async with db.session() as s:
        for n, sent_at in enumerate((monday + timedelta(minutes=1), monday - timedelta(minutes=1))):
            s.add(
                Delivery(
                    idempotency_key=f"x:{person.id}:{n}",
                    workspace_id=workspace.id,
                    recipient_id=person.id,
                    kind=PING,
                    status=DeliveryStatus.SENT.value,
                    sent_at=sent_at,
                    scheduled_at=sent_at,
                    next_attempt_at=sent_at,
                    created_at=sent_at,
                )
            )
        await s.commit()
        assert await sent_this_week(s, workspace, [person], NOW) == {person.id: 1}
        assert await sent_this_week(s, workspace, [], NOW) == {}
