"""Form cards: inputs with a submit and a cancel button, for a message or an invoke answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.edge.rendering import ELLIPSIS, initial_date, put_present, text_input_limits
from bot.teams.cards.actions import FORM_CANCEL, button_action, data_value, identifier
from bot.teams.cards.markdown import LABEL_MAX, Mentions, markdown, plain
from bot.teams.cards.messages import card_activity, card_of, new_card, text_block
from bot.teams.cards.size import fit_activity
from nudges.messages import DateInput, Form, FormInput, TextInput

TEXT_INPUT_LENGTH_MAX = 3000


def render_form(form: Form, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a form to a message activity whose card holds the inputs and submit/cancel."""
    mentions = Mentions(names or {})
    return fit_activity(card_activity(_form_card(form, mentions), ""), mentions)


def form_card(form: Form, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Render a form to a bare Adaptive Card, e.g. for an invoke response."""
    return card_of(render_form(form, names))


def _form_card(form: Form, mentions: Mentions) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    title = plain(form.title, LABEL_MAX)
    if title:
        body.append(text_block(title, size="Large", weight="Bolder"))
    intro = markdown(form.intro, mentions)
    if intro:
        body.append(text_block(intro))
    body.extend(_input(item) for item in form.inputs)
    metadata = data_value(form.private_metadata)
    submit = button_action(
        plain(form.submit_label, LABEL_MAX) or ELLIPSIS,
        identifier(form.callback_id),
        metadata,
        "positive",
        with_inputs=True,
    )
    cancel = button_action(
        plain(form.cancel_label, LABEL_MAX) or ELLIPSIS, FORM_CANCEL, metadata, None
    )
    cancel["data"]["form"] = identifier(form.callback_id)
    cancel["fallback"]["data"]["form"] = identifier(form.callback_id)
    body.append({"type": "ActionSet", "actions": [submit, cancel]})
    return new_card(body, "")


def _input(item: FormInput) -> dict[str, Any]:
    element: dict[str, Any]
    if isinstance(item, TextInput):
        max_length, initial = text_input_limits(item, TEXT_INPUT_LENGTH_MAX)
        element = {"type": "Input.Text", "isMultiline": item.multiline}
        put_present(
            element,
            maxLength=max(max_length, 0),
            placeholder=plain(item.placeholder, LABEL_MAX),
            value=initial,
        )
    else:
        element = _date_input(item)
    element["id"] = identifier(item.input_id)
    element["label"] = plain(item.label, LABEL_MAX) or ELLIPSIS
    return element


def _date_input(item: DateInput) -> dict[str, Any]:
    return put_present({"type": "Input.Date"}, value=initial_date(item))
