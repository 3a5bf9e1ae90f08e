"""`nudgebot doctor` against the fake Slack Web API and real databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.doctor import Finding, clock_finding, render, run_doctor
from bot.settings import Settings
from bot.slack.doctor import slack_findings
from bot.slack.oauth import BOT_SCOPES
from nudges.store.database import Database
from tests.bot.cli_runner import run_cli
from tests.fakes.slack_api import FakeSlackApi

BOT_TOKEN = "xoxb-1-2-doctor"
APP_TOKEN = "xapp-1-A0DOC-1-abc"
SECRET = "0123456789abcdef0123456789abcdef"


def _settings(database_url: str, **values: object) -> Settings:
    base: dict[str, object] = {
        "database_url": database_url,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "nudgebot_secret_key": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def _by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f"{f.area}/{f.check}": f for f in findings}


async def test_a_healthy_http_install_passes_every_check(db: Database, database_url: str) -> None:
    async with FakeSlackApi(valid_tokens={BOT_TOKEN}) as api:
        api.granted_scopes = list(BOT_SCOPES)
        settings = _settings(
            database_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=api.base_url,
        )
        findings = await run_doctor(settings, [slack_findings])
    checks = _by_check(findings)
    assert all(f.ok for f in findings), render(findings)
    assert checks["database/reachable"].ok
    assert checks["database/schema"].detail.startswith("at ")
    assert checks["database/writable"].ok
    assert checks["slack/bot token"].detail == "auth.test ok: workspace T0NUDGE01"
    assert checks["slack/scopes (T0NUDGE01)"].detail == "every scope the manifest asks for"
    assert "slack/signing secret" in checks
    assert "clock/offset from Slack" in checks
    assert render(findings).endswith("everything configured works")


async def test_a_refused_token_a_missing_scope_and_a_pasted_secret_fail_with_a_fix(
    db: Database, database_url: str
) -> None:
    async with FakeSlackApi(valid_tokens={"xoxb-other"}) as api:
        settings = _settings(
            database_url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret="not-a-signing-secret",
            slack_api_url=api.base_url,
        )
        findings = await run_doctor(settings, [slack_findings])
        token = _by_check(findings)["slack/bot token"]
        assert not token.ok
        assert token.detail == "Slack answered invalid_auth"
        assert "OAuth & Permissions" in token.fix
        secret = _by_check(findings)["slack/signing secret"]
        assert not secret.ok and "Signing Secret" in secret.fix

        api.valid_tokens = {BOT_TOKEN}
        api.granted_scopes = [s for s in BOT_SCOPES if s != "im:history"]
        findings = await run_doctor(settings, [slack_findings])
    scopes = _by_check(findings)["slack/scopes (T0NUDGE01)"]
    assert not scopes.ok
    assert scopes.detail == "the token lacks im:history"
    assert "2 problem(s) to fix" in render(findings)


async def test_socket_mode_checks_the_app_token(db: Database, database_url: str) -> None:
    async with FakeSlackApi() as api:
        good = _settings(
            database_url,
            slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN,
            slack_api_url=api.base_url,
        )
        ok = _by_check(await slack_findings(good))["slack/app-level token"]
        api.fail_next("apps.connections.open", "invalid_auth")
        bad = _by_check(await slack_findings(good))["slack/app-level token"]
    assert ok.ok
    assert not bad.ok and "connections:write" in bad.fix


async def test_slack_off_means_no_slack_checks(database_url: str) -> None:
    assert await slack_findings(_settings(database_url)) == []


async def test_an_unreachable_database_is_one_failed_line(tmp_path: Path) -> None:
    settings = _settings("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    findings = await run_doctor(settings, [])
    (database,) = [f for f in findings if f.area == "database"]
    assert not database.ok
    assert database.fix == "start the database or fix DATABASE_URL"


def test_the_clock_offset_is_judged() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert clock_finding("Slack", now - timedelta(seconds=3), now).ok
    warned = clock_finding("Slack", now - timedelta(seconds=45), now)
    assert warned.ok and warned.fix
    failed = clock_finding("Slack", now + timedelta(minutes=6), now)
    assert not failed.ok
    assert failed.detail == "this machine is 360 s behind Slack"


@pytest.mark.parametrize("broken", [False, True])
async def test_the_command_prints_a_table_and_exits_by_the_result(
    tmp_path: Path, broken: bool
) -> None:
    async with FakeSlackApi(valid_tokens={"xoxb-nope"} if broken else {BOT_TOKEN}) as api:
        api.granted_scopes = list(BOT_SCOPES)
        # In a thread: the fake answers from this event loop while the command runs.
        proc = await asyncio.to_thread(
            run_cli,
            tmp_path,
            "doctor",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=api.base_url,
        )
        out, err = proc.stdout, proc.stderr
    text = out
    assert proc.returncode == (1 if broken else 0), text + err
    assert "Traceback" not in err
    assert text.splitlines()[0].split() == ["area", "check", "what", "was", "seen"]
    if broken:
        assert "FAIL  slack" in text and "-> copy the Bot User OAuth Token" in text
    else:
        assert text.rstrip().endswith("everything configured works")
