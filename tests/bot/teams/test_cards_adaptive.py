"""Every Teams golden card, read by Microsoft's own Adaptive Cards library (npm adaptivecards).

The library parses each card, validates it against a Teams host config (the cap on actions,
the allowed types and properties) and renders it in jsdom. Nothing may warn, no action may be
lost, and a card shows no more buttons than Teams draws; the rest sit in the overflow menu.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.teams.cards import card_of
from tests.validators.official import MAX_ACTIONS, check_cards

GOLDEN = Path(__file__).parent / "golden"
GOLDENS = sorted(GOLDEN.glob("*.json"))


def _card(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return card_of(loaded) if "attachments" in loaded else loaded


def _titles(node: Any) -> list[str]:
    """Titles of every top-level action (not fallbacks) anywhere in a card."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "ActionSet":
            found.extend(action["title"] for action in node["actions"])
        for key, value in node.items():
            if key not in {"fallback", "actions"}:
                found.extend(_titles(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_titles(item))
    return found


@pytest.fixture(scope="module")
def reports() -> dict[str, Any]:
    cards = [_card(path) for path in GOLDENS]
    return dict(zip((p.stem for p in GOLDENS), check_cards(cards), strict=True))


def test_goldens_cover_both_languages() -> None:
    stems = {p.stem for p in GOLDENS}
    assert len(stems) >= 20
    for stem in stems:
        base, _, locale = stem.rpartition("_")
        assert locale in {"en", "nl"} and f"{base}_{'nl' if locale == 'en' else 'en'}" in stems


@pytest.mark.parametrize("name", [p.stem for p in GOLDENS])
def test_microsofts_library_accepts_the_card_without_a_warning(
    name: str, reports: dict[str, Any]
) -> None:
    report = reports[name]
    assert report.events == []
    assert report.rendered


@pytest.mark.parametrize("name", [p.stem for p in GOLDENS])
def test_every_action_is_reachable_and_teams_draws_every_button(
    name: str, reports: dict[str, Any]
) -> None:
    report = reports[name]
    parsed = [t for row in report.primary + report.secondary for t in row]
    assert sorted(parsed) == sorted(_titles(_card(GOLDEN / f"{name}.json")))
    for primary, secondary in zip(report.primary, report.secondary, strict=True):
        # The overflow menu takes one button's place.
        assert len(primary) + (1 if secondary else 0) <= MAX_ACTIONS
        assert len(primary) + len(secondary) <= MAX_ACTIONS


@pytest.mark.parametrize("locale", ["en", "nl"])
def test_an_open_nudge_offers_done_and_snoozes_as_buttons_and_the_rest_in_the_menu(
    locale: str, reports: dict[str, Any]
) -> None:
    for state in ("open", "snoozed"):
        report = reports[f"nudge_{state}_{locale}"]
        assert [len(row) for row in report.primary] == [3]
        assert [len(row) for row in report.secondary] == [3]
    labels = {"en": ["Done", "Tomorrow", "Next week"], "nl": ["Gedaan", "Morgen", "Volgende week"]}
    assert reports[f"nudge_open_{locale}"].primary == [labels[locale]]


def test_the_library_refuses_what_teams_would_drop() -> None:
    action = {"type": "Action.Submit", "title": "x", "data": {"action": "a"}}
    too_many = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "ActionSet", "actions": [action] * (MAX_ACTIONS + 1)}],
    }
    unknown = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Gauge"}]}
    bad_mode = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "ActionSet", "actions": [{**action, "mode": "hidden"}]}],
    }
    refused = check_cards([too_many, unknown, bad_mode])
    assert any("TooManyActions" in e for e in refused[0].events)
    assert any("UnknownElementType" in e for e in refused[1].events)
    assert refused[2].events
