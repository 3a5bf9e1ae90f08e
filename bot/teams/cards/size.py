"""Keep a card activity under the size Teams accepts: cut long texts, then drop trailing ones."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.teams.cards.markdown import Mentions, cut

logger = logging.getLogger(__name__)

# Teams refuses a bot activity above ~100 KB counted as UTF-16; 80 KB leaves room for the
# envelope the connector adds.
ACTIVITY_BYTES_MAX = 80_000


def activity_size(activity: Mapping[str, Any]) -> int:
    """Measure an activity the way Teams limits it: its JSON as UTF-16 bytes."""
    return len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))


def fit_activity(activity: dict[str, Any], mentions: Mentions) -> dict[str, Any]:
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
            body[index]["text"] = cut(text, keep)
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


def _set_entities(card: dict[str, Any], mentions: Mentions) -> None:
    entities = mentions.entities_in(_texts(card))
    msteams = card.setdefault("msteams", {})
    if entities:
        msteams["entities"] = entities
    else:
        msteams.pop("entities", None)


def _texts(card: Mapping[str, Any]) -> list[str]:
    return [str(e.get("text", "")) for e in card.get("body", []) if e.get("type") == "TextBlock"]
