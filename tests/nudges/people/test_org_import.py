from __future__ import annotations

import pytest
from sqlalchemy import func, select

from nudges.people.org_file import OrgFileError, parse_org_csv
from nudges.people.org_import import apply_org
from nudges.store.audit import AuditEntry
from nudges.store.database import Database
from nudges.store.org import Person, ReportingLine, Workspace
from nudges.store.workweeks import WorkPattern

GOOD = """platform,workspace,manager,member,team
slack,T01,UMGR1,UMEM1,Blue
slack,T01,UMGR1,UMEM2,Blue
slack,T01,UMGR2,UMEM3,
teams,tenant-1,29:mgr,29:mem,Red
"""


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.session() as s:
        return (
            await s.scalar(select(func.count()).select_from(Workspace)) or 0,
            await s.scalar(select(func.count()).select_from(Person)) or 0,
            await s.scalar(select(func.count()).select_from(ReportingLine)) or 0,
        )


async def _import(db: Database, text: str, *, dry_run: bool = False, replace: bool = False):
    rows = parse_org_csv(text)
    async with db.session() as s:
        plan = await apply_org(s, rows, dry_run=dry_run, replace=replace)
        if dry_run:
            await s.rollback()
        else:
            await s.commit()
    return plan


async def test_import_creates_workspaces_people_and_lines(db: Database) -> None:
    plan = await _import(db, GOOD)
    assert len(plan.new_workspaces) == 2
    assert len(plan.new_lines) == 4
    assert await _counts(db) == (2, 7, 4)


async def test_reimporting_the_same_file_changes_nothing(db: Database) -> None:
    await _import(db, GOOD)
    async with db.session() as s:
        audits = await s.scalar(select(func.count()).select_from(AuditEntry))
    plan = await _import(db, GOOD)
    assert plan.is_empty
    assert await _counts(db) == (2, 7, 4)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == audits


async def test_dry_run_reports_but_writes_nothing(db: Database) -> None:
    plan = await _import(db, GOOD, dry_run=True)
    assert len(plan.new_lines) == 4
    assert len(plan.new_people) == 7
    assert await _counts(db) == (0, 0, 0)


async def test_team_change_is_an_update_not_a_new_line(db: Database) -> None:
    await _import(db, GOOD)
    plan = await _import(db, GOOD.replace("UMEM2,Blue", "UMEM2,Green"))
    assert [(r.member, old) for r, old in plan.team_changes] == [("UMEM2", "Blue")]
    async with db.session() as s:
        teams = sorted((await s.scalars(select(ReportingLine.team))).all())
    assert teams == ["", "Blue", "Green", "Red"]


async def test_replace_removes_lines_missing_from_the_file(db: Database) -> None:
    await _import(db, GOOD)
    smaller = "\n".join(line for line in GOOD.splitlines() if "UMEM3" not in line)
    plan = await _import(db, smaller, dry_run=True, replace=True)
    assert plan.removed_lines == [("slack", "T01", "UMGR2", "UMEM3")]
    assert (await _counts(db))[2] == 4
    await _import(db, smaller, replace=True)
    assert (await _counts(db))[2] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("platform,workspace,manager\nslack,T1,U1\n", "missing column(s) member"),
        ("platform,workspace,manager,member,boss\n", "unknown column(s) boss"),
        ("platform,workspace,manager,member,team\n", "has a header but no rows"),
        ("platform,workspace,manager,member,team\nirc,T1,U1,U2,\n", "line 2: platform 'irc'"),
        ("platform,workspace,manager,member,team\nslack,T1,U1,U1,\n", "report to themselves"),
        ("platform,workspace,manager,member,team\nslack,T1,U1,,\n", "line 2: member is empty"),
        ("platform,workspace,manager,member,team\nslack,T1,<@U1>,U2,\n", "not a platform user id"),
        ("platform,workspace,manager,member,team\nslack,T1,U1,U2\n", "has 4 fields, expected 5"),
        ("platform,workspace,manager,member,team\nslack,T1,U1,U2,\nslack,T1,U1,U2,\n", "repeats"),
    ],
)
def test_bad_files_name_the_line_and_problem(text: str, expected: str) -> None:
    with pytest.raises(OrgFileError) as info:
        parse_org_csv(text)
    assert expected in str(info.value)


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    text = "platform,workspace,manager,member,team\nirc,T1,U1,U2,\nslack,T1,U1,U2,\nslack,,U3,U4,\n"
    with pytest.raises(OrgFileError) as info:
        parse_org_csv(text)
    lines = [str(p) for p in info.value.problems]
    assert lines == [
        "line 2: platform 'irc' must be one of: slack, teams",
        "line 4: workspace is empty",
    ]


def test_a_byte_order_mark_and_blank_lines_are_fine() -> None:
    rows = parse_org_csv("\ufeffPlatform,Workspace,Manager,Member,Team\n\nslack,T1,U1,U2,Blue\n")
    assert [(r.line, r.member, r.team) for r in rows] == [(3, "U2", "Blue")]


async def test_a_cycle_in_the_file_names_every_hop(db: Database) -> None:
    text = (
        "platform,workspace,manager,member,team\n"
        "slack,T01,UA,UB,\nslack,T01,UX,UY,\nslack,T01,UB,UC,\nslack,T01,UC,UA,\n"
    )
    with pytest.raises(OrgFileError) as err:
        await _import(db, text, dry_run=True)
    (problem,) = err.value.problems
    assert str(problem) == (
        "line 2: reporting cycle in slack:T01: UA -> UB -> UC -> UA (line 2, line 4, line 5); "
        "someone in it must report to someone outside it"
    )
    assert await _counts(db) == (0, 0, 0)


async def test_a_cycle_with_a_stored_line_is_refused_and_nothing_changes(db: Database) -> None:
    await _import(db, "platform,workspace,manager,member,team\nslack,T01,UA,UB,\n")
    before = await _counts(db)
    with pytest.raises(OrgFileError) as err:
        await _import(db, "platform,workspace,manager,member,team\nslack,T01,UB,UA,\n")
    assert "UA -> UB -> UA (already stored, line 2)" in str(err.value)
    assert await _counts(db) == before


def test_a_team_with_a_line_break_is_refused_with_its_line() -> None:
    text = 'platform,workspace,manager,member,team\nslack,T01,UA,UB,"Team\nBlue"\n'
    with pytest.raises(OrgFileError) as err:
        parse_org_csv(text)
    (problem,) = err.value.problems
    assert str(problem).startswith("line 3: team contains a control character")


def test_a_row_that_differs_only_in_team_names_the_difference() -> None:
    text = (
        "platform,workspace,manager,member,team\n"
        "slack,T01,UA,UB,Team Blue\nslack,T01,UA,UB,Team Red\nslack,T01,UA,UB,Team Blue\n"
    )
    with pytest.raises(OrgFileError) as err:
        parse_org_csv(text)
    first, second = (str(p) for p in err.value.problems)
    assert first == (
        "line 3: UB under UA is already on line 2 with team 'Team Blue', here with team "
        "'Team Red'; a reporting line has one team: keep one of the two lines"
    )
    assert second == "line 4: repeats line 2"


async def test_a_member_under_two_managers_keeps_both_lines(db: Database) -> None:
    # Matrix organisations: both managers count the member among their reports.
    text = "platform,workspace,manager,member,team\nslack,T01,UA,UM,Blue\nslack,T01,UB,UM,Red\n"
    plan = await _import(db, text)
    assert len(plan.new_lines) == 2
    assert await _counts(db) == (1, 3, 2)


async def test_new_workspaces_get_the_given_defaults(db: Database) -> None:
    rows = parse_org_csv("platform,workspace,manager,member,team\nslack,T09,UA,UB,\n")
    defaults = {"default_timezone": "Asia/Tokyo", "country": "JP", "default_locale": "nl"}
    async with db.session() as s:
        await apply_org(s, rows, dry_run=False, defaults=defaults)
        await s.commit()
    async with db.session() as s:
        ws = await s.scalar(select(Workspace))
        assert ws is not None
        assert (ws.default_timezone, ws.country, ws.default_locale) == ("Asia/Tokyo", "JP", "nl")


async def test_a_large_file_is_written_in_bulk_and_reimports_as_nothing(db: Database) -> None:
    rows = "".join(f"slack,T01,UM{i // 8},UE{i},Team {i % 5}\n" for i in range(3_000))
    text = "platform,workspace,manager,member,team\n" + rows
    plan = await _import(db, text)
    assert len(plan.new_people) == 3_000 + 375
    assert await _counts(db) == (1, 3_375, 3_000)
    assert (await _import(db, text)).is_empty
    moved = text.replace(",Team 0\n", ",Team Zero\n")
    assert len((await _import(db, moved)).team_changes) == 600


WEEKS = (
    "platform,workspace,manager,member,team,workdays,hours,country\n"
    "slack,T01,UMGR,UPART,Blue,mon-thu,08:30-16:30,\n"
    "slack,T01,UMGR,UBE,Blue,,,BE\n"
    "slack,T01,UMGR,UBY,Blue,sun-thu,,DE-BY\n"
    "slack,T01,UBOSS,UMGR,,,,\n"
)


async def test_optional_columns_set_each_members_week_and_country(db: Database) -> None:
    plan = await _import(db, WEEKS)
    assert len(plan.member_weeks) == 3
    async with db.session() as s:
        people = {p.external_id: p for p in (await s.scalars(select(Person))).all()}
        patterns = {
            r.person_id: (r.days, r.start_time, r.end_time, r.source)
            for r in (await s.scalars(select(WorkPattern))).all()
        }
    assert patterns[people["UPART"].id] == ("0,1,2,3", "08:30", "16:30", "import")
    assert patterns[people["UBY"].id] == ("0,1,2,3,6", "09:00", "17:00", "import")
    assert people["UBE"].id not in patterns
    assert (people["UBE"].country, people["UBY"].country) == ("BE", "DE-BY")
    assert people["UMGR"].country is None


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ("funday,,", "line 2: workdays 'funday' cannot be read; write e.g. mon-thu"),
        (",17:00-09:00,", "line 2: hours '17:00-09:00' cannot be read; write e.g. 08:30-16:30"),
        (",,XX", "line 2: country 'XX' cannot be read; write e.g. BE (or a region such as DE-BY)"),
    ],
)
def test_bad_week_cells_name_the_line_and_a_correct_example(cells: str, expected: str) -> None:
    text = (
        f"platform,workspace,manager,member,team,workdays,hours,country\nslack,T01,UM,UA,,{cells}\n"
    )
    with pytest.raises(OrgFileError) as caught:
        parse_org_csv(text)
    assert expected in str(caught.value)


def test_a_member_with_two_different_weeks_is_refused() -> None:
    text = (
        "platform,workspace,manager,member,team,workdays\n"
        "slack,T01,UM1,UA,,mon-thu\n"
        "slack,T01,UM2,UA,,mon-fri\n"
    )
    with pytest.raises(OrgFileError) as caught:
        parse_org_csv(text)
    assert "line 3: UA's workdays, hours or country differ from line 2" in str(caught.value)
