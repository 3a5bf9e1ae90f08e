"""Working weeks, a person's country and time off, set through commands and shown in status."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.store.audit import AuditEntry
from nudges.store.deliveries import Delivery
from nudges.store.org import ReportingLine
from nudges.store.workweeks import TimeOff, WorkPattern
from tests.nudges.commands.conftest import MANAGER, MEMBER, Harness


async def patterns(h: Harness) -> dict[str, tuple[str, str, str, str]]:
    async with h.db.session() as s:
        rows = (await s.scalars(select(WorkPattern))).all()
        return {r.scope_key: (r.days, r.start_time, r.end_time, r.source) for r in rows}


async def leave(h: Harness) -> list[tuple[int, date, date]]:
    async with h.db.session() as s:
        rows = (await s.scalars(select(TimeOff).order_by(TimeOff.first_day))).all()
        return [(r.person_id, r.first_day, r.last_day) for r in rows]


async def actions(h: Harness) -> list[str]:
    async with h.db.session() as s:
        return list((await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())


async def test_an_admin_sets_a_part_time_week_and_status_shows_why_friday_moved(
    harness: Harness,
) -> None:
    h = harness
    reply = await h.run("workweek <@UMGR> mon-thu 08:30-16:30")
    assert reply.ok and "Mon-Thu, 08:30–16:30" in reply.text, reply.text
    key = f"person:{h.ids['UMGR']}"
    assert (await patterns(h))[key] == ("0,1,2,3", "08:30", "16:30", "admin")
    assert (await h.run("cadence <@UMGR> weekly fri 10:00")).ok
    status = (await h.run("status <@UMGR>")).text
    assert "Working week: Mon-Thu, 08:30–16:30 (their own)" in status
    assert "Friday 20 November is <@UMGR>'s day off → Monday 23 November, 10:00" in status
    assert "workweek.set" in await actions(h)


async def test_without_hours_the_current_hours_stay_and_clear_falls_back(harness: Harness) -> None:
    h = harness
    assert (await h.run("workweek workspace mon-fri 07:00-15:00")).ok
    assert (await h.run("workweek <@UA> mon,tue,thu,fri")).ok
    assert (await patterns(h))[f"person:{h.ids['UA']}"][:3] == ("0,1,3,4", "07:00", "15:00")
    reply = await h.run("workweek <@UA> clear")
    assert reply.ok and "the workspace's applies: Mon-Fri, 07:00–15:00" in reply.text, reply.text
    assert f"person:{h.ids['UA']}" not in await patterns(h)


async def test_a_member_sets_their_own_week_and_leave(harness: Harness) -> None:
    h = harness
    reply = await h.run("me workweek sun-thu 07:00-15:00", MEMBER)
    assert reply.ok and "You work Sun-Thu, 07:00–15:00" in reply.text, reply.text
    assert (await patterns(h))[f"person:{h.ids['UA']}"][3] == "self"
    reply = await h.run("me away 2026-12-21 to 2027-01-03", MEMBER)
    assert reply.ok, reply.text
    assert await leave(h) == [(h.ids["UA"], date(2026, 12, 21), date(2027, 1, 3))]
    listed = (await h.run("me away", MEMBER)).text
    assert "Monday 21 December to Sunday 3 January" in listed
    status = (await h.run("me status", MEMBER)).text
    assert "Working week: Sun-Thu, 07:00–15:00 (their own)" in status
    assert "Away: Monday 21 December to Sunday 3 January" in status
    assert (await h.run("me away clear", MEMBER)).ok
    assert await leave(h) == []
    assert {"me.workweek", "me.away.add", "me.away.clear"} <= set(await actions(h))


async def test_leave_in_the_past_is_refused_with_an_example(harness: Harness) -> None:
    reply = await harness.run("me away 2026-01-05 to 2026-01-09", MANAGER)
    assert not reply.ok and "in the past" in reply.text and "me away 2027-07-19" in reply.text


async def test_a_persons_country_overrides_the_workspaces_and_clears(harness: Harness) -> None:
    h = harness
    reply = await h.run("country <@UB> DE-BY")
    assert reply.ok and "(DE-BY)" in reply.text, reply.text
    person = await h.person("UB")
    assert person is not None and person.country == "DE-BY"
    assert "Public holidays: Germany (DE-BY) (chosen)" in (await h.run("status <@UB>")).text
    assert (await h.run("country <@UB> clear")).ok
    person = await h.person("UB")
    assert person is not None and person.country is None
    workspace = await h.workspace()
    assert workspace.country == "NL"


async def test_members_cannot_set_someone_elses_week(harness: Harness) -> None:
    reply = await harness.run("workweek <@UB> mon-thu", MEMBER)
    assert not reply.ok
    assert await patterns(harness) == {}


async def test_dutch_replies_name_dutch_days(harness: Harness) -> None:
    h = harness
    await h.update_person("UA", locale="nl")
    reply = await h.run("me workweek ma-do 08:30-16:30", MEMBER)
    assert reply.ok and "ma-do, 08:30–16:30" in reply.text, reply.text


async def test_send_now_on_a_day_off_says_so_and_sends_only_when_confirmed(
    harness: Harness,
) -> None:
    h = harness
    assert (await h.run("workweek <@UMGR> tue-fri 08:30-16:30")).ok  # Monday is their day off
    reply = await h.run("send-now <@UMGR>")
    assert reply.ok and h.messenger.sent == []
    assert "is not working right now (day off on Monday 23 November" in reply.text, reply.text
    assert "`/nudges send-now <@UMGR> confirm`" in reply.text
    confirmed = await h.run("send-now <@UMGR> confirm")
    assert confirmed.ok and len(h.messenger.to("UMGR")) == 1, confirmed.text


async def test_the_workspace_week_moves_the_workspace_cadence_in_status(harness: Harness) -> None:
    h = harness
    reply = await h.run("workweek workspace wed-fri")
    assert reply.ok and "The workspace works Wed-Fri, 09:00–17:00" in reply.text, reply.text
    status = (await h.run("status")).text
    # The default cadence is Tuesday 10:00, which nobody on the workspace's week works.
    assert "Next nudge on this cadence: Wednesday 25 November, 10:00" in status, status
    assert "Working week: Wed-Fri, 09:00–17:00 (the workspace's)" in status
    assert "workweek.set" in await actions(h)


async def test_a_team_week_applies_to_its_members_under_the_org_charts_spelling(
    harness: Harness,
) -> None:
    h = harness
    async with h.db.session() as s:
        for line in (await s.scalars(select(ReportingLine))).all():
            line.team = "Team Blue"
        await s.commit()
    assert (await h.run("workweek #team blue sun-thu 07:00-15:00")).ok
    assert "team:Team Blue" in await patterns(h)
    status = (await h.run("status <@UA>")).text
    assert "Working week: Sun-Thu, 07:00–15:00 (their team's)" in status
    # A person's own week wins over the team's.
    assert (await h.run("workweek <@UA> mon-fri 09:00-17:00")).ok
    assert "Working week: Mon-Fri, 09:00–17:00 (their own)" in (await h.run("status <@UA>")).text


async def test_a_nudge_still_pending_when_leave_begins_lapses_instead_of_piling_up(
    harness: Harness,
) -> None:
    h = harness
    assert (await h.run("away <@UMGR> 2026-11-23 to 2026-12-04")).ok
    async with h.db.session() as s:
        new_id = await h.dispatcher.insert_delivery(
            s,
            idempotency_key="test:leave",
            workspace_id=h.ids["__workspace__"],
            recipient_id=h.ids["UMGR"],
            kind=DeliveryKind.NUDGE.value,
            content_key="coffee-newcomer",
            period_key="2026-W48",
            scheduled_at=h.clock.now(),
        )
        await s.commit()
    await h.dispatcher.tick()
    async with h.db.session() as s:
        row = await s.get(Delivery, new_id)
    assert row is not None
    assert (row.status, row.last_error) == (DeliveryStatus.CANCELLED.value, "recipient on time off")
    assert h.messenger.sent == []
