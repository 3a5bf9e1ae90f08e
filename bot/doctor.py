"""Check a configured installation end to end and say what works and what to do about the rest.

``nudgebot doctor`` runs the checks that need no platform here (settings, database, the clock
against the database) and the checks each configured platform registers (``bot/slack/doctor.py``,
``bot/teams/doctor.py``), then prints one table. It exits 0 only when everything configured works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings, platform_status
from nudges.store.database import Database
from nudges.store.migrate import current_revision, schema_state

# A clock this far off makes Slack refuse request signatures (5 minutes) and Bot Framework
# tokens look expired; a smaller offset is worth a warning but still works.
CLOCK_FAIL_SECONDS = 240.0
CLOCK_WARN_SECONDS = 30.0
# No single check may hang the command.
CHECK_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's table: what was checked, whether it works, and what to do."""

    area: str
    check: str
    ok: bool
    detail: str
    fix: str = ""


PlatformDoctor = Callable[[Settings], Awaitable[list[Finding]]]


def clock_finding(area: str, their_time: datetime, now: datetime | None = None) -> Finding:
    """Compare this machine's clock with a time another system reported."""
    offset = ((now or datetime.now(UTC)) - their_time).total_seconds()
    detail = f"this machine is {abs(offset):.0f} s {'ahead of' if offset > 0 else 'behind'} {area}"
    if abs(offset) >= CLOCK_FAIL_SECONDS:
        return Finding("clock", f"offset from {area}", False, detail, "synchronise the clock (NTP)")
    if abs(offset) >= CLOCK_WARN_SECONDS:
        return Finding(
            "clock", f"offset from {area}", True, detail, "consider synchronising the clock (NTP)"
        )
    return Finding("clock", f"offset from {area}", True, detail)


async def database_findings(settings: Settings) -> list[Finding]:
    """Check the store: reachable, schema at head, writable, and its clock."""
    db = Database(settings.database_url)
    url = db.url.render_as_string(hide_password=True)
    findings: list[Finding] = []
    try:
        try:
            revision = await current_revision(db.engine)
        except (OSError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            return [
                Finding(
                    "database",
                    "reachable",
                    False,
                    f"{url}: {reason}",
                    "start the database or fix DATABASE_URL",
                )
            ]
        findings.append(Finding("database", "reachable", True, url))
        state = await schema_state(db.engine)
        head = state.head
        if state.current:
            findings.append(Finding("database", "schema", True, f"at {head}"))
        elif state.newer:
            findings.append(
                Finding(
                    "database",
                    "schema",
                    state.runnable,
                    state.describe(),
                    "" if state.runnable else "run the newer release that migrated it",
                )
            )
        elif settings.is_sqlite:
            findings.append(
                Finding(
                    "database",
                    "schema",
                    True,
                    f"at {revision or 'nothing yet'}; `nudgebot serve` brings SQLite to {head}",
                )
            )
        else:
            findings.append(
                Finding(
                    "database",
                    "schema",
                    False,
                    f"at {revision or 'nothing (empty database)'}, needs {head}",
                    "run `nudgebot migrate`",
                )
            )
        if revision is not None:
            findings.append(await _writable(db))
        if not settings.is_sqlite:
            async with db.engine.connect() as conn:
                server_now = await conn.scalar(text("SELECT now()"))
            if isinstance(server_now, datetime):
                findings.append(clock_finding("the database server", server_now))
    finally:
        await db.dispose()
    return findings


async def _writable(db: Database) -> Finding:
    # A no-op write that is rolled back: it needs the same rights and locks as a real one.
    try:
        async with db.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            await transaction.rollback()
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return Finding(
            "database",
            "writable",
            False,
            reason,
            "give the service's user write access (file permissions or GRANT)",
        )
    return Finding("database", "writable", True, "a test write was accepted and rolled back")


def settings_findings(settings: Settings) -> list[Finding]:
    """Say which platforms are on, and name what a half-configured one lacks."""
    findings = [Finding("settings", "environment", True, "every value is well formed")]
    for status in platform_status(settings):
        if status.missing:
            findings.append(
                Finding(status.name, "configuration", False, status.reason, "set it as shown")
            )
        elif status.enabled:
            findings.append(Finding(status.name, "configuration", True, status.reason))
        else:
            findings.append(Finding(status.name, "configuration", True, f"off: {status.reason}"))
    return findings


async def _bounded(name: str, check: Awaitable[list[Finding]]) -> list[Finding]:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return [
            Finding(
                name,
                "answer",
                False,
                f"no answer within {CHECK_TIMEOUT_SECONDS:g} s",
                "check the network between this machine and the service",
            )
        ]


async def run_doctor(settings: Settings, platforms: Sequence[PlatformDoctor]) -> list[Finding]:
    """Run every check; platforms check themselves only when they are configured."""
    findings = settings_findings(settings)
    findings += await _bounded("database", database_findings(settings))
    for check in platforms:
        findings += await _bounded("platform", check(settings))
    return findings


def render(findings: Sequence[Finding]) -> str:
    """Print the findings as a short table, with the one thing to do under each problem."""
    rows = [("", "area", "check", "what was seen")]
    rows += [("ok" if f.ok else "FAIL", f.area, f.check, f.detail) for f in findings]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for number, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
        finding = findings[number - 1] if number else None
        if finding is not None and finding.fix:
            lines.append(" " * (sum(widths) + 6) + f"-> {finding.fix}")
    failed = sum(not f.ok for f in findings)
    lines.append("")
    lines.append("everything configured works" if not failed else f"{failed} problem(s) to fix")
    return "\n".join(lines)
