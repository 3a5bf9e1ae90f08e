"""When the sandbox is served, and when its clock may move."""

from __future__ import annotations

import logging
import os

import pytest

from bot.sandbox.build import sandbox_clock
from bot.settings import load_settings, platform_status


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "NUDGEBOT_", "TEAMS_")) or name == "HOST":
            monkeypatch.delenv(name, raising=False)


def _sandbox(**env: str) -> tuple[bool, str]:
    status = next(p for p in platform_status(load_settings(**env)) if p.name == "sandbox")
    return status.enabled, status.reason


def test_on_by_itself_on_localhost_with_a_movable_clock() -> None:
    assert _sandbox() == (True, "try it at http://localhost:3000/ with its own clock")
    clock = sandbox_clock(load_settings())
    assert clock is not None and clock.movable


def test_off_beside_a_platform_unless_asked_then_on_real_time() -> None:
    slack = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}
    enabled, reason = _sandbox(**slack)
    assert not enabled and "NUDGEBOT_SANDBOX=1" in reason
    assert sandbox_clock(load_settings(**slack)) is None
    assert _sandbox(**slack, nudgebot_sandbox="1")[0]
    clock = sandbox_clock(load_settings(**slack, nudgebot_sandbox="1"))
    assert clock is not None and not clock.movable


def test_refused_on_a_public_address_without_an_explicit_setting() -> None:
    enabled, reason = _sandbox(host="0.0.0.0")
    assert not enabled
    assert reason.startswith("HOST=0.0.0.0 is not a loopback address")
    assert "NUDGEBOT_SANDBOX=1" in reason
    assert _sandbox(host="0.0.0.0", nudgebot_sandbox="1")[0]
    assert _sandbox(host="::1")[0]


def test_zero_keeps_it_off() -> None:
    assert _sandbox(nudgebot_sandbox="0") == (False, "NUDGEBOT_SANDBOX=0")


def test_a_public_address_is_refused_with_one_error_line(caplog: pytest.LogCaptureFixture) -> None:
    from bot.sandbox.build import build

    with caplog.at_level(logging.ERROR, logger="bot.sandbox.build"):
        assert build(load_settings(host="0.0.0.0"), services=None) is None  # type: ignore[arg-type]
    (record,) = caplog.records
    assert record.getMessage().startswith("sandbox: not served: HOST=0.0.0.0 is not a loopback")
    assert "\n" not in record.getMessage()
