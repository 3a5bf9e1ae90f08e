"""Drive a small organisation through 12 weeks on a fake clock with two concurrent dispatchers.

Expected send times are worked out here by hand from the rules (wall-clock time in the
manager's zone, NL public holidays move a slot to the next working day, a pause skips slots),
independently of the calendar module under test. The window crosses the DST changes of New York
(14 March), Amsterdam (28 March) and Sydney (4 April), and Good Friday and Easter Monday.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nudges.coaching.interactions import Actor, Interactions
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, Frequency, Scope
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, FormId
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.cadence import CadenceRule
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, ReportingLine
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

START = datetime(2027, 2, 1, 0, 0, tzinfo=UTC)
END = START + timedelta(weeks=12)
NL_HOLIDAYS = {date(2027, 3, 26), date(2027, 3, 29)}  # Good Friday, Easter Monday
AMS, NY, SYD, KOL = (
    ZoneInfo("Europe/Amsterdam"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("Asia/Kolkata"),
)
PAUSED_UNTIL = date(2027, 2, 14)
COMMITMENT_DUE_ON = date(2027, 2, 10)


def weekly(
    zone: ZoneInfo, weekday: int, at: time, *, skip_until: date | None = None
) -> list[datetime]:
    """List every `weekday` at `at` local in the window, holidays moved to the next working day."""
    out = []
    day = START.astimezone(zone).date()
    while True:
        if day.weekday() == weekday and not (skip_until and day <= skip_until):
            send = day
            while send.weekday() >= 5 or send in NL_HOLIDAYS:
                send += timedelta(days=1)
            moment = datetime.combine(send, at, zone)
            if moment >= END:
                break
            if moment > START:
                out.append(moment)
        day += timedelta(days=1)
        if datetime.combine(day, time(0), zone) >= END + timedelta(days=7):
            break
    return out


EXPECTED = {
    # person rule, paused for the first two weeks
    "M_AMS": weekly(AMS, 1, time(10, 0), skip_until=PAUSED_UNTIL),
    # person rule; Easter Monday moves to Tuesday
    "M_NY": weekly(NY, 0, time(9, 30)),
    # team rule of team Harbour
    "M_SYD": weekly(SYD, 2, time(16, 0)),
    # workspace rule
    "M_KOL": weekly(KOL, 3, time(11, 0)),
}
SNOOZED_COPY = datetime(2027, 2, 5, 11, 0, tzinfo=KOL)
FOLLOWUP_AT = datetime.combine(COMMITMENT_DUE_ON, time(9, 0), NY)


def test_expected_schedule_is_what_the_scenario_claims() -> None:
    assert len(EXPECTED["M_AMS"]) == 10
    assert [len(EXPECTED[m]) for m in ("M_NY", "M_SYD", "M_KOL")] == [12, 12, 12]
    assert datetime(2027, 3, 30, 9, 30, tzinfo=NY) in EXPECTED["M_NY"]  # Easter Monday moved
    # Sydney leaves DST on 4 April: the same 16:00 is an hour later in UTC.
    utc_hours = {m.astimezone(UTC).hour for m in EXPECTED["M_SYD"]}
    assert utc_hours == {5, 6}


async def _setup(db: Database) -> dict[str, int]:
    ids = await make_org(
        db,
        created=START - timedelta(days=3),
        managers={
            "M_AMS": ["A1", "A2", "A3"],
            "M_NY": ["N1", "N2"],
            "M_SYD": ["S1", "S2"],
            "M_KOL": ["K1", "K2", "K3"],
        },
        tz={
            "M_AMS": "Europe/Amsterdam",
            "M_NY": "America/New_York",
            "M_SYD": "Australia/Sydney",
            "M_KOL": "Asia/Kolkata",
        },
    )
    ws = ids["__workspace__"]
    async with db.session() as s:
        s.add_all(
            [
                CadenceRule(
                    workspace_id=ws,
                    scope=Scope.WORKSPACE,
                    scope_key="workspace",
                    frequency=Frequency.WEEKLY,
                    weekday=3,
                    at_time="11:00",
                ),
                CadenceRule(
                    workspace_id=ws,
                    scope=Scope.TEAM,
                    scope_key="team:Harbour",
                    team="Harbour",
                    frequency=Frequency.WEEKLY,
                    weekday=2,
                    at_time="16:00",
                ),
                CadenceRule(
                    workspace_id=ws,
                    scope=Scope.PERSON,
                    scope_key=f"person:{ids['M_NY']}",
                    person_id=ids["M_NY"],
                    frequency=Frequency.WEEKLY,
                    weekday=0,
                    at_time="09:30",
                ),
                CadenceRule(
                    workspace_id=ws,
                    scope=Scope.PERSON,
                    scope_key=f"person:{ids['M_AMS']}",
                    person_id=ids["M_AMS"],
                    frequency=Frequency.WEEKLY,
                    weekday=1,
                    at_time="10:00",
                ),
            ]
        )
        for line in (
            await s.scalars(select(ReportingLine).where(ReportingLine.manager_id == ids["M_SYD"]))
        ).all():
            line.team = "Harbour"
        ams = await s.get(Person, ids["M_AMS"])
        assert ams is not None
        ams.paused_until = PAUSED_UNTIL
        await s.commit()
    return ids


async def test_twelve_weeks_of_a_small_organisation(db: Database, database_url: str) -> None:
    ids = await _setup(db)
    names = {v: k for k, v in ids.items()}
    clock = FakeClock(START)
    messenger = InMemoryMessenger()
    config = EngineConfig(send_rate_per_workspace=1000, initial_rate=1000)
    catalogue = default_catalogue()
    # Two replicas: separate engines, one shared store, one shared platform.
    other_db = Database(database_url)
    first = Dispatcher(db, clock, catalogue, {"slack": messenger}, config, rng=random.Random(1))
    second = Dispatcher(
        other_db, clock, catalogue, {"slack": messenger}, config, rng=random.Random(2)
    )
    interactions = Interactions(first, first.catalogue)

    expected_instants = {m.astimezone(UTC) for ms in EXPECTED.values() for m in ms}
    steps = {START + timedelta(hours=6 * i) for i in range(12 * 7 * 4)}
    steps |= expected_instants | {SNOOZED_COPY.astimezone(UTC), FOLLOWUP_AT.astimezone(UTC)}
    steps |= {s + timedelta(minutes=1) for s in expected_instants}
    noted = snoozed = followed_up = False
    try:
        for step in sorted(steps):
            clock.set(step)
            await asyncio.gather(first.tick(), second.tick())
            if not noted and messenger.to("M_NY"):
                sent = messenger.to("M_NY")[0]
                result = await interactions.on_form(
                    Actor("slack", "T1", "M_NY"),
                    FormId.NOTE_COMMITMENT,
                    sent.message.metadata["delivery_id"],
                    {
                        COMMITMENT_TEXT: "Share the roadmap draft with N1",
                        COMMITMENT_DUE: COMMITMENT_DUE_ON.isoformat(),
                    },
                )
                assert result.errors == {}
                noted = True
            if not snoozed and messenger.to("M_KOL"):
                sent = messenger.to("M_KOL")[0]
                result = await interactions.on_action(
                    Actor("slack", "T1", "M_KOL"),
                    Action.NUDGE_SNOOZE_TOMORROW,
                    sent.message.metadata["delivery_id"],
                )
                assert result.changed
                snoozed = True
            if not followed_up:
                followups = [
                    s
                    for s in messenger.to("M_NY")
                    if s.message.blocks and "Did it happen?" in str(s.message.blocks[0])
                ]
                if followups:
                    result = await interactions.on_action(
                        Actor("slack", "T1", "M_NY"),
                        Action.FOLLOWUP_DONE,
                        followups[0].message.metadata["delivery_id"],
                    )
                    assert result.changed
                    followed_up = True
    finally:
        await other_db.dispose()

    async with db.session() as s:
        rows = (await s.scalars(select(Delivery).order_by(Delivery.sent_at))).all()
        commitment = (await s.scalars(select(Commitment))).one()

    # Never lost: everything planned went out; never twice: one message per delivery.
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert len(messenger.sent) == len(rows)
    assert len({r.idempotency_key for r in rows}) == len(rows)

    for manager, expected in EXPECTED.items():
        nudges = [
            r
            for r in rows
            if r.recipient_id == ids[manager]
            and r.kind == DeliveryKind.NUDGE
            and "snooze_of" not in r.payload
        ]
        got = [r.sent_at.astimezone(expected[0].tzinfo) for r in nudges]  # type: ignore[union-attr]
        assert got == expected, manager
        # Right nudge: no content repeated within the 8-week window, members rotate fairly.
        keys = [r.content_key for r in nudges]
        for i, key in enumerate(keys):
            assert key not in keys[i + 1 : i + 8], (manager, key)
        subjects = [names[r.subject_id] for r in nudges if r.subject_id is not None]
        reports = {n for n in names.values() if n[0] == manager[2] and n[1:].isdigit()}
        assert set(subjects) <= reports
        first_round = subjects[: len(reports)]
        assert len(set(first_round)) == len(first_round), (manager, subjects)
        # Kinds vary: no single kind takes over.
        assert max(Counter(r.payload["kind"] for r in nudges).values()) <= len(nudges) // 2

    copy = [r for r in rows if "snooze_of" in r.payload]
    assert [r.sent_at for r in copy] == [SNOOZED_COPY.astimezone(UTC)]
    followup = [r for r in rows if r.kind == DeliveryKind.FOLLOWUP]
    assert [r.sent_at for r in followup] == [FOLLOWUP_AT.astimezone(UTC)]
    assert followup[0].recipient_id == ids["M_NY"]
    assert commitment.state == CommitmentState.DONE
    assert commitment.member_id is not None
