"""The admins' pulse commands, through the real command service and store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from nudges.domain import DeliveryKind, DeliveryStatus, Dimension
from nudges.store.audit import AuditEntry
from nudges.store.cadence import CadenceRule
from nudges.store.database import Database
from nudges.store.org import Workspace
from nudges.store.pulse import PulseCustomQuestion, PulseRetiredQuestion
from tests.nudges.pulse.world import World, make_world, members, text_of


async def _world(db: Database) -> World:
    return await make_world(
        db,
        teams={"MA": members(5, "A"), "MB": members(2, "B")},
        team_names={"MA": "Platform", "MB": "Tiny"},
    )


async def _audit(db: Database) -> list[str]:
    async with db.session() as s:
        return list((await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())


async def test_pulse_schedule_sets_a_team_rule_that_moves_its_polls(db: Database) -> None:
    world = await _world(db)
    reply = await world.command("pulse schedule #platform weekly tue 14:00")
    assert reply.ok, reply.text
    assert reply.text.startswith("Pulse schedule for #Platform saved.")
    assert "Tuesday 2 February, 14:00" in reply.text
    async with db.session() as s:
        (rule,) = (await s.scalars(select(CadenceRule))).all()
    assert (rule.purpose, rule.scope_key, rule.weekday, rule.at_time) == (
        "pulse",
        "team:Platform",
        1,
        "14:00",
    )
    await world.run_until(datetime(2027, 2, 2, 13, 0, tzinfo=UTC))  # Tuesday 14:00 Amsterdam
    polls = await world.deliveries(DeliveryKind.PULSE)
    assert len(polls) == 5
    assert {d.scheduled_at for d in polls} == {datetime(2027, 2, 2, 13, 0, tzinfo=UTC)}
    assert (await world.command("pulse schedule #Nope weekly tue 14:00")).ok is False
    assert "pulse.schedule" in await _audit(db)


async def test_pulse_schedule_for_the_workspace(db: Database) -> None:
    world = await _world(db)
    reply = await world.command("pulse schedule biweekly wed 10:30")
    assert reply.ok and "the workspace" in reply.text
    async with db.session() as s:
        (rule,) = (await s.scalars(select(CadenceRule))).all()
    assert (rule.scope_key, rule.frequency) == ("workspace", "biweekly")


async def test_pulse_now_opens_polls_and_explains_what_it_skipped(db: Database) -> None:
    world = await _world(db)
    reply = await world.command("pulse now")
    assert reply.ok, reply.text
    assert "Opened a poll for the workspace: 5 people in 1 group(s)" in reply.text
    assert "#Tiny has 2 people who can answer; results need at least 5" in reply.text
    again = await world.command("pulse now #Platform")
    assert not again.ok
    assert "#Platform already has a poll open until" in again.text
    await world.tick()
    assert all(len(world.polls_to(f"A{i}")) == 1 for i in range(1, 6))
    assert not world.polls_to("B1")
    assert "pulse.now" in await _audit(db)


async def test_pulse_off_stops_polls_and_reminders_and_on_starts_them(db: Database) -> None:
    world = await _world(db)
    await world.command("pulse now #Platform")
    assert (await world.command("pulse off")).text.startswith("Pulse polls are off.")
    assert (await world.command("pulse off")).text == "Pulse polls were already off."
    await world.tick()
    assert all(d.status == DeliveryStatus.CANCELLED for d in await world.deliveries())
    assert not (await world.command("pulse now")).ok
    assert (await world.command("pulse on")).ok
    async with db.session() as s:
        ws = await s.get(Workspace, world.workspace_id)
        assert ws is not None and ws.settings["pulse_enabled"] is True
    assert await _audit(db) == ["pulse.now", "pulse.off", "pulse.on"]


async def test_pulse_threshold_says_what_applies_to_earlier_polls(db: Database) -> None:
    world = await _world(db)
    raised = await world.command("pulse threshold 7")
    assert raised.ok
    assert "at least 7 answers (was 5)" in raised.text and "also to results" in raised.text
    lowered = await world.command("pulse threshold 3")
    assert "keep the higher threshold" in lowered.text
    assert "nothing changed" in (await world.command("pulse threshold 3")).text
    async with db.session() as s:
        ws = await s.get(Workspace, world.workspace_id)
        assert ws is not None and ws.settings["anonymity_threshold"] == 3
    # The parser keeps the floor: never below 3.
    assert not (await world.command("pulse threshold 2")).ok


async def test_pulse_results_before_and_after_a_poll(db: Database) -> None:
    world = await _world(db)
    assert (
        "No polls have closed for #Platform yet."
        in (await world.command("pulse results #Platform")).text
    )
    await world.only_dimension(Dimension.RECOGNITION)
    await world.run_poll({f"A{i}": v for i, v in enumerate([5, 4, 4, 3, 4], start=1)})
    text = (await world.command("pulse results #Platform")).text
    assert text.splitlines() == [
        "**Pulse results for #Platform**",
        "**Recognition** 4.0 ▆ · 5 of 5 answered (100%)",
    ]
    assert (await world.command("me language nl")).ok
    dutch = await world.command("pulse results #Platform")
    assert dutch.text.splitlines()[1] == "**Erkenning** 4,0 ▆ · 5 van 5 antwoordden (100%)"


async def test_pulse_ask_adds_a_question_that_is_asked_next(db: Database) -> None:
    world = await _world(db)
    reply = await world.command('pulse ask "Did you learn something new this week?"')
    assert reply.ok, reply.text
    assert "`own-1` (Your own questions)" in reply.text
    duplicate = await world.command('pulse ask "did you learn something new this week?"')
    assert not duplicate.ok and "`own-1`" in duplicate.text
    second = await world.command('pulse ask "Is your workload doable?" workload')
    assert "`own-2` (Workload and stress)" in second.text
    async with db.session() as s:
        rows = (await s.scalars(select(PulseCustomQuestion).order_by(PulseCustomQuestion.id))).all()
    assert [(r.key, r.dimension) for r in rows] == [("own-1", None), ("own-2", "workload")]
    # Only own questions left in play: the next poll asks one in the admin's own words.
    await world.settings(budget=10)
    async with db.session() as s:
        for question in world.dispatcher.catalogue.questions:
            s.add(PulseRetiredQuestion(workspace_id=world.workspace_id, question_key=question.key))
        await s.commit()
    await world.run_poll({})
    await world.run_poll({})
    asked = [text_of(world.polls_to("A1")[i].message) for i in range(2)]
    assert "Is your workload doable?" in asked[0]
    assert "Did you learn something new this week?" in asked[1]


async def test_pulse_questions_and_retire(db: Database) -> None:
    world = await _world(db)
    listing = await world.command("pulse questions")
    assert listing.ok
    lines = listing.text.splitlines()
    assert lines[0].startswith("**Pulse questions**: 36 asked, 0 retired.")
    assert "- `clarity-priorities` (Clarity of expectations) It is clear to me" in listing.text
    assert len(lines) == 37

    done = await world.command("pulse retire clarity-priorities")
    assert done.ok and "Retired `clarity-priorities`" in done.text
    assert "already retired" in (await world.command("pulse retire clarity-priorities")).text
    unknown = await world.command("pulse retire clarity-2")
    assert not unknown.ok and "There is no question `clarity-2`" in unknown.text
    listing = await world.command("pulse questions")
    assert "35 asked, 1 retired" in listing.text
    assert "`clarity-priorities` (Clarity of expectations, retired)" in listing.text


async def test_the_last_question_cannot_be_retired(db: Database) -> None:
    world = await _world(db)
    keys = [q.key for q in world.dispatcher.catalogue.questions]
    for key in keys[:-1]:
        assert (await world.command(f"pulse retire {key}")).ok
    last = await world.command(f"pulse retire {keys[-1]}")
    assert not last.ok and "the last question left" in last.text


async def test_members_cannot_run_pulse_commands(db: Database) -> None:
    world = await _world(db)
    assert (await world.command("pulse questions")).ok  # makes UADMIN, the one stored admin
    reply = await world.command("pulse now", user="A1")
    assert not reply.ok and "Only admins" in reply.text
    assert await world.deliveries() == []
