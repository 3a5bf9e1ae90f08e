"""Golden HTML for every message and form the core composes, as the sandbox page shows them.

The inputs are the same composed messages the Slack and Teams goldens render (``tests.golden``).
Regenerate after a wanted change:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/bot/sandbox/test_sandbox_golden.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import render
from nudges.i18n import t
from tests.golden import CORE_FORMS, LOCALES, compare, core_messages

GOLDEN = Path(__file__).parent / "golden"
ANNA = "sb-anna"
MESSAGES = core_messages(ANNA)
# What the page posts back with every button: who is looking, and which chat entry.
HIDDEN = {"as": "sb-mia", "entry": "3"}


def _lines(html: str) -> list[str]:
    """Split the HTML before each tag, so a golden's diff shows what changed."""
    return html.replace("><", ">\n<").split("\n")


def _name(user_id: str) -> str:
    return {ANNA: "Anna de Vries"}.get(user_id, user_id)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_html_matches_its_golden(name: str, locale: str) -> None:
    html = render.message(MESSAGES[name](locale), _name, HIDDEN)
    assert "<script" not in html
    compare(GOLDEN, f"{name}_{locale}", _lines(html))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", sorted(CORE_FORMS))
def test_form_html_matches_its_golden(name: str, locale: str) -> None:
    cancel = t(locale, "sandbox.cancel")
    html = render.form(CORE_FORMS[name](locale), _name, HIDDEN, cancel_label=cancel)
    compare(GOLDEN, f"form_{name}_{locale}", _lines(html))


def test_dutch_and_english_differ_everywhere() -> None:
    for name, build in MESSAGES.items():
        assert render.message(build("en"), _name, HIDDEN) != render.message(
            build("nl"), _name, HIDDEN
        ), name
