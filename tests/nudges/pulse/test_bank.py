"""Question rotation: dimensions take turns, and each person sees every question before a repeat."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from nudges.domain import Dimension
from nudges.store.database import Database
from nudges.store.org import Person, ReportingLine
from tests.nudges.pulse.world import make_world, members


async def test_dimensions_take_turns(db: Database) -> None:
    world = await make_world(db, teams={"UMGR": members(5)})
    for _ in range(7):
        await world.run_poll({f"U{i}": 3 for i in range(1, 6)})
    dims = [p.dimension for p in await world.polls()]
    assert dims[:6] == [d.value for d in Dimension]
    assert dims[6] == Dimension.HEARD.value


async def test_everyone_sees_every_question_of_a_dimension_before_one_repeats(
    db: Database,
) -> None:
    world = await make_world(db, teams={"UMGR": members(5)})
    await world.only_dimension(Dimension.CLARITY)
    bank = {q.key for q in world.dispatcher.catalogue.questions_for(Dimension.CLARITY)}
    seen: dict[str, list[str]] = {f"U{i}": [] for i in range(1, 7)}
    for round_ in range(9):
        if round_ == 3:
            # U6 joins the team halfway through the first round.
            async with world.db.session() as s:
                joiner = Person(
                    workspace_id=world.workspace_id,
                    external_id="U6",
                    created_at=world.clock.now() - timedelta(days=1),
                )
                s.add(joiner)
                await s.flush()
                s.add(
                    ReportingLine(
                        workspace_id=world.workspace_id,
                        manager_id=world.ids["UMGR"],
                        member_id=joiner.id,
                    )
                )
                await s.commit()
        people = [p for p in seen if round_ >= 3 or p != "U6"]
        poll = await world.run_poll({p: 4 for p in people})
        for person in people:
            seen[person].append(poll.question_key)
    for person, keys in seen.items():
        first_round = keys[: len(bank)]
        assert len(set(first_round)) == len(first_round), (person, keys)
        if len(keys) >= len(bank):
            assert set(first_round) == bank, person
        # Later rounds stay even: no question comes a third time before another a second.
        counts = Counter(keys)
        assert max(counts.values()) - min(counts[key] for key in bank) <= 1, (person, keys)
    assert len(seen["U6"]) == 6 and set(seen["U6"]) == bank
