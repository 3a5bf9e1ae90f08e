"""Golden Block Kit for every message and view the core composes, in English and Dutch.

The inputs are the real composers (``tests.golden``), so a change to wording, layout or
rendering shows up here as a reviewable diff. Regenerate after a wanted change:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/slack/test_slack_golden_messages.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.slack.blocks import render_message, render_modal
from tests.fakes.slack_api import block_kit_errors, view_errors
from tests.golden import CORE_FORMS, LOCALES, compare, core_messages

GOLDEN = Path(__file__).parent / "golden" / "messages"
MESSAGES = core_messages("U0ANNA")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_matches_its_golden_and_slack_accepts_it(name: str, locale: str) -> None:
    rendered = render_message(MESSAGES[name](locale))
    assert block_kit_errors(rendered["blocks"]) == []
    assert rendered["text"]
    compare(GOLDEN, f"{name}_{locale}", rendered)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CORE_FORMS))
def test_view_matches_its_golden_and_slack_accepts_it(name: str, locale: str) -> None:
    rendered = render_modal(CORE_FORMS[name](locale))
    assert view_errors(rendered, "modal") == []
    compare(GOLDEN, f"modal_{name}_{locale}", rendered)


def test_dutch_and_english_differ_everywhere() -> None:
    for name, build in MESSAGES.items():
        assert render_message(build("en")) != render_message(build("nl")), name
    for name, form in CORE_FORMS.items():
        assert render_modal(form("en")) != render_modal(form("nl")), name
