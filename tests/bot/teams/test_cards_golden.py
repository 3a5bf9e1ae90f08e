"""Golden Adaptive Cards for every message, form and page the core composes, in English and Dutch.

The inputs are the real composers (``nudges.coaching.compose``, ``nudges.pulse.messages``,
``nudges.coaching.home``), the same ones the Slack goldens use, so a change to wording, layout or
rendering shows up here as a reviewable diff. Regenerate after a wanted change:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/teams/test_cards_golden.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.teams.cards import ACTIVITY_BYTES_MAX, activity_size, render_form, render_message
from bot.teams.cards import render_page as render_home_card
from nudges.coaching.compose import (
    followup_message,
    move_commitment_form,
    note_commitment_form,
    nudge_message,
)
from nudges.coaching.home import HomeContext, home_page
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, NudgeState
from nudges.i18n import t
from nudges.messages import Message
from nudges.pulse.messages import poll_message, reminder_message
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.fakes.bot_connector import card_errors
from tests.nudges.orgs import make_org

GOLDEN = Path(__file__).parent / "golden"
CAT = default_catalogue()
COFFEE = next(n for n in CAT.nudges if n.needs_report and n.kind == "coffee_checkin")
AMS = ZoneInfo("Europe/Amsterdam")
CLOSES = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
# Teams people are named by their Entra object id; the name comes from the stored conversation.
ANNA = "5b1e9a3c-1f0e-4d7a-9c0b-2a6f3e8d4c11"
NAMES = {ANNA: "Anna de Vries"}


def _nudge(state: NudgeState | None, locale: str) -> Message:
    reason = t(locale, "planner.reason.member_next", member=ANNA, weeks=5)
    return nudge_message(
        delivery_id=41,
        nudge=COFFEE,
        locale=locale,
        catalogue=CAT,
        member=ANNA,
        reason=reason,
        outcome=state.value if state else None,
        snoozed_until=date(2026, 11, 25) if state is NudgeState.SNOOZED else None,
    )


def _followup(state: CommitmentState, locale: str) -> Message:
    return followup_message(
        delivery_id=42,
        locale=locale,
        text="Send Anna the onboarding notes",
        due_on=date(2026, 11, 27),
        member=ANNA,
        state=state.value,
    )


def _poll(locale: str, *, answered: bool = False, closed: bool = False) -> Message:
    return poll_message(
        delivery_id=43,
        poll_id=7,
        question=CAT.questions[0].text(locale),
        locale=locale,
        threshold=5,
        closes_at=CLOSES,
        zone=AMS,
        is_closed=closed,
        answered=answered,
    )


def _reminder(locale: str) -> Message:
    return reminder_message(
        delivery_id=44,
        question=CAT.questions[0].text(locale),
        locale=locale,
        threshold=5,
        sent_on=date(2026, 11, 26),
        closes_at=CLOSES,
        zone=AMS,
    )


MESSAGES: dict[str, Callable[[str], Message]] = {
    "nudge_open": lambda loc: _nudge(None, loc),
    "nudge_done": lambda loc: _nudge(NudgeState.DONE, loc),
    "nudge_snoozed": lambda loc: _nudge(NudgeState.SNOOZED, loc),
    "nudge_not_relevant": lambda loc: _nudge(NudgeState.NOT_RELEVANT, loc),
    "followup_open": lambda loc: _followup(CommitmentState.OPEN, loc),
    "followup_dropped": lambda loc: _followup(CommitmentState.DROPPED, loc),
    "pulse_open": lambda loc: _poll(loc),
    "pulse_answered": lambda loc: _poll(loc, answered=True),
    "pulse_closed": lambda loc: _poll(loc, answered=True, closed=True),
    "pulse_reminder": _reminder,
}
FORMS: dict[str, Callable[[str], dict[str, Any]]] = {
    "form_note_commitment": lambda loc: render_form(
        note_commitment_form(41, loc, date(2026, 12, 1))
    ),
    "form_move_commitment": lambda loc: render_form(
        move_commitment_form(42, loc, date(2026, 12, 4))
    ),
}


def _compare(name: str, rendered: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}: run with UPDATE_GOLDEN=1 and review"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review, then regenerate"


def _accepted(activity: dict[str, Any]) -> None:
    assert card_errors(activity) == []
    assert activity_size(activity) <= ACTIVITY_BYTES_MAX
    # Text next to a card would make Teams split it into two messages.
    assert "text" not in activity


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_card_matches_its_golden_and_teams_accepts_it(name: str, locale: str) -> None:
    activity = render_message(MESSAGES[name](locale), NAMES)
    _accepted(activity)
    assert activity["summary"]
    _compare(f"{name}_{locale}", activity)


@pytest.mark.parametrize("locale", ["en", "nl"])
@pytest.mark.parametrize("name", sorted(FORMS))
def test_form_card_matches_its_golden_and_teams_accepts_it(name: str, locale: str) -> None:
    activity = FORMS[name](locale)
    _accepted(activity)
    _compare(f"{name}_{locale}", activity)


def test_dutch_and_english_cards_differ_everywhere() -> None:
    for name, build in MESSAGES.items():
        assert render_message(build("en")) != render_message(build("nl")), name
    for name, form in FORMS.items():
        assert form("en") != form("nl"), name


async def _home(db: Database, external_id: str, *, admin: bool) -> dict[str, Any]:
    await make_org(
        db,
        created=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        managers={"aad-manager": [ANNA], "aad-dutch": []},
        platform="teams",
        workspace="tenant-1",
    )
    async with db.session() as session:
        workspace = (
            await session.execute(
                Workspace.__table__.select().where(Workspace.external_id == "tenant-1")
            )
        ).first()
        assert workspace is not None
        ws = await session.get(Workspace, workspace.id)
        person = (
            await session.execute(
                Person.__table__.select().where(Person.external_id == external_id)
            )
        ).first()
        assert ws is not None and person is not None
        me = await session.get(Person, person.id)
        assert me is not None
        if external_id == "aad-dutch":
            me.locale = "nl"
            await session.flush()
        ctx = HomeContext(workspace=ws, person=me, is_admin=admin, command="")
        page = await home_page(session, CAT, ctx, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    return render_home_card(page, {ANNA: "Anna de Vries", "aad-manager": "Mia Jansen"})


async def test_home_card_for_an_english_admin_matches_its_golden(db: Database) -> None:
    activity = await _home(db, "aad-manager", admin=True)
    _accepted(activity)
    _compare("home_en", activity)


async def test_home_card_for_a_dutch_member_matches_its_golden(db: Database) -> None:
    activity = await _home(db, "aad-dutch", admin=False)
    _accepted(activity)
    _compare("home_nl", activity)
