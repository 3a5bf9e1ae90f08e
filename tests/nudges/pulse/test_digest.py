"""The App Home blocks, the sparkline, and the report's defences."""

from __future__ import annotations

import json

from nudges.messages import Block, Context, Header, Text
from nudges.pulse.digest import team_results_blocks
from nudges.pulse.report import ReportRow, csv_safe, to_csv, to_json
from nudges.pulse.results import sparkline
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.nudges.pulse.world import World, make_world, members


async def _home(world: World, user: str, locale: str = "en") -> list[Block]:
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        person = await s.get(Person, world.ids[user])
        assert workspace and person
        return await team_results_blocks(s, workspace, person, locale, now=world.clock.now())


def _lines(blocks: list[Block]) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Header | Text | Context)]


async def test_the_app_home_explains_an_empty_or_too_small_team(db: Database) -> None:
    world = await make_world(
        db, teams={"MA": members(5, "A"), "MB": members(3, "B")}, team_names={"MB": "Tiny"}
    )
    assert await _home(world, "A1") == []  # leads no team
    assert _lines(await _home(world, "MA")) == [
        "How your team is doing",
        "No pulse results yet: the first poll goes out on its schedule.",
        "Scores run from 1 😞 to 5 😄. A result shows only when at least 5 people answered,"
        " so nobody's answer can be picked out.",
    ]
    tiny = _lines(await _home(world, "MB", "nl"))
    assert tiny[0] == "Zo gaat het met je team"
    assert tiny[1].startswith("#Tiny heeft minder dan 5 mensen die kunnen antwoorden")


async def test_the_app_home_shows_a_visible_result_with_its_trend(db: Database) -> None:
    world = await make_world(db, teams={"MA": members(5, "A")})
    await world.run_poll({f"A{i}": 5 for i in range(1, 6)})
    lines = _lines(await _home(world, "MA"))
    assert "**Feeling heard** 5.0 █ · 5 of 5 answered (100%)" in lines


def test_the_sparkline_spans_the_scale() -> None:
    assert sparkline([1, 2, 3, 4, 5]) == "▁▃▅▆█"
    assert sparkline([1.0, 1.5, 4.9, 0, 9]) == "▁▂█▁█"
    assert sparkline([]) == ""


def test_cells_a_spreadsheet_would_run_are_defused() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(risky) == "'" + risky
    for fine in ("Platform", "", "1.0", "a=b"):
        assert csv_safe(fine) == fine


def test_csv_and_json_carry_the_same_rows() -> None:
    row = ReportRow(
        period="2027-W05",
        closed_on="2027-02-09",
        team="=cmd",
        manager="",
        dimension="clarity",
        question="clarity-priorities",
        answered=4,
        threshold=5,
        score=None,
        participation=None,
        note="results appear once 5 people answer",
    )
    csv_text = to_csv([row])
    assert csv_text.splitlines()[1] == (
        "2027-W05,2027-02-09,'=cmd,,clarity,clarity-priorities,4,5,,,"
        "results appear once 5 people answer"
    )
    assert json.loads(to_json([row]))["rows"][0]["score"] is None
