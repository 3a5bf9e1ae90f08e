"""Below the threshold nothing shows anywhere; aggregates never fold in a small group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nudges.domain import DeliveryKind, Dimension
from nudges.pulse.digest import team_results_blocks
from nudges.pulse.report import build_report, to_csv, to_json
from nudges.pulse.results import SPARK
from nudges.pulse.signals import signals_for
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.nudges.pulse.world import World, make_world, members, text_of

TUESDAY_NUDGE = datetime(2027, 2, 9, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam


async def _surfaces(world: World) -> dict[str, str]:
    """Everything a manager or admin can see of the pulse, as text."""
    out: dict[str, str] = {}
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        manager = await s.get(Person, world.ids["UMGR"])
        assert workspace and manager
        blocks = await team_results_blocks(s, workspace, manager, "en", now=world.clock.now())
        out["app home"] = "\n".join(str(getattr(b, "text", "")) for b in blocks)
        rows = await build_report(s, workspace)
        out["report csv"] = to_csv(rows)
        out["report json"] = to_json(rows)
        signals = await signals_for(s, workspace, manager, world.clock.now())
        out["signals"] = repr(signals)
    out["pulse results"] = (await world.command("pulse results")).text
    out["pulse results #team"] = (await world.command("pulse results #Platform")).text
    return out


async def _closed_poll(db: Database, answers: int) -> World:
    world = await make_world(db, teams={"UMGR": members(6)}, team_names={"UMGR": "Platform"})
    await world.run_poll({f"U{i}": 1 for i in range(1, answers + 1)})
    return world


async def test_a_poll_answered_by_k_minus_one_reveals_nothing_anywhere(db: Database) -> None:
    world = await _closed_poll(db, answers=4)
    # The manager's next weekly nudge carries the digest.
    await world.run_until(TUESDAY_NUDGE)
    nudge = world.messenger.to("UMGR")[-1].message
    assert nudge.metadata and "How your team is doing" in text_of(nudge)
    surfaces = await _surfaces(world)
    surfaces["weekly nudge"] = text_of(nudge)
    for name, text in surfaces.items():
        if name == "signals":
            assert text == "[]"
            continue
        if name.startswith("report"):
            assert "4" in text and "results appear once 5 people answer" in text, name
            assert '"score": null' in text or name == "report csv", name
            assert ",,," in text or name == "report json", name
        else:
            assert "4 answered" in text, (name, text)
            assert "results appear once 5 people answer" in text, (name, text)
        # No score, no trend, no participation rate: nothing but the count.
        for leak in ("1.0", "1,0", "%", *SPARK):
            assert leak not in text, (name, leak, text)
    # The planner gave no pulse reason either.
    nudges = await world.deliveries(DeliveryKind.NUDGE)
    assert all(not d.payload["reason_key"].startswith("pulse.") for d in nudges)


async def test_the_same_poll_with_k_answers_does_show(db: Database) -> None:
    """The check above would catch a leak: at k answers the same surfaces show the score."""
    world = await _closed_poll(db, answers=5)
    surfaces = await _surfaces(world)
    assert "1.0" in surfaces["app home"] and "▁" in surfaces["app home"]
    assert "1.0" in surfaces["pulse results #team"]
    assert "1.0" in surfaces["report csv"]
    assert "Dimension" in surfaces["signals"]


async def test_a_workspace_total_never_folds_in_a_team_below_the_threshold(db: Database) -> None:
    world = await make_world(
        db,
        teams={"MA": members(5, "A"), "MB": members(5, "B")},
        team_names={"MA": "Alpha", "MB": "Beta"},
    )
    opened = await world.open_now()
    assert len(opened.polls) == 2
    await world.tick()
    for i in range(1, 6):
        assert (await world.click(f"A{i}", 5)).changed
    for i in range(1, 5):
        assert (await world.click(f"B{i}", 1)).changed
    await world.run_until(max(p.closes_at for p in opened.polls) + timedelta(minutes=1))
    # If Beta were folded in, the workspace would show 2.8 and Beta = total − Alpha.
    workspace = (await world.command("pulse results")).text
    assert "5.0" in workspace and "2.8" not in workspace
    assert "5 of 5 answered" in workspace
    assert "4 answered; results appear once 5 people answer" in workspace
    beta = (await world.command("pulse results #Beta")).text
    assert "1.0" not in beta and "4 answered" in beta
    async with db.session() as s:
        ws = await s.get(Workspace, world.workspace_id)
        assert ws is not None
        rows = await build_report(s, ws)
    (total,) = [r for r in rows if r.team == "(workspace)"]
    assert (total.score, total.answered) == (5.0, 5)
    (beta_row,) = [r for r in rows if r.team == "Beta"]
    assert (beta_row.score, beta_row.participation, beta_row.answered) == (None, None, 4)


async def test_an_open_poll_never_shows_a_score(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(6)}, team_names={"UMGR": "Platform"})
    await world.open_now()
    await world.tick()
    for i in range(1, 7):
        await world.click(f"U{i}", 2)
    surfaces = await _surfaces(world)
    assert "6 answered so far" in surfaces["app home"]
    for name, text in surfaces.items():
        assert "2.0" not in text, name


@pytest.mark.parametrize(
    ("opened_with", "answers", "later", "visible"),
    [
        (5, 5, 6, False),  # raising the threshold applies to earlier polls at once
        (5, 5, 3, True),
        (3, 4, 5, False),
        (5, 4, 3, False),  # lowering it never reaches a poll that opened higher
    ],
)
async def test_a_poll_keeps_the_threshold_it_opened_with_unless_a_higher_one_applies(
    db: Database, opened_with: int, answers: int, later: int, visible: bool
) -> None:
    world = await make_world(db, teams={"UMGR": members(6)}, team_names={"UMGR": "Platform"})
    await world.settings(anonymity_threshold=opened_with)
    await world.only_dimension(Dimension.TRUST)
    await world.run_poll({f"U{i}": 4 for i in range(1, answers + 1)})
    await world.settings(anonymity_threshold=later)
    text = (await world.command("pulse results #Platform")).text
    assert ("4.0" in text) is visible, text
    if not visible:
        effective = max(opened_with, later)
        assert f"{answers} answered; results appear once {effective} people answer" in text
