"""Working weeks and zones from Outlook working hours, read from the fake connector's Graph."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time
from typing import Any

import pytest
from sqlalchemy import select

from bot.teams.workhours import (
    CONCURRENCY,
    OutlookHours,
    OutlookWeeks,
    iana_zone,
    working_hours_of,
)
from nudges.people.platform_week import Adopted
from nudges.people.workweeks import WorkweekBook
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from nudges.store.workweeks import WorkPattern
from tests.bot.teams.inbound_harness import (
    MEGAN_AAD,
    OMAR_29,
    OMAR_AAD,
    OMAR_CHAT,
    TENANT,
    TeamsHarness,
    running_teams,
    sample,
)
from tests.nudges.orgs import make_org

MON_THU = ["monday", "tuesday", "wednesday", "thursday"]
MON_FRI = [*MON_THU, "friday"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("GMT Standard Time", "Europe/London"),
        ("Romance Standard Time", "Europe/Paris"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("Customized Time Zone", None),
        ("Mars/Olympus_Mons", None),
        ("", None),
        (None, None),
    ],
)
def test_outlook_zone_names_become_iana_names(name: str | None, expected: str | None) -> None:
    assert iana_zone(name) == expected


def _hours(days: list[str], start: str, end: str, zone: str = "GMT Standard Time") -> Any:
    return {
        "daysOfWeek": days,
        "startTime": f"{start}:00.0000000",
        "endTime": f"{end}:00.0000000",
        "timeZone": {"name": zone},
    }


def test_working_hours_give_days_hours_and_the_zone_of_the_hours() -> None:
    hours = working_hours_of(_hours(["Monday", "tuesday", "THURSDAY", "friday"], "07:30", "15:45"))
    assert hours.week is not None
    assert hours.week.days == frozenset({0, 1, 3, 4})
    assert (hours.week.start, hours.week.end) == (time(7, 30), time(15, 45))
    assert hours.zone == "Europe/London"


def test_hours_to_midnight_end_at_23_59_and_hours_past_midnight_give_no_week() -> None:
    late = working_hours_of(_hours(["sunday"], "16:00", "00:00"))
    assert late.week is not None and late.week.end == time(23, 59)
    night = working_hours_of(_hours(MON_FRI, "22:00", "06:00"))
    assert night.week is None and night.zone == "Europe/London"


def test_no_days_or_a_custom_zone_give_nothing_to_take() -> None:
    assert working_hours_of({}) == OutlookHours(None, None)
    custom = _hours([], "09:00", "17:00", zone="Customized Time Zone")
    custom["timeZone"]["@odata.type"] = "#microsoft.graph.customTimeZone"
    assert working_hours_of(custom) == OutlookHours(None, None)


async def _pattern(db: Database, aad: str) -> tuple[str, str, str, str] | None:
    async with db.session() as session:
        row = await session.scalar(
            select(WorkPattern)
            .join(Person, Person.id == WorkPattern.person_id)
            .where(Person.external_id == aad)
        )
        return (row.days, row.start_time, row.end_time, row.source) if row else None


async def _zone(db: Database, aad: str) -> tuple[str | None, str | None]:
    async with db.session() as session:
        person = await session.scalar(select(Person).where(Person.external_id == aad))
        assert person is not None
        return person.timezone, person.timezone_source


def _outlook(teams: TeamsHarness) -> OutlookWeeks:
    assert teams.edge.outlook is not None
    return teams.edge.outlook


async def _omar_in_outlook_mon_thu(db: Database, teams: TeamsHarness) -> None:
    """Store Megan's team of Omar, whose Outlook says Monday to Thursday, 08:00-16:00."""
    await make_org(
        db,
        created=datetime(2026, 11, 1, tzinfo=UTC),
        managers={MEGAN_AAD: [OMAR_AAD]},
        platform="teams",
        workspace=TENANT,
    )
    teams.connector.set_working_hours(OMAR_AAD, MON_THU, "08:00", "16:00")


async def test_installing_the_app_takes_the_week_and_zone_from_outlook_and_status_says_so(
    db: Database,
) -> None:
    async with running_teams(db, graph=True) as teams:
        teams.connector.set_working_hours(MEGAN_AAD, MON_THU, "08:30", "16:30")
        # A first message files Megan with the zone her Teams client reports.
        await teams.say("help")
        assert await _zone(db, MEGAN_AAD) == ("America/Los_Angeles", "platform")
        await teams.install()
        assert await _pattern(db, MEGAN_AAD) == ("0,1,2,3", "08:30", "16:30", "outlook")
        # Outlook's zone is the zone of the hours: it replaces the client's.
        assert await _zone(db, MEGAN_AAD) == ("Europe/Berlin", "outlook")
        (call,) = teams.connector.graph_calls
        assert call.path == f"/graph/v1.0/users/{MEGAN_AAD}/mailboxSettings/workingHours"
        assert call.headers["Authorization"] == "Bearer fake-connector-token"
        tokens = [c.path for c in teams.connector.calls if c.path.endswith("/token")]
        assert tokens == [f"/{TENANT}/oauth2/v2.0/token"]
        status = await teams.say("me status")
        assert "Working week: Mon-Thu, 08:30–16:30 (from Outlook)" in status, status
        assert "Time zone: Europe/Berlin (from Outlook)" in status, status
        async with db.session() as session:
            workspace = await session.scalar(select(Workspace))
            megan = await session.scalar(select(Person).where(Person.external_id == MEGAN_AAD))
            assert workspace is not None and megan is not None
            calendar = (await WorkweekBook.read(session, workspace)).availability(megan)
        # Friday is her day off now, and her hours are Berlin's.
        assert 4 in calendar.weekend and 0 not in calendar.weekend
        assert calendar.timezone.key == "Europe/Berlin"
        assert calendar.work_start == time(8, 30)


async def test_a_week_or_zone_a_person_chose_always_wins_and_clearing_it_hands_back_to_outlook(
    db: Database,
) -> None:
    async with running_teams(db, graph=True) as teams:
        teams.connector.set_working_hours(MEGAN_AAD, MON_THU, "08:30", "16:30")
        await teams.install()
        await teams.say("me workweek mon-wed 10:00-14:00")
        await teams.say("me timezone Europe/Lisbon")
        teams.connector.set_working_hours(
            MEGAN_AAD, MON_FRI, "07:00", "15:00", "Pacific Standard Time"
        )
        # Both chosen: the daily sweep does not even ask Graph about her.
        before = len(teams.connector.graph_calls)
        assert await _outlook(teams).refresh_all() == {}
        assert len(teams.connector.graph_calls) == before
        # Asked all the same (as at an install), Outlook changes nothing she chose.
        assert await _outlook(teams).refresh_person(TENANT, MEGAN_AAD) == Adopted(
            week_kept=True, zone_kept=True
        )
        assert await _pattern(db, MEGAN_AAD) == ("0,1,2", "10:00", "14:00", "self")
        assert await _zone(db, MEGAN_AAD) == ("Europe/Lisbon", None)
        status = await teams.say("me status")
        assert "Working week: Mon-Wed, 10:00–14:00 (their own)" in status, status
        assert "Time zone: Europe/Lisbon (chosen)" in status, status
        await teams.say("me workweek clear")
        counts = await _outlook(teams).refresh_all()
        assert counts["updated"] == 1, counts
        assert await _pattern(db, MEGAN_AAD) == ("0,1,2,3,4", "07:00", "15:00", "outlook")
        # The zone she chose stays hers.
        assert await _zone(db, MEGAN_AAD) == ("Europe/Lisbon", None)


async def test_an_admins_week_for_a_person_wins_over_outlook(db: Database) -> None:
    async with running_teams(db, graph=True) as teams:
        teams.connector.set_working_hours(OMAR_AAD, MON_FRI, "09:00", "17:00")
        await teams.install()  # Megan: first installer, admin
        omar_install = sample("installationUpdate_add_personal.json")
        omar_install["from"] = {"id": OMAR_29, "aadObjectId": OMAR_AAD, "name": "Omar"}
        omar_install["conversation"]["id"] = OMAR_CHAT
        await teams.install(omar_install)
        assert await _pattern(db, OMAR_AAD) == ("0,1,2,3,4", "09:00", "17:00", "outlook")
        mention = {
            "type": "mention",
            "text": "<at>Omar</at>",
            "mentioned": {"id": OMAR_29, "name": "Omar"},
        }
        reply = await teams.say(
            "workweek <at>Omar</at> mon,tue,thu 08:00-12:00", entities=[mention]
        )
        assert "08:00–12:00" in reply, reply
        counts = await _outlook(teams).refresh_all()
        assert counts == {"unchanged": 1, "no mailbox": 1}, counts
        assert await _pattern(db, OMAR_AAD) == ("0,1,3", "08:00", "12:00", "admin")


async def test_a_week_outlook_no_longer_gives_is_dropped(db: Database) -> None:
    async with running_teams(db, graph=True) as teams:
        teams.connector.set_working_hours(MEGAN_AAD, MON_THU, "08:30", "16:30")
        await teams.install()
        assert await _pattern(db, MEGAN_AAD) is not None
        teams.connector.mailboxes[MEGAN_AAD].pop("workingHours")
        counts = await _outlook(teams).refresh_all()
        assert counts["updated"] == 1, counts
        assert await _pattern(db, MEGAN_AAD) is None
        status = await teams.say("me status")
        assert "Working week: Mon-Fri, 09:00–17:00 (the default)" in status, status


async def test_a_tenant_without_the_permission_is_asked_once_per_sweep_batch(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_teams(db, graph=True) as teams:
        created = datetime(2026, 11, 1, tzinfo=UTC)
        team = [f"0000000{n}-aaaa-4bbb-8ccc-dddddddddddd" for n in range(8)]
        await make_org(
            db,
            created=created,
            managers={MEGAN_AAD: team},
            platform="teams",
            workspace=TENANT,
        )
        for aad in team[:5]:
            teams.connector.set_working_hours(aad, MON_THU, "08:00", "16:00")
        teams.connector.mailbox_access = False
        with caplog.at_level(logging.WARNING, logger="bot.teams.workhours"):
            counts = await _outlook(teams).refresh_all()
        assert counts == {"tenants refused": 1}, counts
        # One batch was asked, then the tenant was left alone for this sweep.
        assert len(teams.connector.graph_calls) == CONCURRENCY
        assert "MailboxSettings.Read" in caplog.text
        assert await _pattern(db, team[0]) is None
        teams.connector.mailbox_access = True
        counts = await _outlook(teams).refresh_all()
        assert counts == {"updated": 5, "no mailbox": 4}, counts
        assert await _pattern(db, team[4]) == ("0,1,2,3", "08:00", "16:00", "outlook")
        # One token for the tenant serves every call of both sweeps.
        tokens = [c for c in teams.connector.calls if c.path.endswith("/token")]
        assert len(tokens) == 1


async def test_a_throttled_tenant_is_left_for_the_next_sweep(db: Database) -> None:
    async with running_teams(db, graph=True) as teams:
        team = [f"0000000{n}-aaaa-4bbb-8ccc-dddddddddddd" for n in range(6)]
        await make_org(
            db,
            created=datetime(2026, 11, 1, tzinfo=UTC),
            managers={MEGAN_AAD: team},
            platform="teams",
            workspace=TENANT,
        )
        for aad in team:
            teams.connector.set_working_hours(aad, MON_THU, "08:00", "16:00")
        teams.connector.graph_failures = [429]
        counts = await _outlook(teams).refresh_all()
        # The rest of the first batch is stored; no second batch is asked for.
        assert counts.pop("tenants throttled") == 1, counts
        assert counts.total() == CONCURRENCY - 1, counts
        assert len(teams.connector.graph_calls) == CONCURRENCY
        stored = counts["updated"]
        counts = await _outlook(teams).refresh_all()
        assert counts == {"updated": 6 - stored, "unchanged": stored, "no mailbox": 1}, counts


async def test_the_edge_sweeps_once_started_and_stops_with_it(db: Database) -> None:
    async with running_teams(db, graph=True) as teams:
        await _omar_in_outlook_mon_thu(db, teams)
        outlook = _outlook(teams)
        outlook.first_refresh = 0.0
        await teams.edge.start()
        for _ in range(200):
            if await _pattern(db, OMAR_AAD) is not None:
                break
            await asyncio.sleep(0.02)
        await teams.edge.stop()
        assert await _pattern(db, OMAR_AAD) == ("0,1,2,3", "08:00", "16:00", "outlook")
        asked = len(teams.connector.graph_calls)
        await asyncio.sleep(0.05)
        assert len(teams.connector.graph_calls) == asked


async def test_without_a_client_secret_there_is_no_outlook_sync(db: Database) -> None:
    async with running_teams(db) as teams:
        teams.connector.set_working_hours(MEGAN_AAD, MON_THU, "08:30", "16:30")
        await teams.install()
        assert teams.edge.outlook is None
        assert teams.connector.graph_calls == []
        assert await _pattern(db, MEGAN_AAD) is None


async def test_of_several_replicas_one_sweeps_a_day(db: Database) -> None:
    async with running_teams(db, graph=True) as teams:
        await _omar_in_outlook_mon_thu(db, teams)
        first = _outlook(teams)
        # Another replica: its own sweeper over the same store and the same tenants.
        second = OutlookWeeks(first.services, first.graph)
        results = await asyncio.gather(first.sweep(), second.sweep(), first.sweep())
        swept = [r for r in results if r is not None]
        assert len(swept) == 1, results
        assert swept[0]["updated"] == 1, swept
        # Each person asked once: the replicas did not both sweep.
        people = {MEGAN_AAD, OMAR_AAD}
        assert len(teams.connector.graph_calls) == len(people)
        assert await _pattern(db, OMAR_AAD) == ("0,1,2,3", "08:00", "16:00", "outlook")
