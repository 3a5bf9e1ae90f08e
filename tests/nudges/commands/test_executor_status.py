from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, NudgeState
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import ReportingLine
from tests.nudges.commands.conftest import MANAGER, MEMBER, MONDAY, Harness, snapshot


def title(key: str) -> str:
    return default_catalogue().nudge(key).text("en").title


async def _history(h: Harness) -> None:
    """Give UMGR four nudges, a sample and three commitments, one of them closed."""
    manager, member = h.ids["UMGR"], h.ids["UA"]
    workspace = h.ids["__workspace__"]
    rows = [
        ("coffee-two-minutes", 21, DeliveryStatus.SENT, NudgeState.DONE, DeliveryKind.NUDGE),
        ("listening-three-levels", 14, DeliveryStatus.SENT, None, DeliveryKind.NUDGE),
        ("expectations-project-roles", 7, DeliveryStatus.CANCELLED, None, DeliveryKind.NUDGE),
        ("coffee-newcomer", 28, DeliveryStatus.SENT, NudgeState.SKIPPED, DeliveryKind.NUDGE),
        ("coffee-newcomer", 1, DeliveryStatus.SENT, None, DeliveryKind.SAMPLE),
    ]
    async with h.db.session() as s:
        for index, (key, days, status, outcome, kind) in enumerate(rows):
            when = MONDAY - timedelta(days=days)
            s.add(
                Delivery(
                    idempotency_key=f"x:{index}",
                    workspace_id=workspace,
                    recipient_id=manager,
                    kind=kind.value,
                    content_key=key,
                    scheduled_at=when,
                    next_attempt_at=when,
                    status=status.value,
                    sent_at=when if status is DeliveryStatus.SENT else None,
                    outcome=outcome.value if outcome else None,
                )
            )
        s.add_all(
            [
                Commitment(
                    workspace_id=workspace,
                    manager_id=manager,
                    member_id=member,
                    text="Send <!channel> the onboarding notes",
                    due_on=date(2026, 11, 27),
                ),
                Commitment(
                    workspace_id=workspace,
                    manager_id=manager,
                    text="Book the retro room",
                    due_on=date(2026, 12, 2),
                    state=CommitmentState.MOVED.value,
                ),
                Commitment(
                    workspace_id=workspace,
                    manager_id=manager,
                    text="Already kept",
                    due_on=date(2026, 11, 20),
                    state=CommitmentState.DONE.value,
                ),
            ]
        )
        await s.commit()


async def test_status_of_a_manager_says_everything_an_admin_needs(harness: Harness) -> None:
    await _history(harness)
    await harness.update_person("UMGR", timezone="Europe/London", locale="nl")
    before = await snapshot(harness.db)
    reply = await harness.run("status <@UMGR|mgr>")
    assert reply.ok
    lines = reply.text.splitlines()
    assert lines[0] == "**Settings of <@UMGR>**"
    assert "- Cadence: weekly on Tuesday at 10:00 (built-in default)" in lines
    assert "- Next nudge: Tuesday 24 November, 10:00 (Europe/London)" in lines
    assert "- Language: Dutch (chosen)" in lines
    assert "- Time zone: Europe/London (chosen)" in lines
    assert "- Kinds of nudge: all" in lines
    assert "- Reports: 2" in lines
    recent = lines[lines.index("**Last nudges**") + 1 :][:3]
    assert recent == [
        f"- Monday 16 November: {title('expectations-project-roles')} (not sent)",
        f"- Monday 9 November: {title('listening-three-levels')} (sent, no answer yet)",
        f"- Monday 2 November: {title('coffee-two-minutes')} (done)",
    ]
    assert "**Open commitments** (2)" in lines
    assert "- Send ‹!channel› the onboarding notes (to <@UA>), due Friday 27 November" in lines
    assert "- Book the retro room, due Wednesday 2 December" in lines
    assert "Already kept" not in reply.text
    assert "help me" not in reply.text
    assert await snapshot(harness.db) == before


async def test_status_shows_pause_opt_out_and_reachability(harness: Harness) -> None:
    await harness.update_person("UMGR", paused_until=date(2026, 12, 6))
    reply = await harness.run("status <@UMGR>")
    assert "- Paused: messages start again on Monday 7 December" in reply.text
    # The nudges of the paused weeks are skipped, not postponed.
    assert "- Next nudge: Tuesday 8 December, 10:00 (Europe/Amsterdam)" in reply.text
    await harness.update_person("UMGR", opted_out=True)
    reply = await harness.run("status <@UMGR>")
    assert "- Opted out of all messages" in reply.text
    assert "- Next nudge: none, after opting out" in reply.text
    await harness.update_person(
        "UMGR", opted_out=False, reachable=False, unreachable_reason="account_inactive"
    )
    reply = await harness.run("status <@UMGR>")
    assert "- Cannot be reached: account_inactive" in reply.text
    assert "- Next nudge: none, cannot be reached" in reply.text


async def test_status_of_someone_without_a_team(harness: Harness) -> None:
    reply = await harness.run("status <@UA>")
    assert "- Next nudge: none until they have a team" in reply.text
    assert "- Reports: 0" in reply.text
    assert "No nudges yet." in reply.text
    assert "No open commitments." in reply.text


async def test_status_follows_a_team_cadence(harness: Harness) -> None:
    assert (await harness.run("cadence #Platform weekly thu 14:00")).ok
    async with harness.db.session() as s:
        await s.execute(update(ReportingLine).values(team="Platform"))
        await s.commit()
    reply = await harness.run("status <@UMGR>")
    assert "- Cadence: weekly on Thursday at 14:00 (from team #Platform)" in reply.text
    assert "- Next nudge: Thursday 26 November, 14:00" in reply.text


async def test_me_status_works_for_anyone_and_speaks_to_them(harness: Harness) -> None:
    reply = await harness.run("me status", MANAGER)
    assert reply.ok
    assert reply.text.startswith("**Your settings**")
    assert "- Next nudge: Tuesday 24 November, 10:00 (Europe/Amsterdam)" in reply.text
    assert "`/nudges help me` shows how to change these." in reply.text
    reply = await harness.run("me status", MEMBER)
    assert "- Next nudge: none until you have a team" in reply.text


async def test_me_status_in_dutch(harness: Harness) -> None:
    await harness.update_person("UMGR", locale="nl")
    reply = await harness.run("me status", MANAGER)
    assert reply.text.startswith("**Je instellingen**")
    assert "- Ritme: wekelijks op dinsdag om 10:00 (ingebouwde standaard)" in reply.text
    assert "- Volgende nudge: dinsdag 24 november, 10:00 (Europe/Amsterdam)" in reply.text


async def test_workspace_status(harness: Harness) -> None:
    for text in (
        "cadence biweekly wed 11:00",
        "cadence #Blue weekly mon 09:00",
        "cadence <@UMGR> weekly thu 11:00",
        "blackout add 2026-12-28",
        "budget 4",
    ):
        assert (await harness.run(text)).ok, text
    reply = await harness.run("status")
    assert reply.ok
    lines = reply.text.splitlines()
    assert lines[0] == "**Workspace settings**"
    assert "- Cadence: every other week on Wednesday at 11:00 (workspace default)" in lines
    assert "  - #Blue: weekly on Monday at 09:00" in lines
    assert "- Personal cadences: 1" in lines
    assert "- Public holidays: Netherlands (NL)" in lines
    assert "- Budget: at most 4 bot messages per person a week" in lines
    assert "- Upcoming blackout days (1): 2026-12-28" in lines
    assert "- People: 4; getting nudges: 1" in lines
    assert "- Admins: <@UADMIN>" in lines
    assert (await harness.run("status workspace")).text == reply.text
    assert (
        "- Pulse polls: on, weekly on Thursday at 11:00 (workspace); results shown from 5 answers"
        in lines
    )

    assert (await harness.run("pulse threshold 7")).ok
    assert (await harness.run("pulse schedule weekly tue 14:00")).ok
    lines = (await harness.run("status")).text.splitlines()
    assert (
        "- Pulse polls: on, weekly on Tuesday at 14:00 (workspace); results shown from 7 answers"
        in lines
    )
    assert (await harness.run("pulse off")).ok
    lines = (await harness.run("status")).text.splitlines()
    assert "- Pulse polls: off (turn them on with `/nudges pulse on`)" in lines
