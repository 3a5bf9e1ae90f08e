"""Card actions: buttons (Action.Execute with an Action.Submit fallback), menus, reading clicks."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.edge.rendering import ELLIPSIS, at_most, chunked, distinct_options
from bot.teams.cards.markdown import LABEL_MAX, plain
from nudges.messages import Button, Choices

logger = logging.getLogger(__name__)

# Teams' host config caps an action set at six actions, counting those in the overflow menu.
ACTIONS_PER_SET = 6
# A row of up to five short buttons (the pulse's scale) fits every Teams client as it is; a
# longer row keeps its first three as buttons (room for the overflow "..." on a phone) and
# puts the rest in the overflow menu (Adaptive Cards 1.5 "mode": "secondary"), so no action
# is ever dropped by a client that shows fewer buttons.
ROW_SHOWN_MAX = 5
PRIMARY_MAX = 3
CHOICES_MAX = 100
ID_MAX = 255
DATA_VALUE_MAX = 2000

# A form's cancel button reports this action with the form's private metadata as value.
FORM_CANCEL = "form.cancel"

_STYLES = {"primary": "positive", "danger": "destructive"}


@dataclass(frozen=True, slots=True)
class CardAction:
    """A click or a form submission read back from Teams."""

    action_id: str
    value: str
    inputs: dict[str, str] = field(default_factory=dict)
    # Set by a form's cancel button: which form was cancelled.
    form: str = ""


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


def action_sets(buttons: Iterable[Button]) -> list[dict[str, Any]]:
    """Render a row of buttons as action sets; a long row shows its first ones, then overflow."""
    actions = [
        button_action(
            label, identifier(b.action_id), data_value(b.value), _STYLES.get(b.style or "")
        )
        for b in buttons
        if (label := plain(b.label, LABEL_MAX)) and b.action_id.strip()
    ]
    sets = chunked(actions, ACTIONS_PER_SET)
    for row in sets:
        if len(row) > ROW_SHOWN_MAX:
            for action in row[PRIMARY_MAX:]:
                action["mode"] = action["fallback"]["mode"] = "secondary"
    return [{"type": "ActionSet", "actions": row} for row in sets]


def _label(text: str) -> str:
    return plain(text, LABEL_MAX)


def button_action(
    title: str,
    action_id: str,
    value: str,
    style: str | None,
    *,
    with_inputs: bool = False,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Render an Action.Execute button that falls back to an Action.Submit with the same data."""
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


def choices(block: Choices) -> list[dict[str, Any]]:
    """Render a menu: a compact choice set and a button that sends the pick."""
    choices = [
        {"title": title, "value": value}
        for title, value in distinct_options(block.options, _label, data_value)
    ]
    if not choices or not block.action_id.strip():
        return []
    choices = at_most(choices, CHOICES_MAX, "card choices")
    action_id = identifier(block.action_id)
    input_id = identifier(f"{block.block_id or action_id}.choice")
    placeholder = plain(block.placeholder, LABEL_MAX)
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "style": "compact",
        "choices": choices,
    }
    if placeholder:
        choice_set["placeholder"] = placeholder
    # A card menu does not report a pick by itself; a button next to it sends the choice.
    button = button_action(
        placeholder or ELLIPSIS, action_id, "", None, with_inputs=True, extra={"choice": input_id}
    )
    return [choice_set, {"type": "ActionSet", "actions": [button]}]


def identifier(value: str) -> str:
    """Keep an action or input id within the length Teams accepts."""
    if len(value) > ID_MAX:
        logger.warning("truncating an action id from %d to %d characters", len(value), ID_MAX)
        return value[:ID_MAX]
    return value


def data_value(value: str) -> str:
    """Keep a button's or choice's value within the length Teams accepts."""
    if len(value) > DATA_VALUE_MAX:
        logger.warning("truncating a button value from %d characters", len(value))
        return value[:DATA_VALUE_MAX]
    return value
