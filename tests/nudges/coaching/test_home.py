from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from nudges.coaching.home import HomeContext, home_page
from nudges.coaching.interactions import Actor
from nudges.commands.service import CommandService
from nudges.content.catalogue import default_catalogue
from nudges.messages import Text
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.fakes.memory_messenger import InMemoryMessenger
from tests.nudges.orgs import make_org

# Monday 2026-11-23 09:00 in Amsterdam.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_home_names_the_day_a_pause_ends_as_the_pause_reply_did(db: Database) -> None:
    clock = FakeClock(MONDAY)
    ids = await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    dispatcher = Dispatcher(
        db, clock, default_catalogue(), {"slack": InMemoryMessenger()}, EngineConfig()
    )
    reply = await CommandService(dispatcher).run(
        Actor("slack", "T1", "UMGR"), "me pause until 2026-12-07", prefix="/nudges "
    )
    assert reply.ok and "Monday 7 December" in reply.text
    async with db.session() as s:
        workspace = await s.get(Workspace, ids["__workspace__"])
        person = await s.get(Person, ids["UMGR"])
        assert workspace is not None and person is not None
        page = await home_page(
            s, default_catalogue(), HomeContext(workspace, person, False, "/nudges"), MONDAY
        )
    texts = [b.text for b in page.blocks if isinstance(b, Text)]
    (paused,) = [text for text in texts if text.startswith("Paused until")]
    assert "Monday 7 December" in paused


async def test_home_skips_a_period_already_sent_with_send_now(db: Database) -> None:
    """The Home tab and `status` name the same next nudge: not the one send-now already used."""
    clock = FakeClock(MONDAY)
    await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    messenger = InMemoryMessenger()
    dispatcher = Dispatcher(db, clock, default_catalogue(), {"slack": messenger}, EngineConfig())
    commands = CommandService(dispatcher)
    admin = Actor("slack", "T1", "UMGR")
    before = await commands.run(admin, "me status", prefix="/nudges ")
    assert "Tuesday 24 November" in before.text
    # Tuesday's nudge goes out now, on request; the next one is a week later, everywhere.
    assert (
        await commands.run(admin, "send-now <@UMGR>", prefix="/nudges ", is_platform_admin=True)
    ).ok
    assert len(messenger.sent) == 1
    after = await commands.run(admin, "me status", prefix="/nudges ")
    assert "Tuesday 1 December" in after.text
    async with db.session() as s:
        workspace = (await s.scalars(select(Workspace))).one()
        person = (await s.scalars(select(Person).where(Person.external_id == "UMGR"))).one()
        page = await home_page(
            s, default_catalogue(), HomeContext(workspace, person, False, "/nudges"), MONDAY
        )
    texts = " ".join(b.text for b in page.blocks if isinstance(b, Text))
    assert "Tuesday 1 December" in texts
    assert "Tuesday 24 November" not in texts


async def test_home_shows_ones_own_working_week_country_and_time_off(db: Database) -> None:
    from nudges.messages import Context

    clock = FakeClock(MONDAY)
    ids = await make_org(db, created=MONDAY, managers={"UMGR": ["UA"]})
    dispatcher = Dispatcher(
        db, clock, default_catalogue(), {"slack": InMemoryMessenger()}, EngineConfig()
    )
    me = Actor("slack", "T1", "UMGR")
    for text in ("me workweek mon-thu 08:30-16:30", "me away 2026-12-21 to 2027-01-03"):
        assert (await CommandService(dispatcher).run(me, text, prefix="/nudges ")).ok
    async with db.session() as s:
        workspace = await s.get(Workspace, ids["__workspace__"])
        person = await s.get(Person, ids["UMGR"])
        other = await s.get(Person, ids["UA"])
        assert workspace is not None and person is not None and other is not None
        page = await home_page(
            s, default_catalogue(), HomeContext(workspace, person, False, "/nudges"), MONDAY
        )
        plain = await home_page(
            s, default_catalogue(), HomeContext(workspace, other, False, "/nudges"), MONDAY
        )
    notes = [b.text for b in page.blocks if isinstance(b, Context)]
    assert (
        "Your working week: Mon-Thu, 08:30–16:30 · public holidays: NL · "
        "away Monday 21 December to Sunday 3 January" in notes[0]
    )
    # Someone on the defaults sees the page as before.
    assert not any("working week" in b.text for b in plain.blocks if isinstance(b, Context))
