"""Message and home cards: one Adaptive Card per activity, marked with its delivery."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.edge.rendering import ELLIPSIS, first_text, readable_texts, render_block
from bot.teams.cards.actions import action_sets, choices
from bot.teams.cards.markdown import LABEL_MAX, MENTION, TEXT_MAX, Mentions, markdown, plain
from bot.teams.cards.size import fit_activity
from nudges.messages import Actions, Block, Choices, Context, Divider, Header, Message, Page, Text

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
# The id of the first body element names the delivery, so a message can be recognised later
# (e.g. in a chat read through Microsoft Graph) without any other bookkeeping.
DELIVERY_MARKER_PREFIX = "nudgebot-delivery-"
DELIVERY_ID_KEY = "delivery_id"


def render_message(message: Message, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a message to a Bot Framework message activity holding one Adaptive Card."""
    mentions = Mentions(names or {})
    body = _render_blocks(message.blocks, mentions)
    delivery_id = message.metadata.get(DELIVERY_ID_KEY, "")
    if delivery_id and body:
        body[0]["id"] = f"{DELIVERY_MARKER_PREFIX}{delivery_id}"
    card = new_card(body, _fallback_text(message, mentions.names))
    return fit_activity(card_activity(card, card.get("fallbackText", "")), mentions)


def render_page(page: Page, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a home page to a message activity holding one Adaptive Card."""
    mentions = Mentions(names or {})
    card = new_card(_render_blocks(page.blocks, mentions), "")
    return fit_activity(card_activity(card, ""), mentions)


def card_of(activity: Mapping[str, Any]) -> dict[str, Any]:
    """Return the Adaptive Card inside a rendered activity (for an invoke's refreshed card)."""
    attachments = activity.get("attachments") or []
    return dict(attachments[0]["content"]) if attachments else new_card([], "")


def render_text(markup: str, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a plain reply (help, command answers) to a markdown message activity."""
    mentions = Mentions(names or {})
    text = markdown(markup, mentions, limit=TEXT_MAX * 4) or ELLIPSIS
    activity: dict[str, Any] = {"type": "message", "textFormat": "markdown", "text": text}
    entities = mentions.entities_in([text])
    if entities:
        activity["entities"] = entities
    return activity


def mentioned_ids(message: Message | Page) -> list[str]:
    """Return the ids of the people a message or page mentions, in order, once each."""
    found: dict[str, None] = {}
    for text in readable_texts(message):
        for match in MENTION.finditer(text):
            found.setdefault(match.group(1), None)
    return list(found)


def delivery_marker(delivery_id: str) -> str:
    """Return the element id that marks a card as delivery ``delivery_id``."""
    return f"{DELIVERY_MARKER_PREFIX}{delivery_id}"


def new_card(body: list[dict[str, Any]], fallback: str) -> dict[str, Any]:
    """Wrap body elements in an Adaptive Card of the version Teams accepts."""
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


def card_activity(card: dict[str, Any], summary: str) -> dict[str, Any]:
    """Wrap a card in a message activity; ``summary`` is its notification text."""
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

    def plain_fallback(markup: str) -> str:
        named = MENTION.sub(lambda m: names.get(m.group(1), ""), markup)
        return plain(" ".join(named.replace("**", "").split()), TEXT_MAX)

    return first_text(message, plain_fallback)


def _render_blocks(blocks: Iterable[Block], mentions: Mentions) -> list[dict[str, Any]]:
    elements = _CardElements(mentions)
    body: list[dict[str, Any]] = []
    separate = False
    for block in blocks:
        if isinstance(block, Divider):
            # A card has no divider element: the next element draws a separator above itself.
            separate = bool(body)
            continue
        rendered = render_block(block, elements)
        if rendered and separate:
            rendered[0]["separator"] = True
            rendered[0]["spacing"] = "Medium"
        separate = separate and not rendered
        body.extend(rendered)
    return body


@dataclass(frozen=True, slots=True)
class _CardElements:
    """Each kind of neutral block as card elements (none where nothing is left to show)."""

    mentions: Mentions

    def header(self, block: Header) -> list[dict[str, Any]]:
        """Render a large bold text block."""
        text = markdown(block.text, self.mentions, limit=LABEL_MAX)
        return [text_block(text, size="Large", weight="Bolder")] if text else []

    def text(self, block: Text) -> list[dict[str, Any]]:
        """Render a text block."""
        text = markdown(block.text, self.mentions)
        return [text_block(text)] if text else []

    def context(self, block: Context) -> list[dict[str, Any]]:
        """Render a small subtle text block."""
        text = markdown(block.text, self.mentions)
        return [text_block(text, size="Small", isSubtle=True)] if text else []

    def divider(self, block: Divider) -> list[dict[str, Any]]:
        """Render nothing: ``_render_blocks`` turns a divider into the next element's separator."""
        return []

    def actions(self, block: Actions) -> list[dict[str, Any]]:
        """Render buttons as action sets."""
        return action_sets(block.buttons)

    def choices(self, block: Choices) -> list[dict[str, Any]]:
        """Render a menu as a choice set and its send button."""
        return choices(block)


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """Return a wrapping TextBlock with ``style`` (size, weight, ...)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}
