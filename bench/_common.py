"""Pieces the benchmarks share: a scratch database, the fake Slack as its own process, a table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fault.harness import fresh_postgres, migrate  # noqa: E402

PG_ROOT = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


def default_pg(script: str) -> str:
    """Return the scratch PostgreSQL URL of one script: each has its own, so they can overlap."""
    return f"{PG_ROOT}test_measure_{script}"


async def scratch_database(kind: str, pg_url: str, workdir: Path) -> str:
    """Return the URL of an empty migrated database: a new SQLite file or a recreated PG one."""
    if kind == "sqlite":
        path = workdir / "bench.sqlite3"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        url = f"sqlite+aiosqlite:///{path}"
        await migrate(url)
        return url
    await fresh_postgres(pg_url)
    return pg_url


@contextlib.asynccontextmanager
async def fake_slack(*args: str) -> AsyncIterator[str]:
    """Run `python -m tests.fakes.slack_api` with ``args``; yield its API URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.slack_api",
        "--port",
        "0",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    url = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()


async def fake_stats(api_url: str, *, summary: bool = False) -> dict[str, Any]:
    """Read the standalone fake's counters (without the per-recipient maps if ``summary``)."""
    root = api_url.removesuffix("/api/")
    url = f"{root}/_fake/stats" + ("?summary=1" if summary else "")
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        stats: dict[str, Any] = await r.json()
        return stats


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


async def build_org(
    url: str,
    *,
    workspaces: int,
    managers: int,
    members_per_manager: int,
    slot: datetime,
    pulse: bool = False,
    chunk: int = 5000,
    zone: str = "UTC",
    cadence: bool = True,
    created_at: datetime | None = None,
) -> int:
    """Store an org: per workspace ``managers`` managers each leading a team; return people.

    Every workspace works round the clock in ``zone`` with no holidays and pulse polls off,
    and (with ``cadence``) nudges managers every weekday at ``slot`` (a whole minute, UTC), so
    a benchmark can pick its slot. Everything is stored as created a day before the slot,
    unless ``created_at`` says when.
    """
    from sqlalchemy import insert

    from nudges.store.cadence import CadenceRule
    from nudges.store.database import Database
    from nudges.store.org import Person, ReportingLine, Workspace
    from tests.fault.harness import team_id

    db = Database(url)
    people = 0
    before = created_at or slot - timedelta(days=1)
    settings = {"work_start": "00:00", "work_end": "23:59", "pulse_enabled": pulse}
    try:
        async with db.session() as session:
            for w in range(workspaces):
                ws = Workspace(
                    platform="slack",
                    external_id=team_id(w),
                    name=f"Bench {w}",
                    default_timezone=zone,
                    country=None,
                    settings=settings,
                    created_at=before,
                )
                session.add(ws)
                await session.flush()
                if cadence:
                    session.add(
                        CadenceRule(
                            workspace_id=ws.id,
                            purpose="nudge",
                            scope="workspace",
                            scope_key="workspace",
                            frequency="weekdays",
                            at_time=f"{slot:%H:%M}",
                        )
                    )
                rows = []
                for m in range(managers):
                    rows.append((f"UM{w:03d}{m:06d}", None))
                    for k in range(members_per_manager):
                        rows.append((f"UP{w:03d}{m:06d}{k:03d}", m))
                ids: list[int] = []
                for i in range(0, len(rows), chunk):
                    part = rows[i : i + chunk]
                    ids += (
                        await session.scalars(
                            insert(Person).returning(Person.id, sort_by_parameter_order=True),
                            [
                                {"workspace_id": ws.id, "external_id": u, "created_at": before}
                                for u, _ in part
                            ],
                        )
                    ).all()
                manager_ids: dict[int, int] = {}
                lines = []
                for (_user, lead), person_id in zip(rows, ids, strict=True):
                    if lead is None:
                        manager_ids[len(manager_ids)] = person_id
                    else:
                        lines.append(
                            {
                                "workspace_id": ws.id,
                                "manager_id": manager_ids[lead],
                                "member_id": person_id,
                                "team": f"Team {lead}",
                            }
                        )
                for i in range(0, len(lines), chunk):
                    await session.execute(insert(ReportingLine), lines[i : i + chunk])
                people += len(rows)
            await session.commit()
    finally:
        await db.dispose()
    return people


def rss_kib(pid: int) -> tuple[int, int]:
    """Return (current RSS, peak RSS) of a process in KiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


async def py_spy(pid: int, out: str, settle: float = 1.0) -> asyncio.subprocess.Process:
    """Sample the service's stacks with py-spy (from the venv) until SIGINT; raw folded stacks."""
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        out,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(settle)  # let it attach before the burst starts
    return spy
