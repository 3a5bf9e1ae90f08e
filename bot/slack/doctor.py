"""Check the configured Slack app: tokens Slack accepts, the scopes it needs, the clock.

The bot token is tried with ``auth.test`` (whose ``x-oauth-scopes`` header lists what the token
was granted), the app-level token with ``apps.connections.open`` (which only hands out a URL;
nothing connects), and the signing secret by its shape. With OAuth installs each installed
workspace's (or Enterprise Grid org's) token is tried the same way.
"""

from __future__ import annotations

import contextlib
import re
from email.utils import parsedate_to_datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.doctor import Finding, clock_finding
from bot.settings import Settings, platform_status
from bot.slack.edge import DEFAULT_API_URL
from bot.slack.oauth import BOT_SCOPES, EncryptedInstallationStore
from nudges.store.database import Database

# Slack's signing secrets are 32 lowercase hex digits; anything else was pasted from elsewhere.
SIGNING_SECRET_SHAPE = re.compile(r"^[0-9a-f]{32}$")
# OAuth installs checked one by one at the most; the rest are counted.
MAX_INSTALLS_CHECKED = 20

TOKEN_FIX = "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into SLACK_BOT_TOKEN"
REINSTALL_FIX = "add the scopes from bot/slack/manifest.yml and reinstall the app"
ORG_WIDE_HOW = (
    "to install org-wide in an Enterprise Grid org (once for all its workspaces), set "
    "settings.org_deploy_enabled to true in the app's manifest; an org admin then opens "
    "/slack/install, picks the org, and adds the app to its workspaces (README: Enterprise Grid)"
)


async def slack_findings(settings: Settings) -> list[Finding]:
    """Run the Slack checks when Slack is configured; nothing when it is off."""
    (status,) = [s for s in platform_status(settings) if s.name == "slack"]
    if not status.enabled:
        return []
    api_url = settings.slack_api_url or DEFAULT_API_URL
    findings: list[Finding] = []
    if settings.slack_signing_secret:
        findings.append(_signing_secret(settings.slack_signing_secret))
    if settings.slack_bot_token and not settings.slack_oauth:
        findings += await _bot_token("bot token", settings.slack_bot_token, api_url)
    if settings.slack_app_token:
        findings.append(await _app_token(settings.slack_app_token, api_url))
    if settings.slack_oauth and settings.nudgebot_secret_key and not settings.slack_app_token:
        findings += await _installs(settings, api_url)
    return findings


def _signing_secret(secret: str) -> Finding:
    if SIGNING_SECRET_SHAPE.match(secret):
        return Finding("slack", "signing secret", True, "32 hex digits, as Slack issues them")
    return Finding(
        "slack",
        "signing secret",
        False,
        f"{len(secret)} characters, not 32 hex digits",
        "copy Basic Information > App Credentials > Signing Secret into SLACK_SIGNING_SECRET",
    )


def _api_problem(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        data: Any = getattr(exc.response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        return f"Slack answered {code or exc.response.status_code}"
    return f"cannot reach Slack ({type(exc).__name__})"


async def _bot_token(label: str, token: str, api_url: str) -> list[Finding]:
    client = AsyncWebClient(token=token, base_url=api_url, timeout=10)
    try:
        answer = await client.auth_test()
    except (SlackClientError, OSError) as exc:
        fix = TOKEN_FIX if isinstance(exc, SlackApiError) else f"check that {api_url} is reachable"
        return [Finding("slack", label, False, _api_problem(exc), fix)]
    team = answer.get("team_id", "?")
    findings = [Finding("slack", label, True, f"auth.test ok: workspace {team}")]
    headers = {k.lower(): v for k, v in (answer.headers or {}).items()}
    granted_raw = headers.get("x-oauth-scopes")
    if granted_raw is not None:
        granted = {s.strip() for s in str(granted_raw).split(",") if s.strip()}
        missing = sorted(set(BOT_SCOPES) - granted)
        if missing:
            findings.append(
                Finding(
                    "slack",
                    f"scopes ({team})",
                    False,
                    f"the token lacks {', '.join(missing)}",
                    REINSTALL_FIX,
                )
            )
        else:
            findings.append(
                Finding("slack", f"scopes ({team})", True, "every scope the manifest asks for")
            )
    date = headers.get("date")
    if date:
        with contextlib.suppress(TypeError, ValueError):
            findings.append(clock_finding("Slack", parsedate_to_datetime(str(date))))
    return findings


async def _app_token(token: str, api_url: str) -> Finding:
    client = AsyncWebClient(base_url=api_url, timeout=10)
    try:
        await client.apps_connections_open(app_token=token)
    except (SlackClientError, OSError) as exc:
        return Finding(
            "slack",
            "app-level token",
            False,
            _api_problem(exc),
            "create an app-level token with connections:write under Basic Information and "
            "set it as SLACK_APP_TOKEN",
        )
    return Finding("slack", "app-level token", True, "apps.connections.open ok (Socket Mode)")


async def _installs(settings: Settings, api_url: str) -> list[Finding]:
    assert settings.slack_client_id and settings.nudgebot_secret_key
    db = Database(settings.database_url)
    store = EncryptedInstallationStore(
        settings.slack_client_id, db.engine, settings.nudgebot_secret_key
    )
    try:
        installed = await store.installed_workspaces()
        tokens = [
            (workspace, org_wide, await store.bot_token(workspace))
            for workspace, org_wide in installed[:MAX_INSTALLS_CHECKED]
        ]
    except (OSError, SQLAlchemyError):
        return []  # the database row of the table already says why
    finally:
        await db.dispose()
    if not installed:
        return [
            Finding(
                "slack",
                "installs",
                True,
                "no workspace has installed the app yet",
                f"open /slack/install in a browser to install it; {ORG_WIDE_HOW}",
            )
        ]
    orgs = sum(1 for _, org_wide in installed if org_wide)
    summary = f"{len(installed) - orgs} workspace(s) installed"
    if orgs:
        summary += f", {orgs} Enterprise Grid org(s) org-wide (each counts its people once)"
    findings = [Finding("slack", "installs", True, summary)]
    for workspace, org_wide, token in tokens:
        label = f"install {workspace}" + (" (org-wide)" if org_wide else "")
        if token is None:
            findings.append(
                Finding(
                    "slack",
                    label,
                    False,
                    "its token cannot be read (NUDGEBOT_SECRET_KEY changed?)",
                    "restore the old key or reinstall the app in that "
                    + ("org" if org_wide else "workspace"),
                )
            )
            continue
        findings += await _bot_token(label, token, api_url)
    return findings
