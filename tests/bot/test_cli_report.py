from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from nudges.store.database import Database
from nudges.store.migrate import upgrade
from tests.bot.test_cli import run
from tests.nudges.pulse.world import make_world, members

TRICKY = '=HYPERLINK("http://evil.example","x")'


async def test_report_exports_results_that_obey_the_threshold(
    tmp_path: Path, empty_database_url: str
) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade(db.engine)
        world = await make_world(
            db,
            teams={"MA": members(5, "A"), "MB": members(5, "B")},
            team_names={"MA": TRICKY, "MB": "Beta"},
        )
        opened = await world.open_now()
        await world.tick()
        for i in range(1, 6):
            await world.click(f"A{i}", 4)
        for i in range(1, 5):
            await world.click(f"B{i}", 2)
        await world.run_until(max(p.closes_at for p in opened.polls))
    finally:
        await db.dispose()
    env = {"DATABASE_URL": empty_database_url}

    out = run(tmp_path, "report", "--workspace", "T1", "--format", "csv", **env)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    by_team = {row["team"]: row for row in rows}
    # A spreadsheet would run the team name as a formula; the export defuses it.
    assert "'" + TRICKY in by_team
    assert not any(cell.startswith("=") for row in rows for cell in row.values())
    tricky = by_team["'" + TRICKY]
    assert (tricky["answered"], tricky["score"], tricky["participation"]) == ("5", "4.0", "1.0")
    beta = by_team["Beta"]
    assert (beta["answered"], beta["score"], beta["participation"]) == ("4", "", "")
    assert beta["note"] == "results appear once 5 people answer"
    assert (by_team["(workspace)"]["score"], by_team["(workspace)"]["answered"]) == ("4.0", "5")
    assert "2.0" not in out.stdout and "3.1" not in out.stdout  # 28 / 9 if Beta were folded in

    target = tmp_path / "beta.json"
    out = run(
        tmp_path, "report", "--workspace", "T1", "--team", "Beta", "--format", "json",
        "--output", str(target), **env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    document = json.loads(target.read_text())
    (row,) = document["rows"]
    assert (row["team"], row["answered"], row["score"]) == ("Beta", 4, None)

    unknown = run(tmp_path, "report", "--workspace", "T404", **env)
    assert unknown.returncode == 1 and "no workspace 'T404'" in unknown.stderr
    no_team = run(tmp_path, "report", "--workspace", "T1", "--team", "Gamma", **env)
    assert no_team.returncode == 1 and "no team 'Gamma'" in no_team.stderr
    bad = run(tmp_path, "report", "--workspace", "T1", "--format", "xlsx", **env)
    assert bad.returncode == 2
