"""A working week and zone from the platform apply unless a person or an admin chose them."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from nudges.coaching.interactions import Actor
from nudges.people import directory
from nudges.people.platform_week import Adopted, adopt_platform_week
from nudges.people.workweeks import WorkweekBook
from nudges.scheduling.workweek import WorkWeek
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.nudges.commands.conftest import MEMBER, Harness, build_harness

MON_THU = WorkWeek(frozenset({0, 1, 2, 3}), time(8, 0), time(16, 0))


async def _adopt(h: Harness, who: str, week: WorkWeek | None, zone: str | None) -> Adopted:
    async with h.db.session() as session:
        workspace = await session.get(Workspace, h.ids["__workspace__"])
        person = await session.scalar(select(Person).where(Person.external_id == who))
        assert workspace is not None and person is not None
        adopted = await adopt_platform_week(session, workspace, person, week, zone)
        await session.commit()
        return adopted


async def _week(h: Harness, who: str) -> tuple[WorkWeek, str]:
    async with h.db.session() as session:
        workspace = await session.get(Workspace, h.ids["__workspace__"])
        assert workspace is not None
        return (await WorkweekBook.read(session, workspace)).week_for(h.ids[who])


async def test_outlooks_week_goes_before_a_teams_but_never_before_a_persons_own(
    db: Database,
) -> None:
    h = await build_harness(db)
    assert (await h.run("workweek workspace mon-fri 07:00-15:00")).ok
    assert await _adopt(h, "UA", MON_THU, None) == Adopted(week=True)
    assert await _week(h, "UA") == (MON_THU, "outlook")
    # The same week again changes nothing.
    assert await _adopt(h, "UA", MON_THU, None) == Adopted()
    assert (await h.run("me workweek mon-wed 10:00-14:00", MEMBER)).ok
    assert await _adopt(h, "UA", MON_THU, None) == Adopted(week_kept=True)
    own, source = await _week(h, "UA")
    assert source == "person" and own.days == frozenset({0, 1, 2})
    # No week from the platform leaves a chosen one alone too.
    assert await _adopt(h, "UA", None, None) == Adopted(week_kept=True)
    assert (await _week(h, "UA"))[1] == "person"


async def test_a_zone_the_client_filled_in_is_replaced_but_a_chosen_one_never(
    db: Database,
) -> None:
    h = await build_harness(db)
    async with h.db.session() as session:
        workspace = await session.get(Workspace, h.ids["__workspace__"])
        assert workspace is not None
        await directory.record_profile(
            session, workspace, "UA", timezone="America/New_York", locale=None
        )
        await session.commit()
    assert await _adopt(h, "UA", None, "Europe/Berlin") == Adopted(zone=True)
    ua = await h.person("UA")
    assert ua is not None and (ua.timezone, ua.timezone_source) == ("Europe/Berlin", "outlook")
    # A zone Outlook set before follows Outlook; an unknown name changes nothing.
    assert await _adopt(h, "UA", None, "Europe/London") == Adopted(zone=True)
    assert await _adopt(h, "UA", None, "Not/AZone") == Adopted()
    assert (await h.run("timezone <@UA> Europe/Lisbon")).ok
    assert await _adopt(h, "UA", None, "Europe/Berlin") == Adopted(zone_kept=True)
    ua = await h.person("UA")
    assert ua is not None and (ua.timezone, ua.timezone_source) == ("Europe/Lisbon", None)
    # A person's own choice counts the same as an admin's.
    await h.update_person("UB", timezone="Asia/Tokyo", timezone_source="outlook")
    assert (await h.run("me timezone Europe/Rome", Actor("slack", "T1", "UB"))).ok
    assert await _adopt(h, "UB", None, "Europe/Berlin") == Adopted(zone_kept=True)
