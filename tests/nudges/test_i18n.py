from __future__ import annotations

import string

import pytest

from nudges.i18n import catalogue, normalize_locale, resolve_locale, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_both_languages_with_the_same_placeholders() -> None:
    en, nl = catalogue("en"), catalogue("nl")
    assert set(en) == set(nl), sorted(set(en) ^ set(nl))
    for key, text in en.items():
        assert _fields(text) == _fields(nl[key]), key


def _prose_letters(template: str) -> int:
    literal = "".join(text for text, _, _, _ in string.Formatter().parse(template))
    return sum(c.isalpha() for c in literal)


def test_dutch_is_translated_not_copied() -> None:
    en, nl = catalogue("en"), catalogue("nl")
    # Command syntax is the same in both languages, and so are templates that are nearly all
    # placeholders; everything else with real words must differ.
    same = [
        key
        for key, text in en.items()
        if text == nl[key]
        and not key.endswith((".usage", ".example"))
        and _prose_letters(text) > 6
        and text != "Nudgebot"  # the product name
    ]
    assert same == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("nl-NL", "nl"), ("en_US", "en"), ("NL", "nl"), ("fr-FR", None), ("", None), (None, None)],
)
def test_platform_locales_map_to_our_languages(raw: str | None, expected: str | None) -> None:
    assert normalize_locale(raw) == expected


def test_resolution_order_and_fallback() -> None:
    assert resolve_locale(None, "nl") == "nl"
    assert resolve_locale("fr-FR", "nl") == "nl"
    assert resolve_locale("en-GB", "nl") == "en"
    assert resolve_locale(None, None) == "en"
    assert t("fr", "messages.button.done") == t("en", "messages.button.done")
