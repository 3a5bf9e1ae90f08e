from __future__ import annotations

from typing import Any

import pytest

from bot.slack.blocks import (
    ACTION_ID_MAX,
    BUTTON_TEXT_MAX,
    BUTTON_VALUE_MAX,
    CONTEXT_TEXT_MAX,
    ELLIPSIS,
    HEADER_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    SECTION_TEXT_MAX,
    SELECT_OPTIONS_MAX,
    VIEW_BLOCKS_MAX,
    base_id,
    parse_modal_values,
    render_home,
    render_message,
    render_modal,
    to_mrkdwn,
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
    Header,
    Message,
    Option,
    Page,
    Text,
    TextInput,
)


def message(*blocks: Block, fallback: str = "fallback", **metadata: str) -> Message:
    return Message(fallback=fallback, blocks=blocks, metadata=metadata)


def section_text(payload: dict[str, Any], index: int = 0) -> str:
    text: str = payload["blocks"][index]["text"]["text"]
    return text


@pytest.mark.parametrize(
    ("neutral", "mrkdwn"),
    [
        ("**bold** and _italic_", "*bold* and _italic_"),
        ("- one\n- two", "• one\n• two"),
        ("  - nested", "• nested"),
        ("a\n  - nested", "a\n  • nested"),
        ("hi <@U0ABC123>!", "hi <@U0ABC123>!"),
        ("Tom & Jerry <3 > 2", "Tom &amp; Jerry &lt;3 &gt; 2"),
        (
            "<!channel> <https://evil.example|click>",
            "&lt;!channel&gt; &lt;https://evil.example|click&gt;",
        ),
        ("<@lowercase> stays escaped", "&lt;@lowercase&gt; stays escaped"),
        ("already &amp; escaped", "already &amp;amp; escaped"),
        ("line\r\nbreak", "line\nbreak"),
    ],
)
def test_markup_translates_to_mrkdwn(neutral: str, mrkdwn: str) -> None:
    assert section_text(render_message(message(Text(neutral)))) == mrkdwn


def test_to_mrkdwn_is_the_section_translation() -> None:
    assert to_mrkdwn("**a** & <@U1>") == "*a* &amp; <@U1>"


def test_plain_text_is_not_escaped() -> None:
    payload = render_message(message(Header("Q&A <today>")))
    assert payload["blocks"][0]["text"] == {
        "type": "plain_text",
        "text": "Q&A <today>",
        "emoji": True,
    }


def test_fallback_is_always_present() -> None:
    assert render_message(message(Text("x"), fallback="Hello & bye"))["text"] == "Hello &amp; bye"
    assert render_message(message(Header("Title"), fallback=""))["text"] == "Title"
    assert render_message(message(Divider(), fallback="   "))["text"] == ELLIPSIS


def test_metadata_only_with_a_delivery_id() -> None:
    assert "metadata" not in render_message(message(Text("x"), kind="nudge"))
    payload = render_message(message(Text("x"), delivery_id="d-1", kind="nudge"))
    assert payload["metadata"] == {
        "event_type": "nudgebot_delivery",
        "event_payload": {"delivery_id": "d-1", "kind": "nudge"},
    }


def test_button_styles_map_to_slack() -> None:
    buttons = (
        Button("A", "a", "1", "primary"),
        Button("B", "b", "2", "danger"),
        Button("C", "c", "3"),
    )
    elements = render_message(message(Actions("row", buttons)))["blocks"][0]["elements"]
    assert [e.get("style") for e in elements] == ["primary", "danger", None]


def test_choices_render_as_static_select_in_actions() -> None:
    block = render_message(
        message(Choices("pick", "pick_one", "Choose", (Option("One", "1"), Option("Two", "2"))))
    )["blocks"][0]
    assert block["type"] == "actions"
    assert block["block_id"] == "pick"
    (select,) = block["elements"]
    assert select["type"] == "static_select"
    assert select["action_id"] == "pick_one"
    assert [o["value"] for o in select["options"]] == ["1", "2"]


def test_empty_blocks_are_dropped() -> None:
    payload = render_message(
        message(
            Header(" "),
            Text(""),
            Context("\n"),
            Actions("row", (Button("", "a", "1"),)),
            Choices("c", "c", "", (Option("", "x"),)),
            Divider(),
        )
    )
    assert payload["blocks"] == [{"type": "divider"}]


def test_long_texts_are_truncated_with_an_ellipsis() -> None:
    payload = render_message(message(Header("h" * 500), Text("s" * 5000), Context("c" * 5000)))
    header, section, context = payload["blocks"]
    assert header["text"]["text"] == "h" * (HEADER_TEXT_MAX - 1) + ELLIPSIS
    assert section["text"]["text"] == "s" * (SECTION_TEXT_MAX - 1) + ELLIPSIS
    assert context["elements"][0]["text"] == "c" * (CONTEXT_TEXT_MAX - 1) + ELLIPSIS


def test_truncation_never_cuts_an_entity_or_a_mention() -> None:
    text = "x" * (SECTION_TEXT_MAX - 3) + "&" + "y"
    assert section_text(render_message(message(Text(text)))).endswith("x" + ELLIPSIS)
    text = "x" * (SECTION_TEXT_MAX - 5) + "<@U0ABCDEF>"
    assert section_text(render_message(message(Text(text)))).endswith("x" + ELLIPSIS)


def test_astral_characters_count_twice() -> None:
    rendered = section_text(render_message(message(Text("😄" * 2000))))
    assert rendered == "😄" * ((SECTION_TEXT_MAX - 1) // 2) + ELLIPSIS


def test_button_limits() -> None:
    button = Button("b" * 100, "a" * 300, "v" * 3000)
    (element,) = render_message(message(Actions("row", (button,))))["blocks"][0]["elements"]
    assert element["text"]["text"] == "b" * (BUTTON_TEXT_MAX - 1) + ELLIPSIS
    assert element["action_id"] == "a" * ACTION_ID_MAX
    assert element["value"] == "v" * BUTTON_VALUE_MAX


def test_thirty_buttons_split_into_two_actions_blocks() -> None:
    buttons = tuple(Button(f"B{i}", f"act_{i}", str(i)) for i in range(30))
    blocks = render_message(message(Actions("row", buttons)))["blocks"]
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    assert [b["block_id"] for b in blocks] == ["row", "row#2"]
    assert [base_id(b["block_id"]) for b in blocks] == ["row", "row"]


def test_repeated_ids_get_a_counter_that_base_id_strips() -> None:
    buttons = tuple(Button(str(i), "answer", str(i)) for i in range(3))
    payload = render_message(
        message(Actions("row", buttons), Actions("row", (Button("x", "x", "x"),)))
    )
    first, second = payload["blocks"]
    ids = [e["action_id"] for e in first["elements"]]
    assert ids == ["answer", "answer#2", "answer#3"]
    assert {base_id(i) for i in ids} == {"answer"}
    assert (first["block_id"], second["block_id"]) == ("row", "row#2")


def test_block_count_keeps_the_first_blocks() -> None:
    payload = render_message(message(*(Text(f"t{i}") for i in range(60))))
    assert len(payload["blocks"]) == MESSAGE_BLOCKS_MAX
    assert section_text(payload, 0) == "t0"
    assert section_text(payload, -1) == f"t{MESSAGE_BLOCKS_MAX - 1}"
    home = render_home(Page(blocks=tuple(Text(f"t{i}") for i in range(150))))
    assert home["type"] == "home"
    assert len(home["blocks"]) == VIEW_BLOCKS_MAX


def test_select_options_are_limited_and_unique() -> None:
    options = tuple(Option("o" * 100 if i == 0 else f"o{i}", str(i)) for i in range(150))
    options += (Option("duplicate", "1"),)
    (select,) = render_message(message(Choices("c", "c", "p", options)))["blocks"][0]["elements"]
    assert len(select["options"]) == SELECT_OPTIONS_MAX
    assert select["options"][0]["text"]["text"] == "o" * (OPTION_TEXT_MAX - 1) + ELLIPSIS
    assert len({o["value"] for o in select["options"]}) == SELECT_OPTIONS_MAX


def test_modal_shape() -> None:
    form = Form(
        callback_id="cb",
        title="A title that is much too long for Slack",
        submit_label="Save",
        cancel_label="Cancel",
        inputs=(TextInput("note", "Note", initial="draft"), DateInput("due", "Due")),
    )
    view = render_modal(form)
    assert view["type"] == "modal"
    assert view["callback_id"] == "cb"
    assert "private_metadata" not in view
    assert len(view["title"]["text"]) == MODAL_TITLE_MAX
    assert view["title"]["text"].endswith(ELLIPSIS)
    note, due = view["blocks"]
    assert (note["block_id"], note["element"]["action_id"]) == ("note", "note")
    assert note["element"]["initial_value"] == "draft"
    assert note["element"]["multiline"] is False
    assert (due["block_id"], due["element"]) == ("due", {"type": "datepicker", "action_id": "due"})


def test_parse_modal_values() -> None:
    # The shape of view.state.values in a view_submission payload.
    values: dict[str, dict[str, dict[str, Any]]] = {
        "note": {"note": {"type": "plain_text_input", "value": "Send the draft"}},
        "due": {"due": {"type": "datepicker", "selected_date": "2026-12-04"}},
        "empty": {"empty": {"type": "plain_text_input", "value": None}},
        "nodate": {"nodate": {"type": "datepicker", "selected_date": None}},
        "pick#2": {"pick": {"type": "static_select", "selected_option": {"value": "7d"}}},
    }
    assert parse_modal_values(values) == {
        "note": "Send the draft",
        "due": "2026-12-04",
        "empty": "",
        "nodate": "",
        "pick": "7d",
    }
