"""The demo organisation has a Monday-Thursday part-timer and someone in Belgium."""

from __future__ import annotations

from bot.sandbox import PLATFORM
from bot.sandbox.demo import ADMIN, WORKSPACE
from nudges.coaching.interactions import Actor
from nudges.commands.service import CommandService
from tests.bot.sandbox.conftest import Sandbox


async def test_the_demo_shows_lars_working_monday_to_thursday_and_sofie_in_belgium(
    sandbox: Sandbox,
) -> None:
    await sandbox.edge.workspace()  # waits for the seeding start() began
    commands = CommandService(sandbox.services.dispatcher)
    admin = Actor(PLATFORM, WORKSPACE, ADMIN)
    lars = (await commands.run(admin, "status <@sb-lars>", prefix="/nudges ")).text
    assert "Working week: Mon-Thu, 09:00–17:00 (their own)" in lars
    sofie = (await commands.run(admin, "status <@sb-sofie>", prefix="/nudges ")).text
    assert "Public holidays: Belgium (BE) (chosen)" in sofie
    assert "Europe/Brussels" in sofie
