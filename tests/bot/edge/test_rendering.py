"""The platform-neutral part of rendering: walking blocks, cutting, options, limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from bot.edge.rendering import (
    ELLIPSIS,
    at_most,
    chunked,
    distinct_options,
    first_text,
    fit,
    initial_date,
    put_present,
    readable_texts,
    render_block,
    text_input_limits,
)
from nudges.messages import (
    Actions,
    Button,
    Choices,
    Context,
    DateInput,
    Divider,
    Header,
    Message,
    Option,
    Page,
    Text,
    TextInput,
)


class _Names:
    """Name each block by its kind, to see which method the walk chose."""

    def header(self, block: Header) -> str:
        return f"header:{block.text}"

    def text(self, block: Text) -> str:
        return f"text:{block.text}"

    def context(self, block: Context) -> str:
        return f"context:{block.text}"

    def divider(self, block: Divider) -> str:
        return "divider"

    def actions(self, block: Actions) -> str:
        return f"actions:{len(block.buttons)}"

    def choices(self, block: Choices) -> str:
        return f"choices:{block.action_id}"


def test_each_kind_of_block_goes_to_its_own_method() -> None:
    blocks = (
        Header("H"),
        Text("T"),
        Context("C"),
        Divider(),
        Actions("row", (Button("a", "x", "1"), Button("b", "y", "2"))),
        Choices("menu", "pick", "Pick one", (Option("o", "1"),)),
    )
    assert [render_block(b, _Names()) for b in blocks] == [
        "header:H",
        "text:T",
        "context:C",
        "divider",
        "actions:2",
        "choices:pick",
    ]


def test_an_unknown_block_is_refused_by_name() -> None:
    @dataclass
    class Banner:
        text: str

    with pytest.raises(TypeError, match="cannot render Banner"):
        render_block(Banner("x"), _Names())  # type: ignore[arg-type]


def test_readable_texts_start_with_the_fallback_and_skip_other_blocks() -> None:
    message = Message(
        blocks=(Header("h"), Divider(), Text("t"), Actions("row", ()), Context("c")), fallback="f"
    )
    assert list(readable_texts(message)) == ["f", "h", "t", "c"]
    assert list(readable_texts(Page(blocks=(Text("t"),)))) == ["t"]


def test_the_first_text_left_after_translation_wins_else_an_ellipsis() -> None:
    message = Message(blocks=(Header("  "), Text("second")), fallback="")
    assert first_text(message, str.strip) == "second"
    assert first_text(Message(blocks=(Divider(),), fallback=" "), str.strip) == ELLIPSIS


def test_fit_keeps_whole_atoms_and_counts_in_the_given_units() -> None:
    assert fit(list("short"), 10) == "short"
    assert fit(["ab", "cd", "ef"], 5) == "abcd" + ELLIPSIS
    assert fit(["ab ", "cd"], 4) == "ab" + ELLIPSIS
    assert fit(list("abcdef"), 4, ellipsis="") == "abcd"
    # An emoji is two UTF-16 units: it no longer fits where a letter would.
    assert fit(["a", "😀", "b"], 3, units=lambda t: len(t.encode("utf-16-le")) // 2) == (
        "a" + ELLIPSIS
    )
    assert fit(["x", "**", "y", "z"], 4, tidy=lambda t: t.replace("**", "")) == "x" + ELLIPSIS


def test_options_need_a_label_and_a_value_and_each_value_counts_once() -> None:
    options = (Option("One", "1"), Option("", "2"), Option("Three", ""), Option("Again", "1"))
    assert distinct_options(options, str.upper, str) == [("ONE", "1")]


def test_at_most_keeps_the_first_and_logs_what_it_drops(caplog: pytest.LogCaptureFixture) -> None:
    assert at_most([1, 2, 3], 5, "things") == [1, 2, 3]
    assert at_most([1, 2, 3], 2, "things") == [1, 2]
    assert "dropping 1 things" in caplog.text


def test_chunked_splits_into_runs_of_at_most_the_size() -> None:
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunked([], 3) == []


def test_text_input_limits_cap_the_length_and_cut_the_initial_text() -> None:
    assert text_input_limits(TextInput("i", "l", max_length=5, initial="abcdefgh"), 100) == (
        5,
        "abcde",
    )
    assert text_input_limits(TextInput("i", "l", max_length=500, initial="abc"), 10) == (10, "abc")
    assert text_input_limits(TextInput("i", "l", max_length=0, initial="abcdef"), 4) == (0, "abcd")


def test_put_present_leaves_empty_fields_out_in_the_order_given() -> None:
    assert put_present({"type": "x"}, a="", b=0, c=None, d="1", e=2) == {
        "type": "x",
        "d": "1",
        "e": 2,
    }


def test_a_date_input_without_a_date_has_no_initial_value() -> None:
    assert initial_date(DateInput("d", "l", initial=date(2026, 1, 2))) == "2026-01-02"
    assert initial_date(DateInput("d", "l")) == ""
