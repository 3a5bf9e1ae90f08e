"""Pieces the benchmarks share: a scratch database, the fake Slack as its own process, a table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fault.harness import fresh_postgres, migrate  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test_measure_bench"


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


async def fake_stats(api_url: str) -> dict[str, Any]:
    """Read the standalone fake's counters."""
    root = api_url.removesuffix("/api/")
    async with aiohttp.ClientSession() as session, session.get(f"{root}/_fake/stats") as r:
        stats: dict[str, Any] = await r.json()
        return stats


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
