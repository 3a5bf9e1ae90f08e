"""Render the neutral messages, pages and forms as HTML; everything from outside is escaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

from bot.edge.rendering import render_block
from bot.sandbox.icons import with_icons
from nudges.messages import (
    Actions,
    Block,
    Choices,
    Context,
    DateInput,
    Divider,
    Form,
    Header,
    Message,
    Page,
    Text,
    TextInput,
    typed_spans,
)

NameOf = Callable[[str], str]
# Slack-style escaped mentions (<@U1|name>) are accepted too, as the command grammar does.
_MENTION = re.compile(r"<@([^>|\s]+)(?:\|[^>]*)?>")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# A single-star span is bold too, as Slack shows it; some catalogue texts use it.
_STAR = re.compile(r"(?<![\w*])\*(?![\s*])([^*]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w*])_(.+?)_(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_SLOT = re.compile("\x00(\\d+)\x00")


def inline(text: str, name_of: NameOf) -> str:
    """Turn one line of neutral markup into escaped HTML; mentions become names.

    What a person typed is shown exactly as typed: escaped, with no markup and no mentions.
    """
    return "".join(
        escape(span, quote=True) if is_typed else with_icons(_inline_markup(span, name_of))
        for span, is_typed in typed_spans(text)
    )


def _inline_markup(text: str, name_of: NameOf) -> str:
    names: list[str] = []

    def hold(match: re.Match[str]) -> str:
        names.append(name_of(match.group(1)))
        return f"\x00{len(names) - 1}\x00"

    html = escape(_MENTION.sub(hold, text.replace("\x00", "")), quote=True)
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _STAR.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    return _SLOT.sub(
        lambda m: f'<span class="mention">@{escape(names[int(m.group(1))])}</span>', html
    )


def markup(text: str, name_of: NameOf) -> str:
    """Turn a paragraph of neutral markup into HTML: lines, and ``- `` bullets as a list."""
    out: list[str] = []
    bullets: list[str] = []
    for line in text.split("\n"):
        if line.startswith(("- ", "• ")):
            bullets.append(f"<li>{inline(line[2:], name_of)}</li>")
            continue
        if bullets:
            out.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        out.append(inline(line, name_of) + "<br>")
    if bullets:
        out.append("<ul>" + "".join(bullets) + "</ul>")
    html = "".join(out)
    return html.removesuffix("<br>")


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def block(item: Block, name_of: NameOf, hidden: Mapping[str, str]) -> str:
    """Render one block; buttons and menus post to the sandbox's action endpoint."""
    return render_block(item, _Html(name_of, hidden))


@dataclass(frozen=True, slots=True)
class _Html:
    """Each kind of neutral block as HTML; ``hidden`` fields ride along with every post."""

    name_of: NameOf
    hidden: Mapping[str, str]

    def header(self, block: Header) -> str:
        """Render a heading."""
        return f"<h3>{inline(block.text, self.name_of)}</h3>"

    def text(self, block: Text) -> str:
        """Render a paragraph."""
        return f"<p>{markup(block.text, self.name_of)}</p>"

    def context(self, block: Context) -> str:
        """Render a paragraph of small print."""
        return f'<p class="context">{markup(block.text, self.name_of)}</p>'

    def divider(self, block: Divider) -> str:
        """Render a rule."""
        return "<hr>"

    def actions(self, block: Actions) -> str:
        """Render each button as a small form posting its action."""
        buttons = "".join(
            '<form method="post" action="/sandbox/action" class="inline">'
            + _hidden({**self.hidden, "action_id": b.action_id, "value": b.value})
            + f'<button type="submit" class="btn {escape(b.style or "")}" '
            f'data-action="{escape(b.action_id)}">{with_icons(escape(b.label))}</button></form>'
            for b in block.buttons
        )
        return f'<div class="actions">{buttons}</div>'

    def choices(self, block: Choices) -> str:
        """Render a menu as a select with an OK button."""
        options = "".join(
            f'<option value="{escape(o.value)}">{escape(o.label)}</option>' for o in block.options
        )
        return (
            '<form method="post" action="/sandbox/action" class="choices">'
            + _hidden({**self.hidden, "action_id": block.action_id})
            + f'<select name="value" aria-label="{escape(block.placeholder)}">{options}</select>'
            + '<button type="submit" class="btn">OK</button></form>'
        )


def message(msg: Message | Page, name_of: NameOf, hidden: Mapping[str, str]) -> str:
    """Render a whole message or home page."""
    return "".join(block(b, name_of, hidden) for b in msg.blocks)


def form(
    spec: Form,
    name_of: NameOf,
    hidden: Mapping[str, str],
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    cancel_label: str,
) -> str:
    """Render a form (a Slack modal, a Teams card with inputs) as an HTML form."""
    values = values or {}
    errors = errors or {}
    fields: list[str] = []
    for field in spec.inputs:
        name = escape(field.input_id)
        label = f'<label for="f-{name}">{escape(field.label)}</label>'
        if isinstance(field, TextInput):
            value = values.get(field.input_id, field.initial)
            attrs = (
                f'id="f-{name}" name="{name}" maxlength="{field.max_length}" '
                f'placeholder="{escape(field.placeholder)}"'
            )
            control = (
                f"<textarea {attrs} rows=3>{escape(value)}</textarea>"
                if field.multiline
                else f'<input type="text" {attrs} value="{escape(value)}">'
            )
        elif isinstance(field, DateInput):
            initial = field.initial.isoformat() if field.initial else ""
            value = values.get(field.input_id, initial)
            control = f'<input type="date" id="f-{name}" name="{name}" value="{escape(value)}">'
        else:
            raise TypeError(f"cannot render {type(field).__name__}")
        error = errors.get(field.input_id)
        problem = f'<p class="error" role="alert">{markup(error, name_of)}</p>' if error else ""
        fields.append(f'<div class="field">{label}{control}{problem}</div>')
    intro = f"<p>{markup(spec.intro, name_of)}</p>" if spec.intro else ""
    return (
        '<form method="post" action="/sandbox/form" class="modal" id="open-form">'
        f"<h3>{escape(spec.title)}</h3>{intro}"
        + _hidden(
            {**hidden, "callback_id": spec.callback_id, "private_metadata": spec.private_metadata}
        )
        + "".join(fields)
        + f'<div class="actions"><button type="submit" class="btn primary" name="submit" '
        f'value="1">{escape(spec.submit_label)}</button>'
        f'<button type="submit" class="btn" name="cancel" value="1" formnovalidate>'
        f"{escape(cancel_label or spec.cancel_label)}</button></div></form>"
    )
