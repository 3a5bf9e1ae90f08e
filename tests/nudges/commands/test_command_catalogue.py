from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest

from nudges.commands.topics import TOPICS
from nudges.domain import LOCALES
from nudges.i18n import LOCALES_DIR, catalogue

FIELDS = ("summary", "usage", "description", "example")


def _commands_keys(locale: str) -> dict[str, str]:
    return {key: text for key, text in catalogue(locale).items() if key.startswith("commands.")}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_both_catalogue_files_exist_and_load() -> None:
    for locale in LOCALES:
        path = Path(LOCALES_DIR) / locale / "commands.toml"
        with path.open("rb") as fh:
            assert tomllib.load(fh)


def test_dutch_and_english_have_the_same_keys() -> None:
    assert set(_commands_keys("en")) == set(_commands_keys("nl"))


def test_dutch_and_english_use_the_same_placeholders_per_key() -> None:
    english, dutch = _commands_keys("en"), _commands_keys("nl")
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(dutch[key]), key


@pytest.mark.parametrize("locale", LOCALES)
def test_every_topic_has_all_its_fields(locale: str) -> None:
    texts = _commands_keys(locale)
    for topic in TOPICS:
        for field in FIELDS:
            assert texts.get(f"commands.help.{topic.key}.{field}"), (topic.key, field)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_help_entry_is_left_without_a_topic(locale: str) -> None:
    known = {topic.key for topic in TOPICS}
    for key in _commands_keys(locale):
        if key.startswith("commands.help."):
            assert key.split(".")[2] in known, key


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_are_single_lines(locale: str) -> None:
    for key, text in _commands_keys(locale).items():
        assert "\n" not in text, key
        assert text == text.strip(), key


def test_dutch_is_actually_translated() -> None:
    english, dutch = _commands_keys("en"), _commands_keys("nl")
    prose = [key for key in english if key.endswith((".summary", ".description"))]
    same = [key for key in prose if english[key] == dutch[key]]
    assert same == []
