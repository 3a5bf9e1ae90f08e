"""Render the neutral message model to Adaptive Cards that Teams accepts, and read clicks back.

Rules from ``platform-samples/teams/LIMITS.md``: cards are version 1.5 at most; buttons are
``Action.Execute`` (inside an ``ActionSet``) with an ``Action.Submit`` fallback for clients that
predate Universal Actions; a bot activity must stay under ~100 KB as UTF-16, so every activity
is cut to 80 KB here. Text and an attachment in one activity turn into two messages whose second
id is lost, so card activities never carry ``text``.

Click contract (shared with the inbound handler): every button's ``data`` is
``{"action": <action id>, "value": <value>}``; ``Action.Execute`` also sets ``verb`` to the action
id. Form inputs arrive merged into the same object, keyed by input id. ``read_action`` accepts
both the ``adaptiveCard/action`` invoke value and an ``Action.Submit`` message value.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
    untyped,
)

logger = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
# Teams refuses a bot activity above ~100 KB counted as UTF-16; 80 KB leaves room for the
# envelope the connector adds.
ACTIVITY_BYTES_MAX = 80_000
# Teams' host config caps an action set at six actions, counting those in the overflow menu.
ACTIONS_PER_SET = 6
# A row of up to five short buttons (the pulse's scale) fits every Teams client as it is; a
# longer row keeps its first three as buttons (room for the overflow "..." on a phone) and
# puts the rest in the overflow menu (Adaptive Cards 1.5 "mode": "secondary"), so no action
# is ever dropped by a client that shows fewer buttons.
ROW_SHOWN_MAX = 5
PRIMARY_MAX = 3
CHOICES_MAX = 100
TEXT_MAX = 4000
LABEL_MAX = 200
ID_MAX = 255
DATA_VALUE_MAX = 2000
TEXT_INPUT_LENGTH_MAX = 3000

# A form's cancel button reports this action with the form's private metadata as value.
FORM_CANCEL = "form.cancel"
# The id of the first body element names the delivery, so a message can be recognised later
# (e.g. in a chat read through Microsoft Graph) without any other bookkeeping.
DELIVERY_MARKER_PREFIX = "nudgebot-delivery-"
DELIVERY_ID_KEY = "delivery_id"
ELLIPSIS = "…"

_STYLES = {"primary": "positive", "danger": "destructive"}
_MENTION = re.compile(r"<@([^<>\s]+)>")
# Characters Adaptive Card markdown (a CommonMark subset) could read as markup, and ``<``/``>``
# so typed text can never spell ``<at>…</at>``.
_MARKDOWN_SPECIALS = frozenset("\\*[]`<>#|~")
_NUMBERED = re.compile(r"^(\s*\d+)\.(\s)")
# Pieces a cut must never split: a mention, an escaped character, a bold marker.
_ATOM = re.compile(r"<at>.*?</at>|\\.|\*\*|.", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CardAction:
    """A click or a form submission read back from Teams."""

    action_id: str
    value: str
    inputs: dict[str, str] = field(default_factory=dict)
    # Set by a form's cancel button: which form was cancelled.
    form: str = ""


@dataclass
class _Mentions:
    """Collect the mention entities a card's texts refer to."""

    names: Mapping[str, str]
    by_text: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tag(self, user_id: str) -> str:
        # Without a known name the id stands in: Teams still resolves the mention to the person.
        name = (
            _plain(self.names.get(user_id) or user_id, LABEL_MAX).replace("<", "").replace(">", "")
        )
        text = f"<at>{name}</at>"
        existing = self.by_text.get(text)
        if existing is not None and existing["mentioned"]["id"] != user_id:
            # Two people with one display name need distinct tags to keep their entities apart.
            text = f"<at>{name} ({user_id})</at>"
        self.by_text.setdefault(
            text, {"type": "mention", "text": text, "mentioned": {"id": user_id, "name": name}}
        )
        return text

    def entities_in(self, texts: Iterable[str]) -> list[dict[str, Any]]:
        joined = "\n".join(texts)
        return [entity for text, entity in self.by_text.items() if text in joined]


def render_message(message: Message, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a message to a Bot Framework message activity holding one Adaptive Card."""
    mentions = _Mentions(names or {})
    body = _render_blocks(message.blocks, mentions)
    delivery_id = message.metadata.get(DELIVERY_ID_KEY, "")
    if delivery_id and body:
        body[0]["id"] = f"{DELIVERY_MARKER_PREFIX}{delivery_id}"
    card = _card(body, _fallback_text(message, mentions.names))
    return _fit_activity(_activity(card, card.get("fallbackText", "")), mentions)


def render_page(page: Page, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a home page to a message activity holding one Adaptive Card."""
    mentions = _Mentions(names or {})
    card = _card(_render_blocks(page.blocks, mentions), "")
    return _fit_activity(_activity(card, ""), mentions)


def render_form(form: Form, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a form to a message activity whose card holds the inputs and submit/cancel."""
    mentions = _Mentions(names or {})
    return _fit_activity(_activity(_form_card(form, mentions), ""), mentions)


def form_card(form: Form, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a form to a bare Adaptive Card, e.g. for an invoke response."""
    return card_of(render_form(form, names))


def _form_card(form: Form, mentions: _Mentions) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    title = _plain(form.title, LABEL_MAX)
    if title:
        body.append(_text_block(title, size="Large", weight="Bolder"))
    intro = _markdown(form.intro, mentions)
    if intro:
        body.append(_text_block(intro))
    body.extend(_input(item) for item in form.inputs)
    metadata = _data_value(form.private_metadata)
    submit = _button_action(
        _plain(form.submit_label, LABEL_MAX) or ELLIPSIS,
        _identifier(form.callback_id),
        metadata,
        "positive",
        with_inputs=True,
    )
    cancel = _button_action(
        _plain(form.cancel_label, LABEL_MAX) or ELLIPSIS, FORM_CANCEL, metadata, None
    )
    cancel["data"]["form"] = _identifier(form.callback_id)
    cancel["fallback"]["data"]["form"] = _identifier(form.callback_id)
    body.append({"type": "ActionSet", "actions": [submit, cancel]})
    return _card(body, "")


def card_of(activity: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Adaptive Card inside a rendered activity (for an invoke's refreshed card)."""
    attachments = activity.get("attachments") or []
    return dict(attachments[0]["content"]) if attachments else _card([], "")


def render_text(markup: str, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a plain reply (help, command answers) to a markdown message activity."""
    mentions = _Mentions(names or {})
    text = _markdown(markup, mentions, limit=TEXT_MAX * 4) or ELLIPSIS
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown", "text": text}
    entities = mentions.entities_in([text])
    if entities:
        activity["entities"] = entities
    return activity


def to_markdown(markup: str, names: Mapping[str, str] | None = None) -> str:
    """Translate neutral markup to Teams markdown, escaping everything that is not markup."""
    return _markdown(markup, _Mentions(names or {}), limit=10**9)


def mentioned_ids(message: Message | Page) -> list[str]:
    """Return the ids of the people a message or page mentions, in order, once each."""
    texts = [message.fallback] if isinstance(message, Message) else []
    texts += [b.text for b in message.blocks if isinstance(b, Header | Text | Context)]
    found: dict[str, None] = {}
    for text in texts:
        for match in _MENTION.finditer(text):
            found.setdefault(match.group(1), None)
    return list(found)


def activity_size(activity: Mapping[str, Any]) -> int:
    """Measure an activity the way Teams limits it: its JSON as UTF-16 bytes."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


def delivery_marker(delivery_id: str) -> str:
    """Return the element id that marks a card as delivery ``delivery_id``."""
    return f"{DELIVERY_MARKER_PREFIX}{delivery_id}"


def read_action(value: Any) -> CardAction | None:
    """Read a click from an ``adaptiveCard/action`` invoke value or an Action.Submit value."""
    if not isinstance(value, Mapping):
        return None
    data: Any
    verb = ""
    action = value.get("action")
    if isinstance(action, Mapping):
        data = action.get("data")
        raw_verb = action.get("verb")
        verb = raw_verb if isinstance(raw_verb, str) else ""
        if data is None:
            data = {}
    else:
        data = value
    if not isinstance(data, Mapping):
        return None
    action_id = data.get("action") if isinstance(data.get("action"), str) else verb
    if not action_id:
        return None
    raw_value = data.get("value")
    choice = data.get("choice")
    if isinstance(choice, str) and isinstance(data.get(choice), str):
        raw_value = data[choice]
    inputs = {
        str(key): _input_value(item)
        for key, item in data.items()
        if key not in ("action", "value", "choice", "form") and isinstance(item, str | int | float)
    }
    form = data.get("form")
    return CardAction(
        action_id=str(action_id),
        value=str(raw_value) if isinstance(raw_value, str | int) else "",
        inputs=inputs,
        form=form if isinstance(form, str) else "",
    )


def _input_value(item: str | int | float) -> str:
    text = str(item)
    # A date input answers YYYY-MM-DD; anything else stays as typed.
    try:
        return date.fromisoformat(text).isoformat() if len(text) == 10 else text
    except ValueError:
        return text


# --- cards ------------------------------------------------------------------------


def _card(body: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if fallback:
        card["fallbackText"] = fallback
    return card


def _activity(card: dict[str, Any], summary: str) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }
    if summary:
        # Shown in notifications and by clients that cannot draw the card; not a second message.
        activity["summary"] = summary
    return activity


def _fallback_text(message: Message, names: Mapping[str, str]) -> str:
    """Plain text for notifications: mentions become names (or go), bold markers go."""

    def plain(markup: str) -> str:
        named = _MENTION.sub(lambda m: names.get(m.group(1), ""), markup)
        return _plain(" ".join(named.replace("**", "").split()), TEXT_MAX)

    text = plain(message.fallback)
    if text:
        return text
    for block in message.blocks:
        if isinstance(block, Header | Text | Context):
            text = plain(block.text)
            if text:
                return text
    return ELLIPSIS


def _render_blocks(blocks: Iterable[Block], mentions: _Mentions) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    separate = False
    for block in blocks:
        if isinstance(block, Divider):
            separate = bool(body)
            continue
        rendered = _render_block(block, mentions)
        if rendered and separate:
            rendered[0]["separator"] = True
            rendered[0]["spacing"] = "Medium"
        separate = separate and not rendered
        body.extend(rendered)
    return body


def _render_block(block: Block, mentions: _Mentions) -> list[dict[str, Any]]:
    if isinstance(block, Header):
        text = _markdown(block.text, mentions, limit=LABEL_MAX)
        return [_text_block(text, size="Large", weight="Bolder")] if text else []
    if isinstance(block, Text):
        text = _markdown(block.text, mentions)
        return [_text_block(text)] if text else []
    if isinstance(block, Context):
        text = _markdown(block.text, mentions)
        return [_text_block(text, size="Small", isSubtle=True)] if text else []
    if isinstance(block, Actions):
        return _action_sets(block.buttons)
    if isinstance(block, Choices):
        return _choices(block)
    return []


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _action_sets(buttons: Iterable[Button]) -> list[dict[str, Any]]:
    actions = [
        _button_action(
            label, _identifier(b.action_id), _data_value(b.value), _STYLES.get(b.style or "")
        )
        for b in buttons
        if (label := _plain(b.label, LABEL_MAX)) and b.action_id.strip()
    ]
    sets = [
        actions[start : start + ACTIONS_PER_SET]
        for start in range(0, len(actions), ACTIONS_PER_SET)
    ]
    for row in sets:
        if len(row) > ROW_SHOWN_MAX:
            for action in row[PRIMARY_MAX:]:
                action["mode"] = action["fallback"]["mode"] = "secondary"
    return [{"type": "ActionSet", "actions": row} for row in sets]


def _button_action(
    title: str,
    action_id: str,
    value: str,
    style: str | None,
    *,
    with_inputs: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    data: dict[str, str] = {"action": action_id, "value": value, **(extra or {})}
    # A button only carries the inputs of a form it submits; other inputs on the card stay out.
    inputs = "auto" if with_inputs else "none"
    submit: dict[str, Any] = {
        "type": "Action.Submit",
        "title": title,
        "data": dict(data),
        "associatedInputs": inputs,
    }
    execute: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": action_id,
        "data": data,
        "associatedInputs": inputs,
    }
    if style:
        submit["style"] = style
        execute["style"] = style
    # Clients without Universal Actions draw the Submit instead and post its data as a message.
    execute["fallback"] = submit
    return execute


def _choices(block: Choices) -> list[dict[str, Any]]:
    seen: set[str] = set()
    choices: list[dict[str, str]] = []
    for option in block.options:
        title = _plain(option.label, LABEL_MAX)
        value = _data_value(option.value)
        if not title or not value or value in seen:
            continue
        seen.add(value)
        choices.append({"title": title, "value": value})
    if not choices or not block.action_id.strip():
        return []
    if len(choices) > CHOICES_MAX:
        logger.warning("dropping %d choices over the card limit", len(choices) - CHOICES_MAX)
        choices = choices[:CHOICES_MAX]
    action_id = _identifier(block.action_id)
    input_id = _identifier(f"{block.block_id or action_id}.choice")
    placeholder = _plain(block.placeholder, LABEL_MAX)
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "choices": choices,
    }
    if placeholder:
        choice_set["placeholder"] = placeholder
    # A card menu does not report a pick by itself; a button next to it sends the choice.
    button = _button_action(
        placeholder or ELLIPSIS, action_id, "", None, with_inputs=True, extra={"choice": input_id}
    )
    return [choice_set, {"type": "ActionSet", "actions": [button]}]


def _input(item: FormInput) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(item, TextInput):
        max_length = min(item.max_length, TEXT_INPUT_LENGTH_MAX)
        element = {"type": "Input.Text", "isMultiline": item.multiline}
        if max_length > 0:
            element["maxLength"] = max_length
        placeholder = _plain(item.placeholder, LABEL_MAX)
        if placeholder:
            element["placeholder"] = placeholder
        initial = item.initial[: max_length if max_length > 0 else TEXT_INPUT_LENGTH_MAX]
        if initial:
            element["value"] = initial
    else:
        element = _date_input(item)
    element["id"] = _identifier(item.input_id)
    element["label"] = _plain(item.label, LABEL_MAX) or ELLIPSIS
    return element


def _date_input(item: DateInput) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "Input.Date"}
    if item.initial is not None:
        element["value"] = item.initial.isoformat()
    return element


def _texts(card: Mapping[str, Any]) -> list[str]:
    return [str(e.get("text", "")) for e in card.get("body", []) if e.get("type") == "TextBlock"]


# --- fitting under the size limit ----------------------------------------------------


def _fit_activity(activity: dict[str, Any], mentions: _Mentions) -> dict[str, Any]:
    """Cut the longest texts, then drop trailing text blocks, until the activity fits."""
    card = activity["attachments"][0]["content"]
    body: list[dict[str, Any]] = card["body"]
    _set_entities(card, mentions)
    total = activity_size(activity)
    while total > ACTIVITY_BYTES_MAX:
        # Work on element sizes (commas and entities aside) and re-measure the whole after.
        sizes = [activity_size(e) for e in body]
        excess = total - ACTIVITY_BYTES_MAX
        texts = [i for i, e in enumerate(body) if e.get("type") == "TextBlock"]
        long = [i for i in texts if len(body[i]["text"]) > 200]
        if long:
            index = max(long, key=lambda i: sizes[i])
            text = body[index]["text"]
            # UTF-16 counts at least two bytes a character; cut at least half each round.
            keep = min(len(text) // 2, max(0, len(text) - excess // 2))
            body[index]["text"] = _cut(text, keep)
        elif texts:
            while texts and excess > 0:
                index = texts.pop()
                excess -= sizes[index]
                body.pop(index)
        else:
            break
        _set_entities(card, mentions)
        total = activity_size(activity)
    if total > ACTIVITY_BYTES_MAX:
        logger.warning("card still over %d bytes after cutting its texts", ACTIVITY_BYTES_MAX)
    return activity


def _set_entities(card: dict[str, Any], mentions: _Mentions) -> None:
    entities = mentions.entities_in(_texts(card))
    msteams = card.setdefault("msteams", {})
    if entities:
        msteams["entities"] = entities
    else:
        msteams.pop("entities", None)


def _cut(text: str, limit: int) -> str:
    """Cut markdown at whole atoms (never inside a mention or an escape) and add an ellipsis."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for atom in _ATOM.findall(text):
        if used + len(atom) > limit - len(ELLIPSIS):
            break
        kept.append(atom)
        used += len(atom)
    cut = "".join(kept).rstrip()
    if cut.count("**") % 2:
        # An unclosed bold marker would print as two stars.
        cut = cut[: cut.rfind("**")].rstrip()
    return cut + ELLIPSIS


# --- text -----------------------------------------------------------------------------


def _markdown(markup: str, mentions: _Mentions, *, limit: int = TEXT_MAX) -> str:
    """Translate neutral markup: bold, italic and bullets stay, mentions become <at> tags."""
    lines = markup.replace("\r\n", "\n").strip().split("\n")
    out: list[str] = []
    previous_bullet = False
    for number, line in enumerate(lines):
        body = line.lstrip(" ")
        bullet = body.startswith("- ")
        if number:
            # A single newline only breaks between list items; elsewhere Teams wants a blank line.
            out.append("\n" if bullet and previous_bullet else "\n\n")
        if bullet:
            out.append("- ")
            body = body[2:]
        out.append(_inline(body, mentions, line_start=not bullet))
        previous_bullet = bullet
    return _cut("".join(out), limit)


def _inline(text: str, mentions: _Mentions, *, line_start: bool) -> str:
    parts: list[str] = []
    for span, is_typed in typed_spans(text):
        start = line_start and not parts
        if is_typed:
            # What a person typed is shown as typed: no markup, no mention, no list.
            parts.append(_escape_typed(span, start))
        else:
            parts.append(_inline_markup(span, mentions, line_start=start))
    return "".join(parts)


def _escape_typed(text: str, line_start: bool) -> str:
    escaped = "".join("\\" + c if c in _MARKDOWN_SPECIALS or c == "_" else c for c in text)
    if line_start:
        escaped = _NUMBERED.sub(r"\1\\.\2", escaped)
        if escaped.startswith(("+ ", "- ")):
            escaped = "\\" + escaped
    return escaped


def _inline_markup(text: str, mentions: _Mentions, *, line_start: bool) -> str:
    parts: list[str] = []
    position = 0
    for match in _MENTION.finditer(text):
        parts.append(_escape(text[position : match.start()], line_start and not parts))
        parts.append(mentions.tag(match.group(1)))
        position = match.end()
    parts.append(_escape(text[position:], line_start and not parts))
    return "".join(parts)


def _escape(text: str, line_start: bool) -> str:
    """Escape what Teams would read as markup; neutral ``**`` and ``_`` stay markup."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("**", index):
            out.append("**")
            index += 2
            continue
        char = text[index]
        out.append("\\" + char if char in _MARKDOWN_SPECIALS else char)
        index += 1
    escaped = "".join(out)
    if line_start:
        # "1. x" at the start of a line would become a numbered list; "- " is ours, "+ " is not.
        escaped = _NUMBERED.sub(r"\1\\.\2", escaped)
        if escaped.startswith(("+ ", "* ")):
            escaped = "\\" + escaped
    return escaped


def _plain(text: str, limit: int) -> str:
    """Plain text (titles, labels): no markup is read there, only the length is kept."""
    clean = untyped(text).replace("\r\n", "\n").strip()
    if len(clean) <= limit:
        return clean
    return clean[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _identifier(value: str) -> str:
    if len(value) > ID_MAX:
        logger.warning("truncating an action id from %d to %d characters", len(value), ID_MAX)
        return value[:ID_MAX]
    return value


def _data_value(value: str) -> str:
    if len(value) > DATA_VALUE_MAX:
        logger.warning("truncating a button value from %d characters", len(value))
        return value[:DATA_VALUE_MAX]
    return value


__all__ = [
    "ACTIVITY_BYTES_MAX",
    "CARD_CONTENT_TYPE",
    "CARD_VERSION",
    "FORM_CANCEL",
    "CardAction",
    "activity_size",
    "card_of",
    "delivery_marker",
    "form_card",
    "mentioned_ids",
    "read_action",
    "render_form",
    "render_message",
    "render_page",
    "render_text",
    "to_markdown",
]
