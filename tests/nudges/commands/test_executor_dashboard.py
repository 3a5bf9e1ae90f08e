"""The ``dashboard`` command: a sign-in link for the admin who asks, and nobody else."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.dashboard.access import LINK_MINUTES, Passes
from bot.dashboard.site import Dashboard
from nudges.commands.service import CommandService
from nudges.store.database import Database
from tests.nudges.commands.conftest import ADMIN, MEMBER, Harness, snapshot

SECRET = "dGhpcnR5LXR3by1ieXRlcy1vZi10ZXN0LWtleS0wMDA="
LINK = re.compile(r"(https?://\S+/dashboard/signin\?token=(\S+))")


def _with_links(harness: Harness, db: Database) -> tuple[Harness, Passes]:
    passes = Passes(SECRET)
    site = Dashboard(
        db, harness.clock, passes, public_url="https://nudgebot.example.com/", local_ok=False
    )
    service = CommandService(harness.dispatcher, site)
    return replace(harness, service=service), passes


async def test_an_admin_gets_a_link_only_for_themselves(harness: Harness, db: Database) -> None:
    harness, passes = _with_links(harness, db)
    reply = await harness.run("dashboard")
    assert reply.ok, reply.text
    found = LINK.search(reply.text)
    assert found is not None, reply.text
    assert found.group(1).startswith("https://nudgebot.example.com/dashboard/signin?token=")
    assert reply.text == (
        f"Your dashboard link for workspace T1 (slack) (valid for {LINK_MINUTES} minutes, "
        f"only for you): {found.group(1)}"
    )
    viewer = passes.read(found.group(2), "link")
    assert viewer is not None
    assert viewer.workspace_id == harness.ids["__workspace__"]
    assert viewer.person_external_id == "UADMIN"
    # A link is not a session: the other purpose refuses it.
    assert passes.read(found.group(2), "session") is None
    (entry,) = await harness.audit()
    assert entry.action == "dashboard.link" and entry.target == "person:UADMIN"
    assert found.group(2) not in str(entry.details)


async def test_the_link_reply_speaks_the_admins_language(harness: Harness, db: Database) -> None:
    harness, _ = _with_links(harness, db)
    await harness.update_person("UADMIN", locale="nl")
    reply = await harness.run("dashboard", prefix="")
    assert reply.ok and reply.text.startswith(
        "Je dashboardlink voor werkruimte T1 (slack) (geldig voor 15 minuten"
    )


async def test_a_member_is_refused_and_gets_no_link(harness: Harness, db: Database) -> None:
    harness, _ = _with_links(harness, db)
    before = await snapshot(db)
    reply = await harness.run("dashboard", MEMBER)
    assert not reply.ok
    assert reply.text == (
        "Only admins can use `/nudges dashboard`. Ask <@UADMIN> if something needs changing."
    )
    assert "token=" not in reply.text
    assert await snapshot(db) == before


async def test_without_a_dashboard_the_command_says_so(harness: Harness) -> None:
    reply = await harness.run("dashboard")
    assert not reply.ok
    assert reply.text.startswith("This Nudgebot does not serve the dashboard")
    assert "nudgebot dashboard-link" in reply.text


async def test_no_link_where_others_read_the_reply(harness: Harness, db: Database) -> None:
    harness, _ = _with_links(harness, db)
    in_channel = replace(ADMIN, private=False)
    reply = await harness.run("dashboard", in_channel)
    assert not reply.ok and "token=" not in reply.text
    assert reply.text.startswith("A dashboard link is for you alone")
    assert await harness.audit() == []


async def test_help_lists_the_command_for_admins_in_both_languages(harness: Harness) -> None:
    reply = await harness.run("help dashboard")
    assert reply.ok and reply.text.startswith("Usage: `/nudges dashboard`"), reply.text
    overview = (await harness.run("help")).text
    assert "/nudges dashboard" in overview
    await harness.update_person("UADMIN", locale="nl")
    assert "aanmeldlink" in (await harness.run("help")).text
    assert "/nudges dashboard" not in (await harness.run("help", MEMBER)).text
