"""Export, erasure, retention and the audit log, read back from the store on either database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, Text, func, select

from nudges.services.ticker import Ticker
from nudges.store import marks
from nudges.store.audit import AuditEntry
from nudges.store.cadence import CadenceRule
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.models import metadata
from nudges.store.org import Person
from nudges.store.pulse import PulseAnswer, PulseParticipation
from nudges.store.rights import ForgottenPerson, PollTotals
from tests.nudges.pulse.world import World, make_world, members

TEAM = members(6, "UA")
ANSWERS = {"UA1": 5, "UA2": 4, "UA3": 4, "UA4": 2, "UA5": 3, "UA6": 5}
PEOPLE_COLUMNS = {
    ("people", "id"),
    ("reporting_lines", "manager_id"),
    ("reporting_lines", "member_id"),
    ("deliveries", "recipient_id"),
    ("deliveries", "subject_id"),
    ("commitments", "manager_id"),
    ("commitments", "member_id"),
    ("cadence_rules", "person_id"),
    ("pulse_participation", "person_id"),
    ("audit_log", "actor_id"),
}


async def _world(db: Database) -> World:
    world = await make_world(db, teams={"UMA": TEAM}, team_names={"UMA": "Team Blue"})
    await world.settings(budget=10)
    return world


async def _polled(db: Database, polls: int = 2) -> World:
    world = await _world(db)
    for _ in range(polls):
        await world.run_poll(ANSWERS)
    return world


async def _results(world: World) -> str:
    reply = await world.command("pulse results #Team Blue")
    assert reply.ok, reply.text
    return reply.text


async def _rows_naming(db: Database, person_id: int, external_id: str) -> list[str]:
    """Return every stored cell that still points at the person, by id column or by text."""
    found: list[str] = []
    async with db.session() as session:
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column in table.columns:
                    value: Any = row[column.name]
                    if (table.name, column.name) in PEOPLE_COLUMNS and value == person_id:
                        found.append(f"{table.name}.{column.name}")
                    elif isinstance(column.type, String | Text) and isinstance(value, str):
                        if external_id in value:
                            found.append(f"{table.name}.{column.name}")
                    elif value is not None and external_id in json.dumps(value, default=str):
                        found.append(f"{table.name}.{column.name}")
    return found


async def test_me_export_holds_the_profile_and_polls_asked_but_no_answer(db: Database) -> None:
    world = await _polled(db)
    await world.command("me language nl", user="UA1")
    await world.command("me workweek mon,tue,thu,fri 08:30-16:30", user="UA1")
    await world.command("me away 2027-07-19 to 2027-08-01", user="UA1")
    reply = await world.command("me export", user="UA1")
    assert reply.ok, reply.text
    (sent,) = world.messenger.files
    assert sent.recipient.user_external_id == "UA1"
    data = json.loads(sent.data)
    assert data["person"]["user_id"] == "UA1"
    assert data["person"]["language"] == "nl"
    assert data["working_week"] == [
        {"days": "0,1,3,4", "start": "08:30", "end": "16:30", "set_by": "self"}
    ]
    assert data["time_off"] == [{"from": "2027-07-19", "to": "2027-08-01"}]
    assert data["reports_to"] == [
        {"manager": "UMA", "team": "Team Blue", "since": data["reports_to"][0]["since"]}
    ]
    assert [p["answered"] for p in data["pulse_polls_asked"]] == [True, True]
    assert all(set(p) == {"period", "team", "answered"} for p in data["pulse_polls_asked"])
    # Every section is explained, in the person's language.
    assert set(data["fields"]) == set(data) - {"fields"}
    assert "nooit het antwoord zelf" in data["fields"]["pulse_polls_asked"]
    # No answer value anywhere: nothing in the file is keyed like an answer.
    text = sent.data.decode()
    assert '"value"' not in text and '"answer"' not in text and '"score"' not in text
    async with db.session() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "rights.export"))
    assert entry is not None and entry.target == "person:UA1"


async def test_an_admin_exports_someone_into_their_own_dm(db: Database) -> None:
    world = await _polled(db, polls=1)
    reply = await world.command("export <@UA2>")
    assert reply.ok, reply.text
    (sent,) = world.messenger.files
    assert sent.recipient.user_external_id == "UADMIN"
    assert json.loads(sent.data)["person"]["user_id"] == "UA2"
    refused = await world.command("export <@UA2>", user="UA3")
    assert not refused.ok and "Only admins" in refused.text
    assert len(world.messenger.files) == 1


async def test_forget_erases_every_trace_and_keeps_the_results(db: Database) -> None:
    world = await _polled(db)
    before = await _results(world)
    a1 = world.ids["UA1"]
    await world.command("admins add <@UA1>")
    await world.command("team <@UMA> remove <@UA1>")
    await world.command("team <@UMA> add <@UA1>")
    assert (await world.command("me workweek mon-thu 08:30-16:30", user="UA1")).ok
    assert (await world.command("me away 2027-07-19 to 2027-08-01", user="UA1")).ok
    assert (await world.command("country <@UA1> BE")).ok
    # The replicas' short marks of UA1: a DM reply cooldown and an open Home (another's stays).
    async with db.session() as session:
        later = datetime.now(UTC) + timedelta(minutes=10)
        for kind, user in (("dm", "UA1"), ("home-open", "UA1"), ("dm", "UA2")):
            await marks.advance(session, marks.about(kind, "slack", "T1", user), later)
        await session.commit()
    reply = await world.command("forget <@UA1>")
    assert reply.ok, reply.text
    assert await _rows_naming(db, a1, "UA1") == []
    async with db.session() as session:
        assert await marks.read(session, marks.about("dm", "slack", "T1", "UA2")) is not None
    assert await _results(world) == before
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(ForgottenPerson)) == 1
        assert await session.scalar(select(func.count()).select_from(PollTotals)) == 2
        assert await session.scalar(select(func.count()).select_from(PulseAnswer)) == 12
        entries = (await session.scalars(select(AuditEntry.target))).all()
    assert any(target.startswith("person:erased-") for target in entries)


async def test_someone_forgotten_is_not_added_back_by_a_mention_only_by_their_own_use(
    db: Database,
) -> None:
    world = await _polled(db, polls=1)
    assert (await world.command("forget <@UA1>")).ok
    again = await world.command("team <@UMA> add <@UA1>")
    assert not again.ok and "asked to be forgotten" in again.text
    assert (await world.command("me status", user="UA1")).ok
    async with db.session() as session:
        assert await session.scalar(select(Person).where(Person.external_id == "UA1")) is not None
        assert await session.scalar(select(func.count()).select_from(ForgottenPerson)) == 0
    assert (await world.command("team <@UMA> add <@UA1>")).ok


async def test_me_forget_asks_first_and_erases_only_when_confirmed(db: Database) -> None:
    world = await _polled(db, polls=1)
    asked = await world.command("me forget", user="UA2")
    assert asked.ok and "me forget confirm" in asked.text
    async with db.session() as session:
        assert await session.scalar(select(Person).where(Person.external_id == "UA2")) is not None
    done = await world.command("me forget confirm", user="UA2")
    assert done.ok, done.text
    assert await _rows_naming(db, world.ids["UA2"], "UA2") == []


async def test_retention_deletes_old_raw_rows_on_the_daily_tick_and_keeps_the_digest(
    db: Database,
) -> None:
    world = await _polled(db)
    before = await _results(world)
    assert (await world.command("retention answers 1m")).ok
    assert (await world.command("retention deliveries 2m")).ok
    shown = await world.command("retention")
    assert "1 month;" in shown.text and "2 months" in shown.text
    world.clock.advance(timedelta(days=100))
    ticker = Ticker(world.dispatcher, 60)
    try:
        await _retention_ticks(db, world, ticker, before)
    finally:
        # Gives up the scheduler lock (PostgreSQL), which would keep a later ticker on standby.
        await ticker.stop()


async def _retention_ticks(db: Database, world: World, ticker: Ticker, before: str) -> None:
    await ticker.tick()
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(PulseAnswer)) == 0
        assert await session.scalar(select(func.count()).select_from(PulseParticipation)) == 0
        old = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.scheduled_at < world.clock.now() - timedelta(days=61))
        )
        assert old == 0
        assert await session.scalar(select(func.count()).select_from(PollTotals)) == 2
        expired = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "retention.expire")
        )
    assert expired is not None and expired.details["answers"] == 12
    assert await _results(world) == before
    # Once a day: a second tick the same day deletes nothing more and logs nothing more.
    await ticker.tick()
    async with db.session() as session:
        runs = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "retention.expire")
        )
    assert runs == 1


async def test_the_audit_log_lists_changes_exports_and_erasures(db: Database) -> None:
    world = await _polled(db, polls=1)
    await world.command("admins add <@UA3>")
    await world.command("export <@UA2>")
    await world.command("forget <@UA4>")
    listing = await world.command("audit")
    assert listing.ok
    lines = listing.text.splitlines()
    assert "Audit log" in lines[0]
    assert "`rights.forget`" in lines[1] and "erased-" in lines[1]
    assert "`rights.export`" in lines[2] and "<@UA2>" in lines[2]
    assert "`admins.add`" in lines[3] and "<@UA3>" in lines[3]
    about = await world.command("audit <@UA2>")
    assert len(about.text.splitlines()) == 2
    later = await world.command("audit --since 2099-01-01")
    assert later.ok and "no entries" in later.text
    refused = await world.command("audit", user="UA2")
    assert not refused.ok and "Only admins" in refused.text


async def test_multi_word_team_names_work_without_quotes_in_every_team_command(
    db: Database,
) -> None:
    world = await _world(db)
    now = await world.command("pulse now #Team Blue")
    assert now.ok, now.text
    schedule = await world.command("pulse schedule #Team Blue biweekly thu 14:00")
    assert schedule.ok, schedule.text
    cadence = await world.command("cadence #Team Blue weekly tue 10:00")
    assert cadence.ok, cadence.text
    async with db.session() as session:
        teams = set((await session.scalars(select(CadenceRule.team))).all())
    assert teams == {"Team Blue"}
    results = await world.command("pulse results #Team  Blue")
    assert results.ok and "Team Blue" in results.text
