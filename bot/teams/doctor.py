"""Check the configured Teams bot: a token for its app id, and its messaging endpoint.

The token is asked for the way botbuilder asks for it before each reply (a client-credentials
grant for ``https://api.botframework.com/.default`` from ``botframework.com``, or from the app's
own tenant for a SingleTenant app), but with aiohttp so the check never blocks the loop. The
messaging endpoint is tried only when ``NUDGEBOT_PUBLIC_URL`` says where Teams reaches it.
"""

from __future__ import annotations

import contextlib
import os
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.doctor import Finding, clock_finding
from bot.settings import Settings, platform_status
from bot.teams.adapter import MESSAGES_PATH
from bot.teams.graph import GraphError, graph_client, request_token
from bot.teams.workhours import PERMISSION, read_working_hours
from nudges.domain import Platform
from nudges.store.database import Database
from nudges.store.org import Person, Workspace

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
# The authority botbuilder uses for multi-tenant apps.
MULTI_TENANT_AUTHORITY = "botframework.com"
TIMEOUT_SECONDS = 10.0
# Answers that prove Nudgebot's /api/messages is behind the URL: it refuses a GET (405) or an
# unauthenticated request (401/403), or takes it.
REACHABLE = frozenset({200, 201, 202, 204, 401, 403, 405})

SECRET_FIX = (
    "create a new client secret under the app registration's Certificates & secrets "
    "and set it as MICROSOFT_APP_PASSWORD"
)
SINGLE_TENANT_FIX = (
    "set MICROSOFT_APP_TENANT_ID to the directory (tenant) id the app is registered in"
)
MULTI_TENANT_FIX = (
    "check MICROSOFT_APP_ID; if the app registration is single-tenant, set "
    "MICROSOFT_APP_TYPE=SingleTenant and MICROSOFT_APP_TENANT_ID"
)


async def teams_findings(settings: Settings) -> list[Finding]:
    """Run the Teams checks when Teams is on; nothing when it is off."""
    (status,) = [s for s in platform_status(settings) if s.name == "teams"]
    if not status.enabled:
        return []
    findings: list[Finding] = []
    if not settings.teams_auth:
        findings.append(
            Finding(
                "teams",
                "authentication",
                True,
                "off: /api/messages accepts unsigned requests (Bot Framework Emulator only)",
                "set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD before Teams can reach it",
            )
        )
    elif settings.microsoft_app_type == "UserAssignedMSI":
        findings.append(
            Finding(
                "teams",
                "token",
                True,
                "not checked: a managed identity's token is only issued inside Azure",
            )
        )
    else:
        findings += await _token(settings)
        findings.append(await _outlook(settings))
    findings.append(await _endpoint(settings))
    return findings


def _authority(settings: Settings) -> str:
    if settings.microsoft_app_type == "SingleTenant" and settings.microsoft_app_tenant_id:
        return settings.microsoft_app_tenant_id
    return MULTI_TENANT_AUTHORITY


async def _token(settings: Settings) -> list[Finding]:
    login = settings.microsoft_login_url
    authority = _authority(settings)
    try:
        answer = await request_token(
            login,
            authority,
            app_id=settings.microsoft_app_id or "",
            app_password=settings.microsoft_app_password or "",
            scope=BOT_FRAMEWORK_SCOPE,
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return [
            Finding(
                "teams",
                "token",
                False,
                f"cannot reach {login} ({type(exc).__name__})",
                f"let this machine reach {login} over HTTPS (proxy, firewall, DNS)",
            )
        ]
    findings: list[Finding] = []
    if answer.token is not None:
        findings.append(
            Finding(
                "teams",
                "token",
                True,
                f"issued for app {settings.microsoft_app_id} by {authority}",
            )
        )
    else:
        findings.append(_refused(settings, answer.status, answer.body))
    if answer.date:
        with contextlib.suppress(TypeError, ValueError):
            findings.append(clock_finding("Microsoft login", parsedate_to_datetime(answer.date)))
    return findings


def _refused(settings: Settings, status: int, body: Any) -> Finding:
    error = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    # Entra prefixes each description with its AADSTS code, the most useful part to quote.
    code = str(description).split(":", 1)[0] if description else ""
    seen = f"refused ({status} {error or 'no error code'}{' ' + code if code else ''})"
    if error == "invalid_client" or code == "AADSTS7000215":
        fix = SECRET_FIX
    elif settings.microsoft_app_type == "SingleTenant":
        fix = SINGLE_TENANT_FIX
    elif error in ("unauthorized_client", "invalid_request"):
        fix = MULTI_TENANT_FIX
    else:
        fix = "check MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TYPE"
    return Finding("teams", "token", False, seen, fix)


def _grant_fix(app_id: str, tenant_id: str) -> str:
    return (
        f"in Entra (App registrations → {app_id} → API permissions) add the Microsoft Graph "
        f"application permission {PERMISSION} and grant admin consent for tenant {tenant_id}"
    )


def _no_sqlite_file(db: Database) -> bool:
    # Opening a missing SQLite file would create it: the doctor only looks.
    if db.url.get_backend_name() != "sqlite":
        return False
    path = db.url.database or ""
    return path in ("", ":memory:") or not os.path.exists(path)


async def _a_teams_person(settings: Settings) -> tuple[str, str] | None:
    """Return a (tenant, Entra object id) the store knows, or None; never creates a database."""
    db = Database(settings.database_url)
    try:
        if _no_sqlite_file(db):
            return None
        async with db.session() as session:
            row = (
                await session.execute(
                    select(Workspace.external_id, Person.external_id)
                    .join(Person, Person.workspace_id == Workspace.id)
                    .where(Workspace.platform == Platform.TEAMS.value, Person.reachable.is_(True))
                    .order_by(Person.id)
                    .limit(1)
                )
            ).first()
    except (OSError, SQLAlchemyError):
        return None
    finally:
        await db.dispose()
    return (str(row[0]), str(row[1])) if row is not None else None


async def _outlook(settings: Settings) -> Finding:
    """Try reading one known person's Outlook working hours, and say what to grant if refused."""
    check = "outlook working hours"
    graph = graph_client(settings)
    known = await _a_teams_person(settings) if graph is not None else None
    if graph is None or known is None:
        return Finding(
            "teams",
            check,
            True,
            "not checked: nobody from Teams is known yet (it is tried once someone has the app)",
        )
    tenant_id, user_id = known
    try:
        hours = await read_working_hours(graph, tenant_id, user_id)
    except GraphError as exc:
        if exc.status == 404:
            return Finding(
                "teams", check, True, f"{PERMISSION} works (one person checked has no mailbox)"
            )
        if exc.denied:
            return Finding(
                "teams",
                check,
                True,
                f"off: tenant {tenant_id} refused ({exc}); working weeks come from Nudgebot only",
                _grant_fix(graph.app_id, tenant_id),
            )
        return Finding("teams", check, False, f"Microsoft Graph: {exc}", "try again later")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        where = settings.microsoft_graph_url
        return Finding(
            "teams",
            check,
            False,
            f"cannot reach {where} ({type(exc).__name__})",
            f"let this machine reach {where} over HTTPS (proxy, firewall, DNS)",
        )
    given = "with" if hours.week is not None else "without"
    return Finding(
        "teams",
        check,
        True,
        f"{PERMISSION} works in tenant {tenant_id} (one person read, {given} working hours)",
    )


async def _endpoint(settings: Settings) -> Finding:
    if not settings.nudgebot_public_url:
        return Finding(
            "teams",
            "messaging endpoint",
            True,
            "not checked: set NUDGEBOT_PUBLIC_URL to the address Teams posts to",
        )
    url = settings.nudgebot_public_url.rstrip("/") + MESSAGES_PATH
    where = "make it reach `nudgebot serve` (reverse proxy or tunnel) and set it in the Azure Bot"
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return Finding(
            "teams",
            "messaging endpoint",
            False,
            f"{url} cannot be reached ({type(exc).__name__})",
            f"start `nudgebot serve` or {where}",
        )
    if status not in REACHABLE:
        return Finding(
            "teams",
            "messaging endpoint",
            False,
            f"{url} answered {status}, not Nudgebot's bot endpoint",
            where,
        )
    if settings.teams_auth and urlsplit(url).scheme != "https":
        return Finding(
            "teams",
            "messaging endpoint",
            True,
            f"{url} answers ({status}), but Teams only posts to https",
            "serve it behind HTTPS and set NUDGEBOT_PUBLIC_URL=https://…",
        )
    return Finding("teams", "messaging endpoint", True, f"{url} answers ({status})")
