"""The App Home tab: what a manager, a member and an admin see, in English and Dutch.

Regenerate the golden views after an intended change with:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/slack/test_home_tab.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, NudgeState
from nudges.i18n import catalogue
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person
from tests.bot.slack.app_harness import ADMIN, MEMBER, Harness, running_edge
from tests.fakes.slack_api import TEAM_ID, view_errors
from tests.golden import compare
from tests.nudges.orgs import make_org

GOLDEN = Path(__file__).parent / "golden"
DUTCH = "U0DUTCH01"
SECOND = "U0MEMBER2"
THIRD = "U0MEMBER3"


@pytest.fixture
async def slack(db: Database) -> AsyncIterator[Harness]:
    users = {DUTCH: {"locale": "nl-NL", "tz": "Europe/Brussels"}}
    async with running_edge(db, users=users) as harness:
        await _org(harness)
        yield harness


async def _org(slack: Harness) -> None:
    ids = await make_org(
        slack.db,
        created=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        managers={ADMIN: [MEMBER, SECOND], DUTCH: [THIRD]},
        workspace=TEAM_ID,
    )
    keys = [n.key for n in slack.services.catalogue.nudges]

    def sent(recipient: str, key: str, day: int, outcome: str | None) -> Delivery:
        moment = datetime(2026, 11, day, 9, 0, tzinfo=UTC)
        kind = slack.services.catalogue.nudge(key).kind.value
        return Delivery(
            idempotency_key=f"nudge:{ids[recipient]}:{key}:{day}",
            workspace_id=ids["__workspace__"],
            recipient_id=ids[recipient],
            kind=DeliveryKind.NUDGE.value,
            content_key=key,
            payload={"kind": kind},
            scheduled_at=moment,
            next_attempt_at=moment,
            status=DeliveryStatus.SENT.value,
            sent_at=moment,
            outcome=outcome,
        )

    async with slack.db.session() as s:
        s.add_all(
            [
                sent(ADMIN, keys[0], 10, NudgeState.DONE.value),
                sent(ADMIN, keys[1], 17, None),
                sent(DUTCH, keys[2], 17, NudgeState.SKIPPED.value),
            ]
        )
        s.add_all(
            [
                Commitment(
                    workspace_id=ids["__workspace__"],
                    manager_id=ids[ADMIN],
                    member_id=ids[MEMBER],
                    text="Send the roadmap draft",
                    due_on=date(2026, 11, 27),
                ),
                Commitment(
                    workspace_id=ids["__workspace__"],
                    manager_id=ids[ADMIN],
                    text="Book the team lunch",
                    due_on=date(2026, 12, 1),
                    state=CommitmentState.MOVED.value,
                ),
                Commitment(
                    workspace_id=ids["__workspace__"],
                    manager_id=ids[ADMIN],
                    text="Already done",
                    due_on=date(2026, 11, 20),
                    state=CommitmentState.DONE.value,
                ),
                Commitment(
                    workspace_id=ids["__workspace__"],
                    manager_id=ids[DUTCH],
                    member_id=ids[THIRD],
                    text="Feedback geven op het plan",
                    due_on=date(2026, 11, 26),
                ),
            ]
        )
        await s.commit()


async def _open_home(slack: Harness, user: str, event_id: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    response = await slack.event(event, event_id=event_id)
    assert response.status == 200
    await slack.settle()
    call = slack.api.calls_to("views.publish")[-1]
    assert call.params["user_id"] == user
    view: dict[str, Any] = call.params["view"]
    assert view_errors(view, "home") == []
    return view


async def test_an_admin_manager_sees_the_english_home(slack: Harness) -> None:
    view = await _open_home(slack, ADMIN, "Ev0HOMEEN")
    compare(GOLDEN, "home_en", view)
    text = json.dumps(view, ensure_ascii=False)
    assert "Your next nudge" in text
    assert "Tuesday 1 December, 10:00 (Europe/Amsterdam)" in text
    assert "Send the roadmap draft" in text and "Book the team lunch" in text
    assert "Already done" not in text
    assert "Workspace settings" in text


async def test_a_dutch_manager_sees_the_dutch_home_without_settings(slack: Harness) -> None:
    view = await _open_home(slack, DUTCH, "Ev0HOMENL")
    compare(GOLDEN, "home_nl", view)
    text = json.dumps(view, ensure_ascii=False)
    assert "Je volgende nudge" in text
    assert "Europe/Brussels" in text
    assert "overgeslagen" in text
    assert "Instellingen van de werkruimte" not in text


async def test_a_member_without_reports_is_told_why_no_nudges_come(slack: Harness) -> None:
    view = await _open_home(slack, MEMBER, "Ev0HOMEMEMBER")
    text = json.dumps(view, ensure_ascii=False)
    assert "nobody reports to you" in text
    assert "Workspace settings" not in text


async def test_someone_made_admin_in_nudgebot_also_sees_the_settings(slack: Harness) -> None:
    async with slack.db.session() as s:
        person = await s.scalar(select(Person).where(Person.external_id == DUTCH))
        assert person is not None
        person.is_admin = True
        await s.commit()
    view = await _open_home(slack, DUTCH, "Ev0HOMEADMIN")
    assert "Instellingen van de werkruimte" in json.dumps(view, ensure_ascii=False)


async def test_publishing_again_gives_the_same_view(slack: Harness) -> None:
    first = await _open_home(slack, ADMIN, "Ev0HOMEONE")
    second = await _open_home(slack, ADMIN, "Ev0HOMETWO")
    assert first == second
    assert len(slack.api.calls_to("views.publish")) == 2
    assert slack.api.home_views[ADMIN]["blocks"] == first["blocks"]


async def test_a_planned_delivery_is_shown_as_the_next_nudge(slack: Harness) -> None:
    async with slack.db.session() as s:
        admin = await s.scalar(select(Person).where(Person.external_id == ADMIN))
        assert admin is not None
        moment = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        key = slack.services.catalogue.nudges[3].key
        s.add(
            Delivery(
                idempotency_key="nudge:snooze:test",
                workspace_id=admin.workspace_id,
                recipient_id=admin.id,
                kind=DeliveryKind.NUDGE.value,
                content_key=key,
                payload={},
                scheduled_at=moment,
                next_attempt_at=moment,
            )
        )
        await s.commit()
    view = await _open_home(slack, ADMIN, "Ev0HOMEPLANNED")
    title = slack.services.catalogue.nudges[3].text("en").title
    text = json.dumps(view, ensure_ascii=False)
    assert title in text
    assert "Wednesday 25 November, 10:00" in text


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_home_catalogue_is_complete_in_dutch_and_english() -> None:
    english = {k: v for k, v in catalogue("en").items() if k.startswith("home.")}
    dutch = {k: v for k, v in catalogue("nl").items() if k.startswith("home.")}
    assert english and set(english) == set(dutch)
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(dutch[key]), key
