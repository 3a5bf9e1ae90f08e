"""The sandbox page shows what a person typed exactly as typed: no markup, no mention, no HTML."""

from __future__ import annotations

from bot.sandbox.render import inline, markup
from nudges.messages import typed


def _name(user_id: str) -> str:
    return {"sb-sam": "Sam"}.get(user_id, user_id)


def test_typed_text_is_escaped_and_never_becomes_a_mention_or_markup() -> None:
    question = typed("<@sb-sam> **now** <script>x</script> _please_")
    html = inline(f"Asked by <@sb-sam>: {question}", _name)
    assert html == (
        'Asked by <span class="mention">@Sam</span>: '
        "&lt;@sb-sam&gt; **now** &lt;script&gt;x&lt;/script&gt; _please_"
    )
    assert "\ue000" not in markup(f"- {question}", _name)


def test_markup_outside_typed_text_still_renders() -> None:
    assert inline("**bold** and _soft_", _name) == "<strong>bold</strong> and <em>soft</em>"
