"""The pulse steers the planner: a falling or low dimension comes first, and the nudge says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from nudges.coaching.inputs import planner_input
from nudges.coaching.planner import Choice, choose
from nudges.domain import DeliveryKind, Dimension
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.nudges.pulse.world import World, make_world, members, text_of

NEXT_NUDGE = datetime(2027, 2, 16, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Amsterdam


async def _choices(world: World) -> tuple[Choice, Choice]:
    """Return the planner's choice for the next nudge with and without the pulse signals."""
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        manager = await s.get(Person, world.ids["UMGR"])
        assert workspace and manager
        inp = await planner_input(s, workspace, manager, NEXT_NUDGE)
    catalogue = world.dispatcher.catalogue
    with_pulse = choose(inp, catalogue, NEXT_NUDGE)
    without = choose(replace(inp, signals=()), catalogue, NEXT_NUDGE)
    assert with_pulse is not None and without is not None
    return with_pulse, without


async def _three_clarity_polls(db: Database, per_poll: list[list[int]]) -> World:
    world = await make_world(db, teams={"UMGR": members(6)}, team_names={"UMGR": "Platform"})
    await world.only_dimension(Dimension.CLARITY)
    for values in per_poll:
        await world.run_poll({f"U{i}": v for i, v in enumerate(values, start=1)})
    assert [p.dimension for p in await world.polls()] == ["clarity"] * 3
    return world


async def test_a_falling_dimension_changes_the_next_nudge_and_the_nudge_says_why(
    db: Database,
) -> None:
    world = await _three_clarity_polls(db, [[5] * 5, [4] * 5, [3, 3, 3, 3, 4]])
    with_pulse, without = await _choices(world)
    catalogue = world.dispatcher.catalogue
    assert catalogue.nudge(with_pulse.nudge_key).dimension is Dimension.CLARITY
    assert with_pulse.nudge_key != without.nudge_key
    assert with_pulse.reason_key == "pulse.reason.falling.clarity"

    await world.run_until(NEXT_NUDGE)
    nudge = (await world.deliveries(DeliveryKind.NUDGE))[-1]
    assert nudge.scheduled_at == NEXT_NUDGE
    assert nudge.content_key == with_pulse.nudge_key
    message = world.messenger.to("UMGR")[-1].message
    text = text_of(message)
    assert "Clarity of expectations dropped two polls in a row in your team's pulse." in text
    # The digest underneath shows the trend and the suggestion with the same reason.
    assert "**Clarity of expectations** 3.2 █▆▅ · 5 of 6 answered (83%)" in text
    assert "→ Clarity of expectations dropped two polls in a row" in text


async def test_the_same_fall_below_the_threshold_steers_nothing(db: Database) -> None:
    world = await _three_clarity_polls(db, [[5] * 4, [4] * 4, [3] * 4])
    with_pulse, without = await _choices(world)
    assert with_pulse == without
    assert not with_pulse.reason_key.startswith("pulse.")
    await world.run_until(NEXT_NUDGE)
    text = text_of(world.messenger.to("UMGR")[-1].message)
    assert "dropped" not in text and "Suggested nudge" not in text


async def test_a_low_score_makes_room_and_says_so_in_dutch(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(5)}, team_names={"UMGR": "Platform"})
    async with db.session() as s:
        manager = await s.get(Person, world.ids["UMGR"])
        assert manager is not None
        manager.locale = "nl"
        await s.commit()
    await world.only_dimension(Dimension.WORKLOAD)
    await world.run_poll({f"U{i}": 2 for i in range(1, 6)})
    with_pulse, _ = await _choices(world)
    assert with_pulse.reason_key == "pulse.reason.low.workload"
    assert world.dispatcher.catalogue.nudge(with_pulse.nudge_key).dimension is Dimension.WORKLOAD
    await world.run_until(NEXT_NUDGE)
    text = text_of(world.messenger.to("UMGR")[-1].message)
    assert "Werkdruk en stress wegen zwaar in de pulse van je team." in text
    assert "**Werkdruk en stress** 2,0" in text
