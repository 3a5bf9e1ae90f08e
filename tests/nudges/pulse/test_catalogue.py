"""The pulse texts exist in Dutch and English alike, and a poll reads well in both."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from nudges.domain import Dimension
from nudges.i18n import catalogue
from nudges.pulse.messages import poll_message
from nudges.pulse.signals import Assessment
from tests.nudges.pulse.world import answer_buttons, text_of

# Emoji and a bare team name read the same in every language.
SAME_IN_BOTH = {
    *(f"pulse.scale.{n}" for n in range(1, 6)),
    "pulse.team.named",
    "pulse.poll.fallback",
}
SAME_IN_BOTH |= {"pulse.command.question_line", "pulse.command.results_group"}


def _pulse(locale: str) -> dict[str, str]:
    return {k: v for k, v in catalogue(locale).items() if k.startswith("pulse.")}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_dutch_and_english_have_the_same_keys_and_placeholders() -> None:
    english, dutch = _pulse("en"), _pulse("nl")
    assert set(english) == set(dutch)
    for key, text in english.items():
        assert _fields(text) == _fields(dutch[key]), key
    assert {k for k in english if english[k] == dutch[k]} == SAME_IN_BOTH


def test_every_dimension_has_a_label_and_both_reasons() -> None:
    english = _pulse("en")
    for dimension in Dimension:
        assert f"pulse.dimension.{dimension.value}" in english
        for falling, low in ((True, False), (False, True)):
            assessment = Assessment(dimension, (), falling=falling, low=low)
            assert assessment.reason_key in english


def test_a_poll_in_dutch_says_who_sees_what() -> None:
    message = poll_message(
        delivery_id=7,
        poll_id=3,
        question="Ik weet wat er deze week van me verwacht wordt.",
        locale="nl",
        threshold=5,
        closes_at=datetime(2027, 2, 9, 10, 0, tzinfo=UTC),
        zone=ZoneInfo("Europe/Amsterdam"),
    )
    text = text_of(message)
    assert "Je leidinggevende ziet alleen het teamgemiddelde" in text
    assert "5 of meer mensen" in text
    assert "Open tot dinsdag 9 februari, 11:00" in text
    assert [b.value for b in answer_buttons(message)] == [f"3:{n}" for n in range(1, 6)]
    assert message.metadata == {"delivery_id": "7"}
