"""The preview shows each slot of a part-timer where it lands, and why it moved."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from nudges.coaching.preview import preview
from nudges.content.catalogue import default_catalogue
from nudges.people.org_file import parse_org_csv
from nudges.people.org_import import apply_org
from nudges.store.database import Database
from nudges.store.org import Person
from nudges.store.workweeks import TimeOff

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
ORG = (
    "platform,workspace,manager,member,team,workdays\n"
    "slack,T1,ULARS,UA,,\n"
    "slack,T1,UBOSS,ULARS,,mon-thu\n"
)


async def test_a_tuesday_slot_of_someone_off_on_tuesday_names_the_day_off(db: Database) -> None:
    text = ORG.replace("mon-thu", '"mon,wed,thu,fri"')
    async with db.session() as session:
        await apply_org(session, parse_org_csv(text), dry_run=False)
        await session.commit()
    catalogue = default_catalogue()
    async with db.session() as session:
        items = await preview(
            session, catalogue, MONDAY, workspace_id="T1", person_id="ULARS", weeks=2
        )
        dutch = await preview(
            session, catalogue, MONDAY, workspace_id="T1", person_id="ULARS", weeks=1, locale="nl"
        )
    # The default cadence is Tuesday 10:00; Lars does not work on Tuesdays.
    assert [item.local_time for item in items] == [
        "2027-03-03T10:00+01:00",
        "2027-03-10T10:00+01:00",
    ]
    assert items[0].moved == "day_off"
    assert items[0].moved_why == (
        "↳ moved: Tuesday 2 March is @ULARS's day off → Wednesday 3 March, 10:00"
    )
    assert "is de vrije dag van @ULARS" in dutch[0].moved_why


async def test_a_period_lost_to_leave_is_listed_as_skipped_with_why(db: Database) -> None:
    async with db.session() as session:
        await apply_org(session, parse_org_csv(ORG), dry_run=False)
        lars = await session.scalar(select(Person).where(Person.external_id == "ULARS"))
        assert lars is not None
        session.add(
            TimeOff(
                workspace_id=lars.workspace_id,
                person_id=lars.id,
                first_day=date(2027, 3, 8),
                last_day=date(2027, 3, 21),
            )
        )
        await session.commit()
    async with db.session() as session:
        items = await preview(
            session, default_catalogue(), MONDAY, workspace_id="T1", person_id="ULARS", weeks=4
        )
    assert [(i.local_time[:10], i.status[:7], i.moved) for i in items] == [
        ("2027-03-02", "planned", None),
        ("2027-03-09", "skipped", "time_off"),
        ("2027-03-22", "planned", "time_off"),
        ("2027-03-23", "planned", None),
    ]
    assert items[1].moved_why == "@ULARS is away on Tuesday 9 March and until the next one"
    assert items[2].moved_why == (
        "↳ moved: @ULARS is away on Tuesday 16 March → Monday 22 March, 10:00"
    )
