from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from nudges.commands.service import CommandService
from nudges.domain import DeliveryKind, DeliveryStatus, Kind
from nudges.ports import DeliveryError
from nudges.services.dispatch import Dispatcher
from nudges.store.deliveries import Delivery
from tests.nudges.commands.conftest import (
    ADMIN,
    FAST,
    MANAGER,
    MONDAY,
    TUESDAY_10_AMS,
    Harness,
    snapshot,
)


async def deliveries(h: Harness) -> list[Delivery]:
    async with h.db.session() as s:
        return list((await s.scalars(select(Delivery).order_by(Delivery.id))).all())


# --- test ----------------------------------------------------------------------------------


async def test_test_sends_the_admin_a_sample_at_once(harness: Harness) -> None:
    reply = await harness.run("test")
    assert reply.ok
    assert reply.text == "A sample nudge is in your direct messages now."
    (sent,) = harness.messenger.to("UADMIN")
    (row,) = await deliveries(harness)
    assert row.kind == DeliveryKind.SAMPLE.value
    assert row.status == DeliveryStatus.SENT.value
    assert row.recipient_id == harness.ids["UADMIN"]
    assert row.payload["explicit"] is True
    assert row.payload["reason_key"] == "planner.reason.sample"
    nudge = harness.dispatcher.catalogue.nudge(row.content_key)
    assert not nudge.needs_report
    assert sent.message.metadata == {"delivery_id": str(row.id)}
    (entry,) = await harness.audit()
    assert (entry.action, entry.target) == ("nudge.test", "person:UADMIN")
    assert entry.details["delivery_id"] == row.id


async def test_a_manager_gets_the_sample_the_planner_picks(harness: Harness) -> None:
    await harness.update_person("UMGR", is_admin=True)
    assert (await harness.run("test", MANAGER)).ok
    (row,) = await deliveries(harness)
    assert row.payload["reason_key"] != "planner.reason.sample"
    assert row.payload["explicit"] is True
    assert len(harness.messenger.to("UMGR")) == 1


async def test_asking_twice_sends_two_samples(harness: Harness) -> None:
    assert (await harness.run("test")).ok
    assert (await harness.run("test")).ok
    assert len(harness.messenger.to("UADMIN")) == 2


async def test_a_sample_at_the_weekend_is_sent_only_when_confirmed(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 28, 21, 0, tzinfo=UTC))  # Saturday evening
    before = await snapshot(harness.db)
    reply = await harness.run("test")
    assert reply.ok and harness.messenger.sent == []
    assert "You are not working right now (weekend on Saturday 28 November" in reply.text, (
        reply.text
    )
    assert "`/nudges test confirm`" in reply.text
    assert await snapshot(harness.db) == before
    assert (await harness.run("test confirm")).ok
    assert len(harness.messenger.to("UADMIN")) == 1


async def test_test_says_why_it_cannot_send(harness: Harness) -> None:
    service = CommandService(
        Dispatcher(harness.db, harness.clock, harness.dispatcher.catalogue, {}, FAST)
    )
    before = await snapshot(harness.db)
    reply = await service.run(ADMIN, "test", prefix="/nudges ")
    assert not reply.ok
    assert "I cannot send messages on slack right now" in reply.text
    assert await snapshot(harness.db) == before
    await harness.update_person("UADMIN", opted_out=True)
    before = await snapshot(harness.db)
    reply = await harness.run("test")
    assert not reply.ok
    assert "You opted out of messages from me. Say `/nudges me optin` first." in reply.text
    assert await snapshot(harness.db) == before


async def test_test_reports_a_failed_delivery(harness: Harness) -> None:
    harness.messenger.fail_next(DeliveryError("channel_not_found", permanent=True))
    reply = await harness.run("test")
    assert reply.ok
    assert reply.text == "The sample could not be delivered: channel_not_found."
    harness.messenger.fail_next(DeliveryError("ratelimited", permanent=False))
    await harness.update_person("UADMIN", reachable=True)
    reply = await harness.run("test")
    assert "I could not deliver the sample right away (ratelimited)" in reply.text


# --- send-now ------------------------------------------------------------------------------


async def test_send_now_sends_the_next_nudge_and_the_tick_does_not_repeat_it(
    harness: Harness,
) -> None:
    reply = await harness.run("send-now <@UMGR>")
    assert reply.ok
    assert reply.text.startswith("Sent to <@UMGR>: “")
    assert "The nudge planned for Tuesday 24 November, 10:00 will not go out again." in reply.text
    (row,) = await deliveries(harness)
    assert row.idempotency_key == f"nudge:{harness.ids['UMGR']}:2026-W48"
    assert row.period_key == "2026-W48"
    assert row.kind == DeliveryKind.NUDGE.value
    assert row.status == DeliveryStatus.SENT.value
    assert row.payload["explicit"] is True
    assert len(harness.messenger.to("UMGR")) == 1
    (entry,) = await harness.audit()
    assert (entry.action, entry.target) == ("nudge.send_now", "person:UMGR")

    harness.clock.set(TUESDAY_10_AMS)
    result = await harness.dispatcher.tick()
    assert (result.planned, result.sent) == (0, 0)
    harness.clock.set(TUESDAY_10_AMS + timedelta(minutes=5))
    await harness.dispatcher.tick()
    assert len(harness.messenger.to("UMGR")) == 1
    # The week after goes out as planned.
    harness.clock.set(TUESDAY_10_AMS + timedelta(days=7))
    assert (await harness.dispatcher.tick()).sent == 1
    assert len(harness.messenger.to("UMGR")) == 2

    reply = await harness.run("status <@UMGR>")
    assert "- Next nudge: Tuesday 8 December, 10:00" in reply.text


async def test_send_now_twice_says_it_was_already_sent(harness: Harness) -> None:
    assert (await harness.run("send-now <@UMGR>")).ok
    before = await snapshot(harness.db)
    reply = await harness.run("send-now <@UMGR>")
    assert reply.ok
    assert reply.text == (
        "The nudge <@UMGR> would get on Tuesday 24 November, 10:00 has already been sent "
        "(Monday 23 November, 09:00)."
    )
    assert await snapshot(harness.db) == before
    assert len(harness.messenger.to("UMGR")) == 1
    # Status skips the period that is already used up.
    assert "- Next nudge: Tuesday 1 December, 10:00" in (await harness.run("status <@UMGR>")).text


async def test_send_now_retries_a_held_back_delivery_of_that_period(harness: Harness) -> None:
    async with harness.db.session() as s:
        s.add(
            Delivery(
                idempotency_key=f"nudge:{harness.ids['UMGR']}:2026-W48",
                workspace_id=harness.ids["__workspace__"],
                recipient_id=harness.ids["UMGR"],
                kind=DeliveryKind.NUDGE.value,
                content_key="coffee-two-minutes",
                period_key="2026-W48",
                payload={"kind": "coffee_checkin", "member": "UA"},
                scheduled_at=TUESDAY_10_AMS,
                next_attempt_at=TUESDAY_10_AMS,
                status=DeliveryStatus.CANCELLED.value,
                attempts=1,
                last_error="recipient paused",
            )
        )
        await s.commit()
    reply = await harness.run("send-now <@UMGR>")
    assert reply.ok, reply.text
    assert "Sent to <@UMGR>" in reply.text
    (row,) = await deliveries(harness)
    assert row.status == DeliveryStatus.SENT.value
    assert row.payload["explicit"] is True
    assert row.payload["member"] == "UA"


async def test_send_now_reaches_a_paused_manager(harness: Harness) -> None:
    await harness.update_person("UMGR", paused_until=date(2026, 12, 20))
    reply = await harness.run("send-now <@UMGR>")
    assert reply.ok
    assert len(harness.messenger.to("UMGR")) == 1


async def test_send_now_refuses_what_cannot_be_sent(harness: Harness) -> None:
    before = await snapshot(harness.db)
    reply = await harness.run("send-now <@UNOBODY>")
    assert not reply.ok
    assert "I don't know <@UNOBODY> yet" in reply.text
    await harness.update_person("UMGR", opted_out=True)
    before = await snapshot(harness.db)
    reply = await harness.run("send-now <@UMGR>")
    assert not reply.ok
    assert reply.text == (
        "<@UMGR> opted out of messages from me, so I will not send them anything."
    )
    assert await snapshot(harness.db) == before
    only_with_a_report = next(
        kind
        for kind in Kind
        if all(n.needs_report for n in harness.dispatcher.catalogue.by_kind(kind))
    )
    await harness.update_person("UMGR", opted_out=False, enabled_kinds=[only_with_a_report.value])
    await harness.update_person("UA", opted_out=True)
    await harness.update_person("UB", reachable=False)
    before = await snapshot(harness.db)
    reply = await harness.run("send-now <@UMGR>")
    assert not reply.ok
    assert "No nudge fits <@UMGR> right now" in reply.text
    assert await snapshot(harness.db) == before
    assert harness.messenger.sent == []


async def test_send_now_reports_a_failed_delivery_in_dutch(harness: Harness) -> None:
    await harness.update_person("UADMIN", locale="nl")
    harness.messenger.fail_next(DeliveryError("user_not_found", permanent=True))
    reply = await harness.run("send-now <@UMGR>")
    assert reply.ok
    assert reply.text == "Hij kon niet bezorgd worden bij <@UMGR>: user_not_found."


async def test_send_now_outside_working_hours_sends_once_confirmed(harness: Harness) -> None:
    harness.clock.set(MONDAY - timedelta(hours=6))  # Monday 03:00 in Amsterdam
    reply = await harness.run("send-now <@UMGR>")
    assert "before working hours; starts Monday 23 November, 09:00" in reply.text
    assert harness.messenger.to("UMGR") == []
    assert (await harness.run("send-now <@UMGR> confirm")).ok
    assert len(harness.messenger.to("UMGR")) == 1
