from __future__ import annotations

import ast as python_ast
import string
import typing
from pathlib import Path

import pytest

from nudges.commands import ast
from nudges.commands.executor import COMMANDS
from nudges.commands.topics import TOPICS_BY_KEY
from nudges.domain import LOCALES
from nudges.i18n import catalogue

COMMANDS_DIR = Path(ast.__file__).parent
EXECUTOR_MODULES = (
    "context.py",
    "executor.py",
    "me.py",
    "people.py",
    "pulse.py",
    "pulse_admin.py",
    "sending.py",
    "service.py",
    "settings.py",
    "status.py",
    "wording.py",
)

# Texts that are the same in both languages because they hold only placeholders and markup.
SAME_IN_BOTH = {
    "replies.blackout.day",
    "replies.blackout.line",
    "replies.status.recent.line",
    "replies.status.workspace.team_line",
    "replies.workweek.week",
    "replies.rights.audit.line",
    "replies.rights.audit.system",
}


def _replies(locale: str) -> dict[str, str]:
    return {key: text for key, text in catalogue(locale).items() if key.startswith("replies.")}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_dutch_and_english_have_the_same_reply_keys() -> None:
    assert set(_replies("en")) == set(_replies("nl"))
    assert len(_replies("en")) > 100


def test_dutch_and_english_use_the_same_placeholders_per_key() -> None:
    english, dutch = _replies("en"), _replies("nl")
    for key, text in english.items():
        assert _placeholders(text) == _placeholders(dutch[key]), key


@pytest.mark.parametrize("locale", LOCALES)
def test_replies_are_single_trimmed_lines(locale: str) -> None:
    for key, text in _replies(locale).items():
        assert "\n" not in text, key
        assert text == text.strip() or key.endswith("team_line"), key


def test_dutch_replies_are_actually_translated() -> None:
    english, dutch = _replies("en"), _replies("nl")
    same = {key for key in english if english[key] == dutch[key]}
    assert same == SAME_IN_BOTH


def test_every_command_has_a_handler_and_a_help_topic() -> None:
    assert set(COMMANDS) == set(typing.get_args(ast.Command))
    for command, (topic, _handler) in COMMANDS.items():
        assert topic in TOPICS_BY_KEY, command
        assert TOPICS_BY_KEY[topic].admin_only == command.admin_only, command


def test_pulse_commands_go_through_one_function() -> None:
    handlers = {
        handler for command, (_, handler) in COMMANDS.items() if "Pulse" in command.__name__
    }
    assert len(handlers) == 1


@pytest.mark.parametrize("module", EXECUTOR_MODULES)
def test_no_user_facing_prose_in_python(module: str) -> None:
    """Every string literal with a space is a docstring, a log line or a catalogue key."""
    tree = python_ast.parse((COMMANDS_DIR / module).read_text())
    docstrings = {
        id(node.body[0].value)
        for node in python_ast.walk(tree)
        if isinstance(
            node,
            python_ast.Module
            | python_ast.ClassDef
            | python_ast.FunctionDef
            | python_ast.AsyncFunctionDef,
        )
        and node.body
        and isinstance(node.body[0], python_ast.Expr)
        and isinstance(node.body[0].value, python_ast.Constant)
    }
    logged = {
        id(arg)
        for node in python_ast.walk(tree)
        if isinstance(node, python_ast.Call)
        and isinstance(node.func, python_ast.Attribute)
        and node.func.attr in {"exception", "warning", "info", "debug", "error"}
        for arg in node.args
    }
    prose = [
        node.value
        for node in python_ast.walk(tree)
        if isinstance(node, python_ast.Constant)
        and isinstance(node.value, str)
        and " " in node.value.strip()
        and id(node) not in docstrings | logged
    ]
    assert prose == []
