"""Run the platforms' own validators: Microsoft's Adaptive Cards library and Teams schemas.

The Node packages live in tests/validators/node_modules, installed from the lockfile by
``scripts/ensure-node-validators`` (called by ``make test``). A missing install fails the test
with the command to run, never skips it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
MODULES = HERE / "node_modules"
HOST_CONFIG = json.loads((HERE / "teams-host-config.json").read_text("utf-8"))
MAX_ACTIONS: int = HOST_CONFIG["actions"]["maxActions"]
TEAMS_SCHEMAS = MODULES / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"


def _require_install() -> None:
    if shutil.which("node") is None or not (MODULES / "adaptivecards").is_dir():
        pytest.fail(
            "the Node validators are not installed: run ./scripts/ensure-node-validators "
            "(make test does)",
            pytrace=False,
        )


@dataclass(frozen=True, slots=True)
class CardReport:
    """What Microsoft's library said about one card and how it sorted the card's actions."""

    events: list[str]
    primary: list[list[str]]
    secondary: list[list[str]]
    rendered: bool


def check_cards(cards: list[dict[str, Any]]) -> list[CardReport]:
    """Parse, validate and render cards under the Teams host config, one report per card."""
    _require_install()
    done = subprocess.run(
        ["node", str(HERE / "validate-cards.js")],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [CardReport(**report) for report in json.loads(done.stdout)]


@cache
def teams_schema(version: str, kind: str = "MicrosoftTeams") -> dict[str, Any]:
    """Microsoft's official JSON schema of one manifest version (kind: MicrosoftTeams or
    MicrosoftTeams.Localization), as bundled by npm @microsoft/app-manifest."""
    _require_install()
    path = TEAMS_SCHEMAS / f"v{version}" / f"{kind}.schema.json"
    assert path.is_file(), f"@microsoft/app-manifest bundles no schema {path.name} of v{version}"
    schema: dict[str, Any] = json.loads(path.read_text("utf-8-sig"))
    return schema


def slack_sdk_errors(payload: dict[str, Any]) -> list[str]:
    """What slack_sdk's Block Kit models refuse in a message or view payload.

    Each block is parsed into slack_sdk's model, validated, and must serialise back to exactly
    what was sent (a model that drops or changes a field means Slack would read it differently).
    A view (``type`` home or modal) is also validated as a whole.
    """
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    errors: list[str] = []
    for index, raw in enumerate(payload.get("blocks") or []):
        try:
            block = Block.parse(raw)
            if block is None or type(block) is Block:
                errors.append(f"block {index}: slack_sdk does not know {raw.get('type')!r}")
                continue
            block.validate_json()
            if block.to_dict() != raw:
                errors.append(f"block {index}: reads back as {block.to_dict()!r}")
        except (SlackObjectFormationError, ValueError, TypeError, KeyError) as error:
            errors.append(f"block {index} ({raw.get('type')}): {error}")
    if payload.get("type") in {"home", "modal"}:
        try:
            view = View(**payload)
            view.validate_json()
            if view.to_dict() != payload:
                errors.append(f"view reads back as {view.to_dict()!r}")
        except (SlackObjectFormationError, ValueError, TypeError, KeyError) as error:
            errors.append(f"view: {error}")
    return errors
