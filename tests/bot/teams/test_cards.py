"""Adaptive Card rendering rules: version, actions, escaping, mentions, size, and reading clicks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from bot.teams.cards import (
    ACTIVITY_BYTES_MAX,
    FORM_CANCEL,
    activity_size,
    card_of,
    read_action,
    render_form,
    render_message,
    render_page,
    render_text,
    to_markdown,
)
from nudges.coaching.compose import followup_message, note_commitment_form
from nudges.messages import (
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    Action,
    Actions,
    Button,
    Choices,
    Context,
    Divider,
    FormId,
    Header,
    Message,
    Option,
    Page,
    Text,
    typed,
)
from tests.fakes.bot_connector import card_errors

SAMPLES = Path(__file__).parents[2] / "fixtures" / "teams"
AAD = "5b1e9a3c-1f0e-4d7a-9c0b-2a6f3e8d4c11"


def _body(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return list(card_of(activity)["body"])


def _texts(activity: dict[str, Any]) -> list[str]:
    return [e["text"] for e in _body(activity) if e["type"] == "TextBlock"]


def test_a_button_is_action_execute_with_an_action_submit_fallback_carrying_the_same_data() -> None:
    message = Message(
        fallback="f",
        blocks=(Actions("a", (Button("Done", Action.NUDGE_DONE, "41", "primary"),)),),
    )
    card = card_of(render_message(message))
    assert card["version"] == "1.5"
    (action_set,) = card["body"]
    (execute,) = action_set["actions"]
    assert execute["type"] == "Action.Execute"
    assert execute["verb"] == "nudge.done"
    assert execute["data"] == {"action": "nudge.done", "value": "41"}
    assert execute["style"] == "positive"
    fallback = execute["fallback"]
    assert fallback["type"] == "Action.Submit"
    assert fallback["data"] == execute["data"]
    assert fallback["title"] == "Done"


def test_more_than_six_buttons_go_into_further_rows() -> None:
    buttons = tuple(Button(f"B{i}", f"act.{i}", str(i)) for i in range(8))
    activity = render_message(Message("f", (Actions("a", buttons),)))
    sets = [e for e in _body(activity) if e["type"] == "ActionSet"]
    assert [len(s["actions"]) for s in sets] == [6, 2]
    assert card_errors(activity) == []


def test_user_typed_text_cannot_become_a_mention_a_link_or_a_list() -> None:
    typed = "<at>Boss</at> [click](https://evil.example) *x* 1. `code` # h"
    activity = render_message(
        followup_message(
            delivery_id=1,
            locale="en",
            text=typed,
            due_on=date(2026, 12, 1),
            member=None,
            state="open",
        )
    )
    assert card_errors(activity) == []
    text = _texts(activity)[1]
    assert "<at>" not in text
    assert "\\<at\\>Boss\\</at\\>" in text
    assert "\\[click\\](https://evil.example)" in text
    assert "\\*x\\*" in text
    assert "msteams" not in card_of(activity) or "entities" not in card_of(activity)["msteams"]
    # A typed number at the start of a line does not start a numbered list.
    assert to_markdown("1. first") == "1\\. first"
    assert to_markdown("- item\n- next\nafter") == "- item\n- next\n\nafter"


def test_a_mention_becomes_an_at_tag_with_its_entity_named_when_known() -> None:
    message = Message("f", (Text(f"Talk to <@{AAD}> and <@other-id>"),))
    activity = render_message(message, {AAD: "Anna de Vries"})
    (text,) = _texts(activity)
    assert text == "Talk to <at>Anna de Vries</at> and <at>other-id</at>"
    entities = card_of(activity)["msteams"]["entities"]
    assert {e["mentioned"]["id"] for e in entities} == {AAD, "other-id"}
    assert {e["text"] for e in entities} == {"<at>Anna de Vries</at>", "<at>other-id</at>"}
    assert card_errors(activity) == []


def test_a_name_typed_with_markup_cannot_break_out_of_its_at_tag() -> None:
    activity = render_message(Message("f", (Text(f"Hi <@{AAD}>"),)), {AAD: "</at><b>x"})
    (text,) = _texts(activity)
    assert text.count("<at>") == 1 and text.count("</at>") == 1
    assert card_errors(activity) == []


def test_a_divider_separates_the_next_block_and_is_dropped_at_the_edges() -> None:
    activity = render_page(Page((Divider(), Header("H"), Divider(), Context("c"), Divider())))
    body = _body(activity)
    assert [e.get("separator", False) for e in body] == [False, True]
    assert body[1]["isSubtle"] is True


def test_a_long_list_is_cut_to_stay_under_the_size_limit_and_every_mention_keeps_its_entity() -> (
    None
):
    lines = "\n".join(f"- commitment {i} with <@{AAD}> " + "é" * 300 for i in range(400))
    message = Message("f", (Header("T"), *(Text(lines) for _ in range(3)), Context("end")))
    activity = render_message(message, {AAD: "Anna"})
    assert activity_size(activity) <= ACTIVITY_BYTES_MAX
    assert card_errors(activity) == []
    for text in _texts(activity):
        assert text.count("<at>") == text.count("</at>")
    assert any(t.endswith("…") for t in _texts(activity))


def test_many_blocks_are_dropped_from_the_end_when_cutting_is_not_enough() -> None:
    blocks = tuple(Text("x" * 150) for _ in range(2000))
    activity = render_message(Message("f", (*blocks, Actions("a", (Button("OK", "a", "1"),)))))
    assert activity_size(activity) <= ACTIVITY_BYTES_MAX
    # The buttons survive: only text goes.
    assert _body(activity)[-1]["type"] == "ActionSet"


def test_the_card_names_its_delivery_and_has_a_plain_fallback() -> None:
    message = Message("Your nudge: **tea**", (Text("x"),), metadata={"delivery_id": "77"})
    activity = render_message(message)
    assert _body(activity)[0]["id"] == "nudgebot-delivery-77"
    assert activity["summary"] == "Your nudge: tea"
    assert "text" not in activity


def test_the_notification_text_names_mentioned_people() -> None:
    message = Message(f"Coffee with <@{AAD}> and <@x>", (Text("x"),))
    assert render_message(message, {AAD: "Anna"})["summary"] == "Coffee with Anna and"


def test_a_choice_menu_sends_the_pick_with_its_own_button() -> None:
    choices = Choices("snooze", "nudge.snooze_until", "Snooze until…", (Option("Tomorrow", "1d"),))
    activity = render_message(Message("f", (choices,)))
    assert card_errors(activity) == []
    choice_set, action_set = _body(activity)
    assert choice_set["type"] == "Input.ChoiceSet"
    button = action_set["actions"][0]
    data = {**button["data"], choice_set["id"]: "1d"}
    assert read_action(data) == read_action({"action": {"type": "Action.Execute", "data": data}})
    pressed = read_action(data)
    assert pressed is not None and pressed.action_id == "nudge.snooze_until"
    assert pressed.value == "1d"


def test_a_form_card_has_labelled_inputs_and_submits_them_with_its_metadata() -> None:
    activity = render_form(note_commitment_form(41, "en", date(2026, 12, 1)))
    assert card_errors(activity) == []
    body = _body(activity)
    inputs = {e["id"]: e for e in body if e["type"].startswith("Input.")}
    assert inputs[COMMITMENT_TEXT]["type"] == "Input.Text"
    assert inputs[COMMITMENT_TEXT]["isMultiline"] is True
    assert inputs[COMMITMENT_DUE] == {
        "type": "Input.Date",
        "id": COMMITMENT_DUE,
        "label": inputs[COMMITMENT_DUE]["label"],
        "value": "2026-12-01",
    }
    submit, cancel = body[-1]["actions"]
    assert submit["associatedInputs"] == "auto"
    assert cancel["associatedInputs"] == "none"
    # What Teams sends back for Execute: data merged with the inputs.
    invoke = {
        "action": {
            "type": "Action.Execute",
            "verb": submit["verb"],
            "data": {**submit["data"], COMMITMENT_TEXT: "Lunch", COMMITMENT_DUE: "2026-12-03"},
        },
        "trigger": "manual",
    }
    pressed = read_action(invoke)
    assert pressed is not None
    assert pressed.action_id == FormId.NOTE_COMMITMENT
    assert pressed.value == "41"
    assert pressed.inputs == {COMMITMENT_TEXT: "Lunch", COMMITMENT_DUE: "2026-12-03"}
    cancelled = read_action(cancel["fallback"]["data"])
    assert cancelled is not None and cancelled.action_id == FORM_CANCEL
    assert cancelled.form == FormId.NOTE_COMMITMENT and cancelled.value == "41"


def test_read_action_takes_the_sample_submit_and_refuses_what_is_not_a_click() -> None:
    sample = SAMPLES / "message_action_submit.json"
    submitted = json.loads(sample.read_text(encoding="utf-8"))["value"]
    pressed = read_action(submitted)
    assert pressed is not None and pressed.action_id == "pulse_answer"
    assert pressed.inputs["comment"] == "typed into Input.Text id=comment"
    assert read_action(None) is None
    assert read_action({"action": {"type": "Action.Execute"}}) is None
    assert read_action({"action": {"type": "Action.Execute", "data": "x"}}) is None
    assert read_action({"other": 1}) is None


def test_a_text_reply_is_markdown_with_its_mentions() -> None:
    activity = render_text(f"**Admins:** <@{AAD}>", {AAD: "Anna"})
    assert activity["text"] == "**Admins:** <at>Anna</at>"
    assert activity["entities"][0]["mentioned"]["id"] == AAD


def test_typed_text_stays_literal_and_never_mentions() -> None:
    question = typed(f"<@{AAD}> **now** _please_ [link](x)")
    activity = render_message(Message("poll", (Text(f"Asked: {question}"),)), {AAD: "Anna"})
    (text,) = _texts(activity)
    assert text == "Asked: \\<@" + AAD + "\\> \\*\\*now\\*\\* \\_please\\_ \\[link\\](x)"
    assert "msteams" not in card_of(activity) or "entities" not in card_of(activity)["msteams"]
    assert card_errors(activity) == []
