"""Render the neutral message model to Slack Block Kit payloads that Slack always accepts.

Every limit below comes from Slack's Block Kit reference (see
``platform-samples/slack/block_kit_limits.md``). Slack answers ``invalid_blocks`` for the whole
message when a single field is too long, so the renderer truncates and drops rather than trusting
the content it is given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from bot.edge.rendering import (
    ELLIPSIS,
    at_most,
    chunked,
    distinct_options,
    first_text,
    fit,
    initial_date,
    plain_text,
    put_present,
    render_block,
    text_input_limits,
)
from nudges.messages import (
    Actions,
    Block,
    Button,
    Choices,
    Context,
    DateInput,
    Divider,
    Form,
    FormInput,
    Header,
    Message,
    Page,
    Text,
    TextInput,
    typed_spans,
)

logger = logging.getLogger(__name__)

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONTEXT_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTION_ID_MAX = 255
BLOCK_ID_MAX = 255
ACTIONS_ELEMENTS_MAX = 25
SELECT_OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 24
MODAL_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
INPUT_LABEL_MAX = 2000
TEXT_INPUT_LENGTH_MAX = 3000

METADATA_EVENT_TYPE = "nudgebot_delivery"
DELIVERY_ID_KEY = "delivery_id"
# Slack rejects a block whose interactive elements share an action_id, and a surface whose
# blocks share a block_id; repeats get this separator plus a counter (see ``base_id``).
DUPLICATE_ID_SEPARATOR = "#"

_MENTION = re.compile(r"<@[A-Z0-9]+>")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NEEDS_ESCAPE = frozenset(_ESCAPES)
_DUPLICATE_SUFFIX = re.compile(re.escape(DUPLICATE_ID_SEPARATOR) + r"\d+$")


def base_id(rendered_id: str) -> str:
    """Strip the counter the renderer adds to a repeated action_id or block_id."""
    return _DUPLICATE_SUFFIX.sub("", rendered_id)


def render_message(msg: Message) -> dict[str, Any]:
    """Render a message to ``chat.postMessage``/``chat.update`` arguments."""
    blocks = _render_blocks(msg.blocks, MESSAGE_BLOCKS_MAX)
    payload: dict[str, Any] = {"blocks": blocks, "text": _fallback_text(msg)}
    if msg.metadata.get(DELIVERY_ID_KEY):
        payload["metadata"] = {
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": dict(msg.metadata),
        }
    return payload


def render_home(page: Page) -> dict[str, Any]:
    """Render a page to an App Home view for ``views.publish``."""
    return {"type": "home", "blocks": _not_empty(_render_blocks(page.blocks, VIEW_BLOCKS_MAX))}


def render_modal(form: Form) -> dict[str, Any]:
    """Render a form to a modal view for ``views.open``."""
    blocks: list[dict[str, Any]] = []
    intro = _mrkdwn(form.intro, SECTION_TEXT_MAX)
    if intro:
        blocks.append(_section(intro))
    blocks.extend(_input_block(item) for item in form.inputs)
    view: dict[str, Any] = {
        "type": "modal",
        "title": _required_plain(form.title, MODAL_TITLE_MAX),
        "submit": _required_plain(form.submit_label, MODAL_BUTTON_MAX),
        "close": _required_plain(form.cancel_label, MODAL_BUTTON_MAX),
        "blocks": _not_empty(_unique_block_ids(blocks)[:VIEW_BLOCKS_MAX]),
    }
    # Slack reads an empty optional field as missing; leave such fields out.
    return put_present(
        view,
        callback_id=_identifier(form.callback_id, CALLBACK_ID_MAX, "callback_id"),
        private_metadata=_identifier(
            form.private_metadata, PRIVATE_METADATA_MAX, "private_metadata"
        ),
    )


def _not_empty(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Slack refuses a view without blocks; a lone divider keeps an empty page publishable.
    return blocks or [{"type": "divider"}]


def parse_modal_values(view_state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Map each input id of a submitted modal to its value; dates come back as ISO strings."""
    values: dict[str, str] = {}
    for actions in view_state_values.values():
        for action_id, state in actions.items():
            # The action_id carries the input id unchanged; block_ids may have been de-duplicated.
            values[action_id] = _state_value(state)
    return values


def to_mrkdwn(text: str) -> str:
    """Translate neutral markup to Slack mrkdwn, escaping user text but not mentions."""
    return "".join(_mrkdwn_atoms(text))


def _state_value(state: Mapping[str, Any]) -> str:
    kind = state.get("type")
    if kind == "datepicker":
        raw = state.get("selected_date")
        if not isinstance(raw, str):
            return ""
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            return ""
    if kind in ("static_select", "radio_buttons"):
        option = state.get("selected_option")
        if isinstance(option, Mapping) and isinstance(option.get("value"), str):
            return str(option["value"])
        return ""
    raw = state.get("value")
    return raw if isinstance(raw, str) else ""


def _fallback_text(msg: Message) -> str:
    # Notifications and screen readers need a text; borrow the first readable block.
    return first_text(msg, lambda text: _mrkdwn(text, MESSAGE_TEXT_MAX))


def _render_blocks(blocks: Iterable[Block], max_blocks: int) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = []
    for block in blocks:
        rendered.extend(render_block(block, _BLOCK_KIT))
    return _unique_block_ids(at_most(rendered, max_blocks, "Slack blocks"))


class _BlockKit:
    """Each kind of neutral block as Block Kit blocks (none where nothing is left to show)."""

    def header(self, block: Header) -> list[dict[str, Any]]:
        """Render a header block of plain text."""
        text = _plain(block.text, HEADER_TEXT_MAX)
        return [{"type": "header", "text": _plain_object(text)}] if text else []

    def text(self, block: Text) -> list[dict[str, Any]]:
        """Render a mrkdwn section."""
        text = _mrkdwn(block.text, SECTION_TEXT_MAX)
        return [_section(text)] if text else []

    def context(self, block: Context) -> list[dict[str, Any]]:
        """Render a context block of mrkdwn."""
        text = _mrkdwn(block.text, CONTEXT_TEXT_MAX)
        return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}] if text else []

    def divider(self, block: Divider) -> list[dict[str, Any]]:
        """Render a divider."""
        return [{"type": "divider"}]

    def actions(self, block: Actions) -> list[dict[str, Any]]:
        """Render buttons as actions blocks."""
        return _actions_blocks(block)

    def choices(self, block: Choices) -> list[dict[str, Any]]:
        """Render a menu as a static select."""
        return _choices_blocks(block)


_BLOCK_KIT = _BlockKit()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _actions_blocks(block: Actions) -> list[dict[str, Any]]:
    elements = _unique_action_ids([e for e in map(_button, block.buttons) if e is not None])
    chunks = chunked(elements, ACTIONS_ELEMENTS_MAX)
    block_id = _identifier(block.block_id, BLOCK_ID_MAX, "block_id")
    out: list[dict[str, Any]] = []
    for chunk in chunks:
        rendered: dict[str, Any] = {"type": "actions", "elements": chunk}
        if block_id:
            # Later chunks repeat the block_id; _unique_block_ids numbers them.
            rendered["block_id"] = block_id
        out.append(rendered)
    return out


def _button(button: Button) -> dict[str, Any] | None:
    label = _plain(button.label, BUTTON_TEXT_MAX)
    if not label:
        return None
    element: dict[str, Any] = {"type": "button", "text": _plain_object(label)}
    return put_present(
        element,
        action_id=_identifier(button.action_id, ACTION_ID_MAX, "action_id"),
        value=_identifier(button.value, BUTTON_VALUE_MAX, "button value"),
        style=button.style if button.style in ("primary", "danger") else "",
    )


def _choices_blocks(block: Choices) -> list[dict[str, Any]]:
    options = [
        {"text": _plain_object(label), "value": value}
        for label, value in distinct_options(block.options, _option_label, _option_value)
    ]
    if not options:
        return []
    options = at_most(options, SELECT_OPTIONS_MAX, "Slack select options")
    select: dict[str, Any] = {"type": "static_select", "options": options}
    action_id = _identifier(block.action_id, ACTION_ID_MAX, "action_id")
    if action_id:
        select["action_id"] = action_id
    placeholder = _plain(block.placeholder, PLACEHOLDER_MAX)
    if placeholder:
        select["placeholder"] = _plain_object(placeholder)
    rendered: dict[str, Any] = {"type": "actions", "elements": [select]}
    block_id = _identifier(block.block_id, BLOCK_ID_MAX, "block_id")
    if block_id:
        rendered["block_id"] = block_id
    return [rendered]


def _option_label(text: str) -> str:
    return _plain(text, OPTION_TEXT_MAX)


def _option_value(value: str) -> str:
    return _identifier(value, OPTION_VALUE_MAX, "option value")


def _input_block(item: FormInput) -> dict[str, Any]:
    input_id = _identifier(item.input_id, ACTION_ID_MAX, "input id")
    element: dict[str, Any]
    if isinstance(item, TextInput):
        element = {"type": "plain_text_input", "multiline": item.multiline}
        max_length, initial = text_input_limits(item, TEXT_INPUT_LENGTH_MAX)
        placeholder = _plain(item.placeholder, PLACEHOLDER_MAX)
        put_present(
            element,
            max_length=max(max_length, 0),
            placeholder=_plain_object(placeholder) if placeholder else None,
            initial_value=initial,
        )
    else:
        element = _datepicker(item)
    if input_id:
        element["action_id"] = input_id
    block: dict[str, Any] = {
        "type": "input",
        "label": _required_plain(item.label, INPUT_LABEL_MAX),
        "element": element,
    }
    if input_id:
        block["block_id"] = input_id
    return block


def _datepicker(item: DateInput) -> dict[str, Any]:
    return put_present({"type": "datepicker"}, initial_date=initial_date(item))


def _unique_action_ids(elements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _unique_ids(elements, "action_id", ACTION_ID_MAX)


def _unique_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _unique_ids(blocks, "block_id", BLOCK_ID_MAX)


def _unique_ids(items: list[dict[str, Any]], key: str, limit: int) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for item in items:
        if key in item:
            item[key] = _unique(item[key], seen, limit)
    return items


def _unique(identifier: str, seen: set[str], limit: int) -> str:
    candidate = identifier
    counter = 1
    while candidate in seen:
        counter += 1
        suffix = f"{DUPLICATE_ID_SEPARATOR}{counter}"
        candidate = identifier[: limit - len(suffix)] + suffix
    seen.add(candidate)
    return candidate


def _plain_object(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _required_plain(text: str, limit: int) -> dict[str, Any]:
    # Slack rejects an empty required label; an ellipsis is language-neutral.
    return _plain_object(_plain(text, limit) or ELLIPSIS)


def _plain(text: str, limit: int) -> str:
    # Surrounding whitespace alone would render as an empty field, which Slack rejects.
    return fit(list(plain_text(text)), limit, units=_units)


def _mrkdwn(text: str, limit: int) -> str:
    return fit(_mrkdwn_atoms(text.replace("\r\n", "\n").strip()), limit, units=_units)


def _identifier(value: str, limit: int, what: str) -> str:
    if not value.strip():
        # A blank id or value routes nowhere and Slack may refuse it; leave the field out.
        return ""
    # Ids and values are machine data: cutting them would corrupt routing, so say so loudly.
    if _units(value) > limit:
        logger.warning("truncating %s from %d to Slack's %d characters", what, len(value), limit)
        return fit(list(value), limit, ellipsis="", units=_units)
    return value


def _mrkdwn_atoms(text: str) -> list[str]:
    """Split translated text into pieces that truncation must never cut apart."""
    atoms: list[str] = []
    line_start = True
    for span, is_typed in typed_spans(text):
        if is_typed:
            # What a person typed is shown as typed: "<@U1>" or "&lt;" stay literal text.
            atoms.extend(_ESCAPES.get(char, char) for char in span)
        else:
            atoms.extend(_markup_atoms(span, line_start))
        line_start = span.endswith("\n")
    return atoms


def _markup_atoms(text: str, line_start: bool) -> list[str]:
    atoms: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            atoms.append("\n")
        body = line.lstrip(" ")
        if body.startswith("- ") and (number or line_start):
            atoms.append(line[: len(line) - len(body)] + "• ")
            line = body[2:]
        position = 0
        for mention in _MENTION.finditer(line):
            atoms.extend(_inline_atoms(line[position : mention.start()]))
            atoms.append(mention.group())
            position = mention.end()
        atoms.extend(_inline_atoms(line[position:]))
    return atoms


def _inline_atoms(text: str) -> list[str]:
    atoms: list[str] = []
    # Split left to right as a scan would: "**" is bold, any other character is its own atom.
    for number, part in enumerate(text.split("**")):
        if number:
            atoms.append("*")
        if _NEEDS_ESCAPE.isdisjoint(part):
            atoms.extend(part)
        else:
            atoms.extend(_ESCAPES.get(char, char) for char in part)
    return atoms


def _units(text: str) -> int:
    # Count UTF-16 code units: never fewer than Slack's own count, whichever way it counts.
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
