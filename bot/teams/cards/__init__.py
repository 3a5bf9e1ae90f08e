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

Modules: ``markdown`` (neutral markup to Teams markdown, mentions, cuts), ``actions`` (buttons,
menus, overflow, reading clicks), ``messages`` (message, home and text activities), ``forms``
(form cards), ``size`` (fitting an activity under Teams' size limit).
"""

from __future__ import annotations

from bot.teams.cards.actions import FORM_CANCEL, CardAction, read_action
from bot.teams.cards.forms import form_card, render_form
from bot.teams.cards.markdown import to_markdown
from bot.teams.cards.messages import (
    CARD_CONTENT_TYPE,
    CARD_SCHEMA,
    CARD_VERSION,
    DELIVERY_ID_KEY,
    card_of,
    delivery_marker,
    mentioned_ids,
    render_message,
    render_page,
    render_text,
)
from bot.teams.cards.size import ACTIVITY_BYTES_MAX, activity_size

__all__ = [
    "ACTIVITY_BYTES_MAX",
    "CARD_CONTENT_TYPE",
    "CARD_SCHEMA",
    "CARD_VERSION",
    "DELIVERY_ID_KEY",
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
