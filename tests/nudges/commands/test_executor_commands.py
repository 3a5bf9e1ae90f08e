from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from nudges.coaching.interactions import Actor
from nudges.people.directory import policy_of
from nudges.store.blackouts import BlackoutDate
from nudges.store.cadence import CadenceRule
from nudges.store.org import Person, ReportingLine
from tests.nudges.commands.conftest import ADMIN, MEMBER, Harness, snapshot

Check = Callable[[Harness], Awaitable[None]]


async def _nothing(h: Harness) -> None:
    return None


@dataclass(frozen=True)
class Case:
    """One command, what its reply must say, what it must store and how it is audited."""

    text: str
    expect: tuple[str, ...]
    check: Check = _nothing
    action: str | None = None
    target: str | None = None
    setup: Check = _nothing
    actor: Actor = ADMIN


# --- store checks --------------------------------------------------------------------------


async def person(h: Harness, external_id: str) -> Person:
    found = await h.person(external_id)
    assert found is not None, external_id
    return found


async def rules(h: Harness) -> dict[str, CadenceRule]:
    async with h.db.session() as s:
        return {r.scope_key: r for r in (await s.scalars(select(CadenceRule))).all()}


async def team_of(h: Harness, manager: str) -> list[str]:
    async with h.db.session() as s:
        mgr = await s.scalar(select(Person).where(Person.external_id == manager))
        assert mgr is not None
        rows = await s.scalars(
            select(Person.external_id)
            .join(ReportingLine, ReportingLine.member_id == Person.id)
            .where(ReportingLine.manager_id == mgr.id)
            .order_by(Person.external_id)
        )
        return list(rows.all())


async def blackouts(h: Harness) -> list[date]:
    async with h.db.session() as s:
        return list((await s.scalars(select(BlackoutDate.day).order_by(BlackoutDate.day))).all())


def rule_is(scope: str, frequency: str, weekday: int | None, ordinal: int | None, at: str) -> Check:
    async def check(h: Harness) -> None:
        found = await rules(h)
        key = scope if not scope.startswith("person:") else f"person:{h.ids[scope[7:]]}"
        rule = found[key]
        assert (rule.frequency, rule.weekday, rule.ordinal, rule.at_time) == (
            frequency,
            weekday,
            ordinal,
            at,
        )
        assert rule.purpose == "nudge"
        assert rule.enabled

    return check


def field_is(external_id: str, name: str, value: object) -> Check:
    async def check(h: Harness) -> None:
        assert getattr(await person(h, external_id), name) == value

    return check


def team_is(manager: str, members: list[str]) -> Check:
    async def check(h: Harness) -> None:
        assert await team_of(h, manager) == members

    return check


def blackouts_are(*days: date) -> Check:
    async def check(h: Harness) -> None:
        assert await blackouts(h) == list(days)

    return check


def setting(name: str, value: object) -> Check:
    async def check(h: Harness) -> None:
        assert getattr(await h.workspace(), name) == value

    return check


async def budget_is_5(h: Harness) -> None:
    workspace = await h.workspace()
    assert policy_of(workspace).budget == 5
    assert workspace.settings["budget"] == 5


def run_first(text: str, actor: Actor = ADMIN) -> Check:
    async def setup(h: Harness) -> None:
        assert (await h.run(text, actor)).ok

    return setup


def update(external_id: str, **values: object) -> Check:
    async def setup(h: Harness) -> None:
        await h.update_person(external_id, **values)

    return setup


# --- cases that change the store -----------------------------------------------------------

CHANGES = [
    Case(
        "cadence <@UMGR|mgr> weekly thu 11:00",
        (
            "Nudges for <@UMGR> now go out weekly on Thursday at 11:00",
            "Next nudge: Thursday 26 November, 11:00 (Europe/Amsterdam).",
        ),
        rule_is("person:UMGR", "weekly", 3, None, "11:00"),
        "cadence.set",
        "person:UMGR",
    ),
    Case(
        "cadence #Platform biweekly mon 09:30",
        (
            "team #Platform now go out every other week on Monday at 09:30",
            "nobody in the org chart is in team #Platform yet",
        ),
        rule_is("team:Platform", "biweekly", 0, None, "09:30"),
        "cadence.set",
        "team:Platform",
    ),
    Case(
        "cadence monthly first wed 10:00",
        (
            "The workspace default is now monthly on the first Wednesday at 10:00",
            "Next nudge: Wednesday 2 December, 10:00 (Europe/Amsterdam).",
        ),
        rule_is("workspace", "monthly", 2, 1, "10:00"),
        "cadence.set",
        "workspace",
    ),
    Case(
        "cadence weekdays 18:00",
        ("every weekday at 18:00", "18:00 is outside working hours (09:00–17:00)"),
        rule_is("workspace", "weekdays", None, None, "18:00"),
        "cadence.set",
        "workspace",
    ),
    Case(
        "cadence weekly fri 15:00",
        ("The workspace default is now weekly on Friday at 15:00",),
        rule_is("workspace", "weekly", 4, None, "15:00"),
        "cadence.set",
        "workspace",
        setup=run_first("cadence weekly mon 10:00"),
    ),
    Case(
        "kinds <@UMGR> coffee-checkin,listening",
        ("<@UMGR> now gets only these kinds of nudge: `coffee-checkin`, `listening`.",),
        field_is("UMGR", "enabled_kinds", ["coffee_checkin", "listening"]),
        "kinds.set",
        "person:UMGR",
    ),
    Case(
        "kinds <@UMGR> all",
        ("<@UMGR> now gets every kind of nudge.",),
        field_is("UMGR", "enabled_kinds", None),
        "kinds.set",
        "person:UMGR",
        setup=update("UMGR", enabled_kinds=["listening"]),
    ),
    Case(
        "team <@UMGR> add <@UC> <@UD>",
        ("Added to the team of <@UMGR>: <@UC> and <@UD>.",),
        team_is("UMGR", ["UA", "UB", "UC", "UD"]),
        "team.add",
        "person:UMGR",
    ),
    Case(
        "team <@UNEW> add <@UA>",
        ("Added to the team of <@UNEW>: <@UA>.",),
        team_is("UNEW", ["UA"]),
        "team.add",
        "person:UNEW",
    ),
    Case(
        "team <@UMGR> remove <@UB>",
        ("Removed from the team of <@UMGR>: <@UB>.",),
        team_is("UMGR", ["UA"]),
        "team.remove",
        "person:UMGR",
    ),
    Case(
        "team <@UMGR> remove <@UB> <@UZ>",
        ("Removed from the team of <@UMGR>: <@UB>.", "Not in the team of <@UMGR>: <@UZ>."),
        team_is("UMGR", ["UA"]),
        "team.remove",
        "person:UMGR",
    ),
    Case(
        "pause <@UA> 2w",
        ("<@UA> is paused: no messages from me until Monday 7 December",),
        field_is("UA", "paused_until", date(2026, 12, 6)),
        "pause.set",
        "person:UA",
    ),
    Case(
        "pause <@UA> until 2026-12-01",
        ("until Tuesday 1 December",),
        field_is("UA", "paused_until", date(2026, 11, 30)),
        "pause.set",
        "person:UA",
    ),
    Case(
        "pause 3d",
        ("You are paused: no messages from me until Thursday 26 November",),
        field_is("UADMIN", "paused_until", date(2026, 11, 25)),
        "pause.set",
        "person:UADMIN",
    ),
    Case(
        "resume <@UA>",
        ("<@UA> is no longer paused",),
        field_is("UA", "paused_until", None),
        "pause.end",
        "person:UA",
        setup=update("UA", paused_until=date(2026, 12, 24)),
    ),
    Case(
        "timezone <@UA> America/New_York",
        ("The time zone of <@UA> is now America/New_York; it is 03:00 there now.",),
        field_is("UA", "timezone", "America/New_York"),
        "timezone.set",
        "person:UA",
    ),
    Case(
        "timezone Europe/Lisbon",
        ("Your time zone is now Europe/Lisbon",),
        field_is("UADMIN", "timezone", "Europe/Lisbon"),
        "timezone.set",
        "person:UADMIN",
    ),
    Case(
        "language <@UA> nl",
        ("<@UA> now gets messages in Dutch.",),
        field_is("UA", "locale", "nl"),
        "language.set",
        "person:UA",
    ),
    Case(
        "language nl",
        ("De taal van de werkruimte is nu het Nederlands.",),
        setting("default_locale", "nl"),
        "language.set",
        "workspace",
    ),
    Case(
        "country BE",
        ("Nothing goes out on the public holidays of Belgium (BE) from now on.",),
        setting("country", "BE"),
        "country.set",
        "workspace",
    ),
    Case(
        "blackout add 2026-12-28",
        ("Nothing goes out on 2026-12-28 (Monday 28 December).",),
        blackouts_are(date(2026, 12, 28)),
        "blackout.add",
        "2026-12-28",
    ),
    Case(
        "blackout remove 2026-12-28",
        ("2026-12-28 (Monday 28 December) is no longer a blackout day.",),
        blackouts_are(),
        "blackout.remove",
        "2026-12-28",
        setup=run_first("blackout add 2026-12-28"),
    ),
    Case(
        "budget 5",
        ("Everyone now gets at most 5 bot messages a week (it was 3).",),
        budget_is_5,
        "budget.set",
        "workspace",
    ),
    Case(
        "admins add <@UA>",
        ("<@UA> is now an admin.",),
        field_is("UA", "is_admin", True),
        "admins.add",
        "person:UA",
    ),
    Case(
        "admins remove <@UX>",
        ("<@UX> is no longer an admin.",),
        field_is("UX", "is_admin", False),
        "admins.remove",
        "person:UX",
        setup=run_first("admins add <@UX>"),
    ),
    Case(
        "me pause 10d",
        ("You are paused: no messages from me until Thursday 3 December",),
        field_is("UA", "paused_until", date(2026, 12, 2)),
        "me.pause",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me resume",
        ("You are no longer paused",),
        field_is("UA", "paused_until", None),
        "me.resume",
        "person:UA",
        setup=update("UA", paused_until=date(2026, 11, 23)),
        actor=MEMBER,
    ),
    Case(
        "me language nl",
        ("Je krijgt berichten nu in het Nederlands.",),
        field_is("UA", "locale", "nl"),
        "me.language",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me timezone Asia/Tokyo",
        ("Your time zone is now Asia/Tokyo; it is 17:00 there now.",),
        field_is("UA", "timezone", "Asia/Tokyo"),
        "me.timezone",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me kinds listening,empathy",
        ("You now get only these kinds of nudge: `listening`, `empathy`.",),
        field_is("UA", "enabled_kinds", ["listening", "empathy"]),
        "me.kinds",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me optout",
        ("You will get no more messages from me. `/nudges me optin` undoes this.",),
        field_is("UA", "opted_out", True),
        "me.optout",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me optin",
        ("Welcome back",),
        field_is("UA", "opted_out", False),
        "me.optin",
        "person:UA",
        setup=update("UA", opted_out=True),
        actor=MEMBER,
    ),
    Case(
        "me programme join empathic-listening",
        ("You joined", "7 weeks"),
        field_is("UA", "programme_started_on", date(2026, 11, 23)),
        "me.programme.join",
        "person:UA",
        actor=MEMBER,
    ),
    Case(
        "me programme leave empathic-listening",
        ("You left",),
        field_is("UA", "programme", None),
        "me.programme.leave",
        "person:UA",
        setup=update("UA", programme="empathic-listening", programme_started_on=date(2026, 11, 2)),
        actor=MEMBER,
    ),
]


@pytest.mark.parametrize("case", CHANGES, ids=[c.text for c in CHANGES])
async def test_a_command_changes_the_store_says_so_and_is_audited(
    harness: Harness, case: Case
) -> None:
    await case.setup(harness)
    before = len(await harness.audit())
    reply = await harness.run(case.text, case.actor)
    assert reply.ok, reply.text
    for bit in case.expect:
        assert bit in reply.text
    await case.check(harness)
    entries = (await harness.audit())[before:]
    assert [(e.action, e.target) for e in entries] == [(case.action, case.target)]
    actor = await person(harness, case.actor.user_external_id)
    assert entries[0].actor_id == actor.id
    assert entries[0].workspace_id == harness.ids["__workspace__"]


# --- cases that change nothing -------------------------------------------------------------

NO_CHANGE = [
    Case(
        "team <@UMGR> add <@UA>", ("Already in the team of <@UMGR>, so nothing changed for: <@UA>",)
    ),
    Case(
        "blackout add 2026-12-28",
        ("is already a blackout day",),
        setup=run_first("blackout add 2026-12-28"),
    ),
    Case("resume <@UA>", ("<@UA> was not paused, so nothing changed.",)),
    Case("me resume", ("You were not paused",), actor=MEMBER),
    Case("me optin", ("You had not opted out",), actor=MEMBER),
    Case(
        "me optout",
        ("You had already opted out",),
        setup=update("UA", opted_out=True),
        actor=MEMBER,
    ),
    Case(
        "me programme join empathic-listening",
        ("You are already in", "(week 4 of 7)"),
        setup=update("UA", programme="empathic-listening", programme_started_on=date(2026, 11, 2)),
        actor=MEMBER,
    ),
    Case("me programme leave empathic-listening", ("You are not in",), actor=MEMBER),
    Case("admins add <@UADMIN>", ("You are already an admin",)),
    Case("team <@UMGR>", ("**Team of <@UMGR>** (2): <@UA> and <@UB>",)),
    Case("team <@UNOBODY>", ("<@UNOBODY> has no team members yet",)),
    Case("admins", ("**Admins**: <@UADMIN>", "workspace owners and admins")),
    Case("admins list", ("**Admins**: <@UADMIN>",)),
    Case("blackout", ("There are no upcoming blackout days",)),
    Case(
        "blackout list",
        ("**Upcoming blackout days** (1):", "- 2027-01-04 (Monday 4 January)", "Netherlands"),
        setup=run_first("blackout add 2027-01-04"),
    ),
    Case("help", ("Nudgebot commands", "Settings (admins)")),
    Case("help cadence", ("Usage: `/nudges cadence",)),
    Case("me status", ("**Your settings**",), actor=MEMBER),
]


@pytest.mark.parametrize("case", NO_CHANGE, ids=[c.text for c in NO_CHANGE])
async def test_a_command_with_nothing_to_change_changes_nothing(
    harness: Harness, case: Case
) -> None:
    await case.setup(harness)
    before = await snapshot(harness.db)
    reply = await harness.run(case.text, case.actor)
    assert reply.ok, reply.text
    for bit in case.expect:
        assert bit in reply.text
    assert await snapshot(harness.db) == before


FAILS = [
    Case("blackout add 2026-11-20", ("2026-11-20 (Friday 20 November) has already passed",)),
    Case("blackout remove 2026-12-29", ("is not a blackout day, so there is nothing to remove",)),
    Case("pause <@UA> until 2026-11-23", ("`2026-11-23` is not after today",)),
    Case("pause <@UNEW> until 2020-01-01", ("`2020-01-01` is not after today",)),
    Case("pause <@UA> until 2028-01-01", ("`2028-01-01` is too far ahead: pause for at most 365",)),
    Case("me pause until 2026-11-01", ("`2026-11-01` is not after today",), actor=MEMBER),
    Case("admins remove <@UADMIN>", ("<@UADMIN> is the last admin",)),
    Case("admins remove <@UA>", ("<@UA> is not an admin",)),
    Case("admins remove <@UNOBODY>", ("<@UNOBODY> is not an admin",)),
    Case("team <@UMGR> add <@UC> <@UMGR>", ("<@UMGR> cannot be a member of their own team",)),
    Case("team <@UMGR> remove <@UZ>", ("Not in the team of <@UMGR>: <@UZ>.",)),
    Case("team <@UNOBODY> remove <@UA>", ("I don't know <@UNOBODY> yet",)),
    Case("status <@UNOBODY>", ("I don't know <@UNOBODY> yet", "`/nudges team @manager add")),
    Case("cadence #" + "x" * 101 + " weekly tue 10:00", ("cannot be a team name",)),
    Case("cadence weekly sat 10:00", ("is in the weekend", "Example: `/nudges cadence")),
    Case("frobnicate", ("There is no command `frobnicate`",)),
    Case("pulse now", ("No poll was opened.", "has 2 people who can answer")),
    Case("pulse retire clarity-2", ("There is no question `clarity-2`",)),
    Case(
        'pulse ask "This week I felt heard by my manager."',
        ("already in the bank as `heard-by-manager`",),
    ),
]


@pytest.mark.parametrize("case", FAILS, ids=[c.text[:40] for c in FAILS])
async def test_a_command_that_fails_changes_nothing(harness: Harness, case: Case) -> None:
    await case.setup(harness)
    before = await snapshot(harness.db)
    reply = await harness.run(case.text, case.actor)
    assert not reply.ok
    for bit in case.expect:
        assert bit in reply.text, reply.text
    assert "\n" not in reply.text
    assert await snapshot(harness.db) == before


async def test_a_platform_admin_may_remove_the_last_stored_admin(harness: Harness) -> None:
    reply = await harness.run("admins remove <@UADMIN>", platform_admin=True)
    assert reply.ok, reply.text
    assert "You are no longer an admin." in reply.text
    assert not (await person(harness, "UADMIN")).is_admin


async def test_a_stored_admin_may_step_down_when_another_remains(harness: Harness) -> None:
    assert (await harness.run("admins add <@UB>")).ok
    reply = await harness.run("admins remove <@UADMIN>")
    assert reply.ok
    assert not (await person(harness, "UADMIN")).is_admin


async def test_a_team_cadence_uses_the_org_charts_spelling(harness: Harness) -> None:
    async with harness.db.session() as s:
        for line in (await s.scalars(select(ReportingLine))).all():
            line.team = "Platform"
        await s.commit()
    reply = await harness.run("cadence #platform weekly wed 14:00")
    assert reply.ok
    assert "team #Platform now go out weekly on Wednesday at 14:00" in reply.text
    assert "nobody in the org chart" not in reply.text
    assert "team:Platform" in await rules(harness)
    # New members join the manager's named team.
    assert (await harness.run("team <@UMGR> add <@UC>")).ok
    reply = await harness.run("team <@UMGR>")
    assert "**Team #Platform of <@UMGR>** (3)" in reply.text


async def test_a_cadence_change_moves_the_next_nudge(harness: Harness) -> None:
    assert (await harness.run("cadence <@UMGR> weekly thu 11:00")).ok
    assert (await harness.run("cadence <@UMGR> weekly fri 11:00")).ok
    found = await rules(harness)
    assert len(found) == 1
    entries = await harness.audit()
    assert entries[-1].details["previous"] == {
        "frequency": "weekly",
        "weekday": 3,
        "ordinal": None,
        "at": "11:00",
    }
    reply = await harness.run("status <@UMGR>")
    assert "Next nudge: Friday 27 November, 11:00 (Europe/Amsterdam)" in reply.text
    assert "(personal)" in reply.text


async def test_replies_in_dutch_for_a_dutch_admin(harness: Harness) -> None:
    await harness.update_person("UADMIN", locale="nl")
    reply = await harness.run("cadence <@UMGR> monthly last fri 16:30")
    assert reply.ok
    assert "Nudges voor <@UMGR> gaan nu maandelijks op de laatste vrijdag om 16:30" in reply.text
    assert "Volgende nudge: vrijdag 27 november, 16:30 (Europe/Amsterdam)." in reply.text
    reply = await harness.run("blackout add 2026-12-28")
    assert reply.text == "Op 2026-12-28 (maandag 28 december) gaat er niets de deur uit."
    reply = await harness.run("pause <@UA> until 2020-01-01")
    assert not reply.ok
    assert "`2020-01-01` ligt niet na vandaag" in reply.text


async def test_teams_has_no_prefix_in_replies(harness: Harness) -> None:
    reply = await harness.run("status <@UNOBODY>", prefix="")
    assert "`team @manager add @person`" in reply.text
    reply = await harness.run("budget 99", prefix="")
    assert "Example: `budget 3`" in reply.text
