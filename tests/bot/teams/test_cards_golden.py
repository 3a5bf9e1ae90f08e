"""Golden Adaptive Cards for every message, form and page the core composes, in English and Dutch.

The inputs are the real composers (``tests.golden``, and ``nudges.coaching.home`` for the Home
card), the same ones the Slack and sandbox goldens use, so a change to wording, layout or
rendering shows up here as a reviewable diff. Regenerate after a wanted change:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/teams/test_cards_golden.py
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.teams.cards import ACTIVITY_BYTES_MAX, activity_size, render_form, render_message
from bot.teams.cards import render_page as render_home_card
from nudges.coaching.home import HomeContext, home_page
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.fakes.bot_connector import card_errors
from tests.golden import CATALOGUE as CAT
from tests.golden import CORE_FORMS, LOCALES, compare, core_messages
from tests.nudges.orgs import make_org

GOLDEN = Path(__file__).parent / "golden"
# Teams people are named by their Entra object id; the name comes from the stored conversation.
ANNA = "5b1e9a3c-1f0e-4d7a-9c0b-2a6f3e8d4c11"
NAMES = {ANNA: "Anna de Vries"}
MESSAGES = core_messages(ANNA)


def _accepted(activity: dict[str, Any]) -> None:
    assert card_errors(activity) == []
    assert activity_size(activity) <= ACTIVITY_BYTES_MAX
    # Text next to a card would make Teams split it into two messages.
    assert "text" not in activity


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_card_matches_its_golden_and_teams_accepts_it(name: str, locale: str) -> None:
    activity = render_message(MESSAGES[name](locale), NAMES)
    _accepted(activity)
    assert activity["summary"]
    compare(GOLDEN, f"{name}_{locale}", activity)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CORE_FORMS))
def test_form_card_matches_its_golden_and_teams_accepts_it(name: str, locale: str) -> None:
    activity = render_form(CORE_FORMS[name](locale))
    _accepted(activity)
    compare(GOLDEN, f"form_{name}_{locale}", activity)


def test_dutch_and_english_cards_differ_everywhere() -> None:
    for name, build in MESSAGES.items():
        assert render_message(build("en")) != render_message(build("nl")), name
    for name, form in CORE_FORMS.items():
        assert render_form(form("en")) != render_form(form("nl")), name


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
    compare(GOLDEN, "home_en", activity)


async def test_home_card_for_a_dutch_member_matches_its_golden(db: Database) -> None:
    activity = await _home(db, "aad-dutch", admin=False)
    _accepted(activity)
    compare(GOLDEN, "home_nl", activity)
