"""Every emoji the catalogues use is drawn as an icon in the sandbox, never left to a font."""

from __future__ import annotations

import unicodedata
from importlib import resources

from bot.sandbox import render
from bot.sandbox.icons import icon, symbols, with_icons
from nudges.messages import Actions, Button, Message, Text


def _catalogue_text() -> str:
    texts = []
    for package in ("nudges.locales.en", "nudges.locales.nl", "nudges.content"):
        folder = resources.files(package.rsplit(".", 1)[0]).joinpath(package.rsplit(".", 1)[1])
        texts.extend(f.read_text("utf-8") for f in folder.iterdir() if f.name.endswith(".toml"))
    return "".join(texts)


def _is_emoji(char: str) -> bool:
    # Symbols beyond the arrows and punctuation that text fonts carry.
    return unicodedata.category(char) == "So" and ord(char) >= 0x2300


def test_every_emoji_of_the_catalogues_has_an_icon() -> None:
    used = {c for c in _catalogue_text() if _is_emoji(c)}
    assert used, "the catalogues use no emoji at all?"
    assert used <= symbols(), sorted(used - symbols())


def test_icons_replace_the_symbols_in_messages_and_buttons() -> None:
    html = render.message(
        Message(
            fallback="f",
            blocks=(
                Text("⏱ 2 min · done ✅️"),
                Actions("p", tuple(Button(s, "pulse.answer", s) for s in "😞🙁😐🙂😄")),
            ),
        ),
        str,
        {},
    )
    visible = html
    for symbol in symbols():
        visible = visible.replace(f'aria-label="{symbol}"', "").replace(f'value="{symbol}"', "")
    assert not any(_is_emoji(c) for c in visible), visible
    assert html.count('<svg class="icon"') == 7
    assert "\ufe0f" not in html


def test_text_without_symbols_is_unchanged() -> None:
    assert with_icons("&lt;b&gt;") == "&lt;b&gt;"
    assert icon("✅").startswith('<svg class="icon"')
