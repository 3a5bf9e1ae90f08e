"""The app manifest an admin pastes into Slack declares exactly what the bot uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.slack.app import COMMAND
from bot.slack.edge import EVENTS_PATH
from bot.slack.oauth import BOT_SCOPES, REDIRECT_PATH

MANIFEST = Path(__file__).parents[3] / "bot" / "slack" / "manifest.yml"
# "key:" or "key: value"; a scope such as "chat:write" has no space after its colon.
_KEY = re.compile(r"^[\w.]+:(\s|$)")


def _scalar(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith('"'):
        return json.loads(raw)
    return {"true": True, "false": False}.get(raw, raw)


def _parse(lines: list[tuple[int, str]]) -> Any:
    """Read the block-style YAML subset the manifest uses (maps, lists, scalars)."""
    if not lines:
        return {}
    indent = lines[0][0]
    if lines[0][1].startswith("- "):
        items: list[Any] = []
        for number, (depth, text) in enumerate(lines):
            if depth == indent and text.startswith("- "):
                rest = [(indent + 2, text[2:])]
                for deeper in lines[number + 1 :]:
                    if deeper[0] <= indent:
                        break
                    rest.append(deeper)
                is_mapping = _KEY.match(text[2:]) is not None
                items.append(_parse(rest) if is_mapping else _scalar(text[2:]))
        return items
    mapping: dict[str, Any] = {}
    for number, (depth, text) in enumerate(lines):
        if depth != indent:
            continue
        key, _, value = text.partition(":")
        if value.strip():
            mapping[key] = _scalar(value)
            continue
        children = []
        for deeper in lines[number + 1 :]:
            if deeper[0] <= indent:
                break
            children.append(deeper)
        mapping[key] = _parse(children)
    return mapping


def _manifest() -> dict[str, Any]:
    lines = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        lines.append((len(line) - len(line.lstrip()), line.strip()))
    parsed: dict[str, Any] = _parse(lines)
    return parsed


def test_the_bot_scopes_are_exactly_the_ones_the_oauth_flow_asks_for() -> None:
    assert _manifest()["oauth_config"]["scopes"]["bot"] == sorted(BOT_SCOPES)


def test_the_events_are_the_ones_the_listeners_handle() -> None:
    settings = _manifest()["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "app_uninstalled",
        "message.im",
        "tokens_revoked",
    ]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_the_slash_command_escapes_mentions() -> None:
    features = _manifest()["features"]
    (command,) = features["slash_commands"]
    assert command["command"] == COMMAND
    assert command["should_escape"] is True
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_the_http_lines_point_at_the_routes_the_service_serves() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    urls = re.findall(r"#\s*(?:request_url|url):\s*(\S+)", text)
    assert len(urls) == 3
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert f"{REDIRECT_PATH}" in text


def test_the_long_description_fits_slacks_limits() -> None:
    info = _manifest()["display_information"]
    assert 175 <= len(info["long_description"]) <= 4000
    assert len(info["description"]) <= 140
    assert len(info["name"]) <= 35
