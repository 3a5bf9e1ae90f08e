"""Draw the catalogue's emoji as small inline SVG icons, so no page depends on an emoji font.

Slack and Teams draw emoji themselves; a browser needs a font that has them, and many
machines (a headless Chromium on a server, a bare Linux desktop) have none, which shows as an
empty box. Each symbol the catalogues use is drawn here instead; the character stays as the
icon's accessible name, so screen readers and copy-paste still get it.
"""

from __future__ import annotations

import re

_FACE = '<circle cx="12" cy="12" r="9" fill="#f6c945" stroke="#7a5a00"/>'
_EYES = (
    '<circle cx="9" cy="10" r="1.2" fill="#3b2a00"/>'
    '<circle cx="15" cy="10" r="1.2" fill="#3b2a00"/>'
)
_MOUTH = 'stroke="#3b2a00" fill="none" stroke-linecap="round"'

# Each symbol's drawing on a 24 x 24 grid.
_DRAWINGS: dict[str, str] = {
    "😞": _FACE
    + '<path d="M7.5 9.5l2.5 1M16.5 9.5l-2.5 1" stroke="#3b2a00"/>'
    + f'<path d="M8 17.5q4-4 8 0" {_MOUTH}/>',
    "🙁": _FACE + _EYES + f'<path d="M8.5 16.5q3.5-2.5 7 0" {_MOUTH}/>',
    "😐": _FACE + _EYES + f'<path d="M8.5 15.5h7" {_MOUTH}/>',
    "🙂": _FACE + _EYES + f'<path d="M8.5 14.5q3.5 2.5 7 0" {_MOUTH}/>',
    "😄": _FACE
    + '<path d="M7.5 10q1.5-2 3 0M13.5 10q1.5-2 3 0" stroke="#3b2a00" fill="none"/>'
    + '<path d="M7 13.5h10q-1 5-5 5t-5-5z" fill="#3b2a00"/>',
    "🙅": '<circle cx="12" cy="8" r="5" fill="#f6c945" stroke="#7a5a00"/>'
    + '<path d="M5 21l14-8M19 21L5 13" stroke="#c0392b" stroke-width="2.5" '
    'stroke-linecap="round"/>',
    "✅": '<rect x="3" y="3" width="18" height="18" rx="4" fill="#2e9d46"/>'
    + '<path d="M7 12.5l3.2 3.2L17 8.8" stroke="#fff" stroke-width="2.4" fill="none" '
    'stroke-linecap="round" stroke-linejoin="round"/>',
    "⏱": '<circle cx="12" cy="13.5" r="7.5" fill="#fff" stroke="#4a5058" stroke-width="2"/>'
    + '<path d="M12 13.5V9.5M10 2.5h4M12 2.5v3.5M18 6.5l1.5-1.5" stroke="#4a5058" '
    'stroke-width="2" stroke-linecap="round"/>',
    "⏰": '<circle cx="12" cy="13" r="7" fill="#fff" stroke="#c0392b" stroke-width="2"/>'
    + '<path d="M12 13V9.5M12 13l2.5 1.5M3.5 6.5l3-3M20.5 6.5l-3-3" stroke="#c0392b" '
    'stroke-width="2" stroke-linecap="round"/>',
    "⏭": '<path d="M4 6l7 6-7 6zM11 6l7 6-7 6z" fill="#4a5058"/>'
    + '<path d="M20 6v12" stroke="#4a5058" stroke-width="2"/>',
    "📅": '<rect x="3.5" y="5" width="17" height="15" rx="2" fill="#fff" stroke="#283593" '
    'stroke-width="2"/><path d="M3.5 10h17M8 3v4M16 3v4" stroke="#283593" stroke-width="2"/>',
    "🔒": '<rect x="5" y="11" width="14" height="10" rx="2" fill="#d4a017"/>'
    + '<path d="M8 11V8a4 4 0 0 1 8 0v3" stroke="#6b7178" stroke-width="2" fill="none"/>',
    "🗑": '<path d="M4.5 7h15M10 7V4h4v3M6.5 7l1 13h9l1-13" stroke="#4a5058" stroke-width="2" '
    'fill="none" stroke-linejoin="round"/>',
}
# Variation selectors only ask for emoji or text style; without a font they draw a box too.
_VARIATION = "\ufe0e\ufe0f"
_SYMBOL = re.compile(
    "(" + "|".join(re.escape(s) for s in sorted(_DRAWINGS, key=len, reverse=True)) + ")"
    f"[{_VARIATION}]?"
)
_STRAY = re.compile(f"[{_VARIATION}]")


def icon(symbol: str) -> str:
    """Return the inline SVG of one symbol, named by the symbol itself."""
    return (
        f'<svg class="icon" viewBox="0 0 24 24" width="1.15em" height="1.15em" role="img" '
        f'aria-label="{symbol}">{_DRAWINGS[symbol]}</svg>'
    )


def with_icons(html: str) -> str:
    """Replace every drawn symbol in escaped HTML by its icon; drop stray variation marks."""
    return _STRAY.sub("", _SYMBOL.sub(lambda m: icon(m.group(1)), html))


def symbols() -> frozenset[str]:
    """Return the symbols drawn here."""
    return frozenset(_DRAWINGS)
