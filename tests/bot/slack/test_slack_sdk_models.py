"""Every Block Kit payload the bot sends, read by slack_sdk's own Block Kit models.

slack_sdk.models.blocks and slack_sdk.models.views encode Slack's documented limits (lengths,
counts, required fields, allowed element types). Goldens of every message, Home tab and modal
in both languages, the real composers fed the longest texts the limits allow, and random
messages must all parse, validate and read back unchanged.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.blocks import render_home, render_message, render_modal
from nudges.coaching.compose import (
    MAX_COMMITMENT_CHARS,
    followup_message,
    move_commitment_form,
    note_commitment_form,
    nudge_message,
)
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, NudgeState
from nudges.i18n import t
from nudges.messages import Message, Page
from nudges.pulse.messages import poll_message, reminder_message
from tests.bot.slack.test_slack_limits import HYPOTHESIS, blocks, forms, messages
from tests.validators.official import slack_sdk_errors

GOLDEN = Path(__file__).parent / "golden"
CAT = default_catalogue()
GOLDENS = sorted(GOLDEN.rglob("*.json"))


def _payload(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text("utf-8"))
    return {"blocks": loaded} if isinstance(loaded, list) else loaded


def test_goldens_cover_messages_home_and_modals_in_both_languages() -> None:
    names = {p.stem for p in GOLDENS}
    for name in ("home_en", "home_nl", "nudge_open_en", "nudge_open_nl"):
        assert name in names
    assert {p.stem for p in GOLDENS if p.stem.startswith("modal_")} >= {
        "modal_note_commitment_en",
        "modal_note_commitment_nl",
    }


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: str(p.relative_to(GOLDEN)))
def test_every_golden_passes_slack_sdks_block_kit_models(path: Path) -> None:
    payload = _payload(path)
    assert payload.get("blocks")
    assert slack_sdk_errors(payload) == []


def test_the_models_refuse_what_slack_refuses() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "action_id": "a"}
    assert slack_sdk_errors({"blocks": [{"type": "actions", "elements": [button]}]})
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert slack_sdk_errors({"blocks": [section]})
    assert slack_sdk_errors({"blocks": [{"type": "header", "text": {"type": "plain_text"}}]})
    title = {"type": "plain_text", "text": "t" * 25}
    assert slack_sdk_errors({"type": "modal", "title": title, "blocks": [{"type": "divider"}]})


@HYPOTHESIS
@given(msg=messages)
def test_random_messages_pass_the_models(msg: Message) -> None:
    assert slack_sdk_errors(render_message(msg)) == []


@HYPOTHESIS
@given(page=st.builds(Page, blocks=st.lists(blocks, max_size=130).map(tuple)))
def test_random_home_pages_pass_the_models(page: Page) -> None:
    assert slack_sdk_errors(render_home(page)) == []


@HYPOTHESIS
@given(form=forms)
def test_random_modals_pass_the_models(form: Any) -> None:
    assert slack_sdk_errors(render_modal(form)) == []


# The longest values the store and the forms allow: a 128-character platform id, the
# commitment form's 300 characters (astral, so Slack counts each one twice), the largest ids.
LONG_MEMBER = "U" + "9" * 127
LONG_COMMITMENT = "😄" * MAX_COMMITMENT_CHARS
BIG_ID = 2**63 - 1
DUE = date(2026, 12, 31)
CLOSES = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def _longest_messages(locale: str) -> list[Message]:
    reason = t(locale, "planner.reason.member_next", member=LONG_MEMBER, weeks=520)
    found: list[Message] = []
    for nudge in CAT.nudges:
        for outcome in (None, *(state.value for state in NudgeState)):
            found.append(
                nudge_message(
                    delivery_id=BIG_ID,
                    nudge=nudge,
                    locale=locale,
                    catalogue=CAT,
                    member=LONG_MEMBER,
                    reason=reason,
                    outcome=outcome,
                    snoozed_until=DUE,
                )
            )
    for state in CommitmentState:
        found.append(
            followup_message(
                delivery_id=BIG_ID,
                locale=locale,
                text=LONG_COMMITMENT,
                due_on=DUE,
                member=LONG_MEMBER,
                state=state.value,
            )
        )
    for question in CAT.questions:
        text = question.text(locale)
        for closed, answered in ((False, False), (False, True), (True, True)):
            found.append(
                poll_message(
                    delivery_id=BIG_ID,
                    poll_id=BIG_ID,
                    question=text,
                    locale=locale,
                    threshold=999,
                    closes_at=CLOSES,
                    zone=ZoneInfo("Pacific/Chatham"),
                    is_closed=closed,
                    answered=answered,
                )
            )
        found.append(
            reminder_message(
                delivery_id=BIG_ID,
                question=text,
                locale=locale,
                threshold=999,
                sent_on=DUE,
                closes_at=CLOSES,
                zone=ZoneInfo("Pacific/Chatham"),
            )
        )
    return found


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_composed_message_with_the_longest_values_passes_the_models(locale: str) -> None:
    composed = _longest_messages(locale)
    assert len(composed) > 20
    for message in composed:
        assert slack_sdk_errors(render_message(message)) == [], message.fallback[:80]


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_both_commitment_modals_pass_the_models(locale: str) -> None:
    for form in (
        note_commitment_form(BIG_ID, locale, DUE),
        move_commitment_form(BIG_ID, locale, DUE),
    ):
        assert slack_sdk_errors(render_modal(form)) == []
