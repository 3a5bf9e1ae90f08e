"""`nudgebot doctor`'s Teams checks against the fake Bot Connector's token endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from botbuilder.core import ActivityHandler

from bot.doctor import Finding, render
from bot.settings import Settings
from bot.teams.adapter import TeamsFrontDoor, auth_config
from bot.teams.doctor import SECRET_FIX, SINGLE_TENANT_FIX, teams_findings
from nudges.store.database import Database
from tests.bot.cli_runner import run_cli
from tests.fakes.bot_connector import BOT_APP_ID, TENANT_ID, FakeBotConnector
from tests.nudges.orgs import make_org
from tests.ports import free_port, refusing_port

SECRET = "good~secret.value"
MANAGER_AAD = "5e7f7a46-1841-31c9-1e2f-2cc3c7630233"


def _settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "microsoft_app_id": None,
        "microsoft_app_password": None,
        "microsoft_app_tenant_id": None,
        "teams_enabled": None,
        "nudgebot_public_url": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type]


def _teams(connector: FakeBotConnector, **values: object) -> Settings:
    base: dict[str, object] = {
        "microsoft_app_id": BOT_APP_ID,
        "microsoft_app_password": SECRET,
        "microsoft_login_url": connector.base_url,
    }
    return _settings(**{**base, **values})


def _by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f"{f.area}/{f.check}": f for f in findings}


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        fake.accepted_secret = SECRET
        fake.tenants = {TENANT_ID}
        yield fake


async def test_a_good_secret_gets_a_token_the_way_botbuilder_asks(
    connector: FakeBotConnector,
) -> None:
    findings = await teams_findings(_teams(connector))
    checks = _by_check(findings)
    assert all(f.ok for f in findings), render(findings)
    assert checks["teams/token"].detail == f"issued for app {BOT_APP_ID} by botframework.com"
    assert "clock/offset from Microsoft login" in checks
    endpoint = checks["teams/messaging endpoint"]
    assert endpoint.detail.startswith("not checked: set NUDGEBOT_PUBLIC_URL")
    (call,) = [c for c in connector.calls if c.path.endswith("/oauth2/v2.0/token")]
    assert call.path == "/botframework.com/oauth2/v2.0/token"


async def test_a_single_tenant_app_asks_its_own_tenant(connector: FakeBotConnector) -> None:
    settings = _teams(
        connector, microsoft_app_type="SingleTenant", microsoft_app_tenant_id=TENANT_ID
    )
    token = _by_check(await teams_findings(settings))["teams/token"]
    assert token.ok and token.detail.endswith(f"by {TENANT_ID}")


async def test_a_refused_secret_fails_with_the_one_thing_to_do(
    connector: FakeBotConnector,
) -> None:
    settings = _teams(connector, microsoft_app_password="an-expired-secret")
    token = _by_check(await teams_findings(settings))["teams/token"]
    assert not token.ok
    assert token.detail == "refused (401 invalid_client AADSTS7000215)"
    assert token.fix == SECRET_FIX


async def test_a_wrong_tenant_for_a_single_tenant_app_names_the_tenant_setting(
    connector: FakeBotConnector,
) -> None:
    settings = _teams(
        connector,
        microsoft_app_type="SingleTenant",
        microsoft_app_tenant_id="00000000-0000-0000-0000-000000000000",
    )
    token = _by_check(await teams_findings(settings))["teams/token"]
    assert not token.ok
    assert token.detail == "refused (400 invalid_request AADSTS90002)"
    assert token.fix == SINGLE_TENANT_FIX


async def test_an_unreachable_login_service_fails() -> None:
    with refusing_port() as port:
        settings = _settings(
            microsoft_app_id=BOT_APP_ID,
            microsoft_app_password=SECRET,
            microsoft_login_url=f"http://127.0.0.1:{port}/",
        )
        token = _by_check(await teams_findings(settings))["teams/token"]
    assert not token.ok
    assert token.detail.startswith("cannot reach http://127.0.0.1:")
    assert "reach" in token.fix


async def test_teams_off_means_no_teams_checks() -> None:
    assert await teams_findings(_settings()) == []


async def test_teams_without_an_app_id_is_a_warning_for_the_emulator() -> None:
    findings = await teams_findings(_settings(teams_enabled=True))
    auth = _by_check(findings)["teams/authentication"]
    assert auth.ok and "Emulator only" in auth.detail
    assert "MICROSOFT_APP_ID" in auth.fix
    assert "teams/token" not in _by_check(findings)


async def test_the_messaging_endpoint_is_tried_at_the_public_url(
    connector: FakeBotConnector,
) -> None:
    settings = _teams(connector)
    app = web.Application()
    TeamsFrontDoor(auth_config(settings), ActivityHandler()).add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        reachable = _teams(connector, nudgebot_public_url=f"http://127.0.0.1:{port}")
        endpoint = _by_check(await teams_findings(reachable))["teams/messaging endpoint"]
        # The front door refuses a GET: something that is Nudgebot answers there.
        assert endpoint.ok and f"127.0.0.1:{port}/api/messages answers (405)" in endpoint.detail
        assert "https" in endpoint.fix
        wrong = _teams(connector, nudgebot_public_url=f"http://127.0.0.1:{port}/elsewhere")
        endpoint = _by_check(await teams_findings(wrong))["teams/messaging endpoint"]
        assert not endpoint.ok and "answered 404" in endpoint.detail
    finally:
        await runner.cleanup()
    gone = _teams(connector, nudgebot_public_url=f"http://127.0.0.1:{port}")
    endpoint = _by_check(await teams_findings(gone))["teams/messaging endpoint"]
    assert not endpoint.ok and "cannot be reached" in endpoint.detail
    assert endpoint.fix.startswith("start `nudgebot serve`")


@pytest.mark.parametrize("refused", [False, True])
async def test_the_command_exits_by_the_teams_result(tmp_path: Path, refused: bool) -> None:
    async with FakeBotConnector() as fake:
        fake.accepted_secret = SECRET
        # In a thread: the fake answers from this event loop while the command runs.
        proc = await asyncio.to_thread(
            run_cli,
            tmp_path,
            "doctor",
            MICROSOFT_APP_ID=BOT_APP_ID,
            MICROSOFT_APP_PASSWORD="wrong" if refused else SECRET,
            MICROSOFT_LOGIN_URL=fake.base_url,
        )
        out, err = proc.stdout, proc.stderr
    text = out
    assert proc.returncode == (1 if refused else 0), text + err
    assert "Traceback" not in err
    if refused:
        assert "FAIL  teams" in text and f"-> {SECRET_FIX}" in text
    else:
        token = [line.split() for line in text.splitlines() if "issued for app" in line]
        assert token and token[0][:3] == ["ok", "teams", "token"], text
        assert text.rstrip().endswith("everything configured works")


async def _with_a_teams_person(db: Database) -> None:
    await make_org(
        db,
        created=datetime(2026, 11, 1, tzinfo=UTC),
        managers={MANAGER_AAD: []},
        platform="teams",
        workspace=TENANT_ID,
    )


async def test_the_outlook_check_reads_one_known_persons_working_hours(
    connector: FakeBotConnector, db: Database, database_url: str
) -> None:
    await _with_a_teams_person(db)
    connector.set_working_hours(MANAGER_AAD, ["monday", "friday"], "08:00", "12:00")
    settings = _teams(connector, database_url=database_url, microsoft_graph_url=connector.graph_url)
    findings = await teams_findings(settings)
    outlook = _by_check(findings)["teams/outlook working hours"]
    assert outlook.ok and not outlook.fix
    assert outlook.detail == (
        f"MailboxSettings.Read works in tenant {TENANT_ID} (one person read, with working hours)"
    )
    (call,) = connector.graph_calls
    assert call.path == f"/graph/v1.0/users/{MANAGER_AAD}/mailboxSettings/workingHours"


async def test_a_refused_outlook_read_says_what_to_grant_without_failing_the_doctor(
    connector: FakeBotConnector, db: Database, database_url: str
) -> None:
    await _with_a_teams_person(db)
    connector.mailbox_access = False
    settings = _teams(connector, database_url=database_url, microsoft_graph_url=connector.graph_url)
    findings = await teams_findings(settings)
    outlook = _by_check(findings)["teams/outlook working hours"]
    assert outlook.ok, "the permission is optional: doctor still passes"
    assert outlook.detail.startswith(f"off: tenant {TENANT_ID} refused (graph answered 403")
    assert "MailboxSettings.Read" in outlook.fix and "admin consent" in outlook.fix
    assert BOT_APP_ID in outlook.fix
    assert f"-> {outlook.fix}" in render(findings)


async def test_the_outlook_check_waits_for_someone_to_have_the_app(
    connector: FakeBotConnector, db: Database, database_url: str
) -> None:
    settings = _teams(connector, database_url=database_url, microsoft_graph_url=connector.graph_url)
    outlook = _by_check(await teams_findings(settings))["teams/outlook working hours"]
    assert outlook.ok and outlook.detail.startswith("not checked: nobody from Teams")
    assert connector.graph_calls == []
