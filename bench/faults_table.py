"""Rerun the operator's table at the top of issue 8 against the real service and print it.

Usage: .venv/bin/python bench/faults_table.py [--messages 1000] [--kill-at 300] [--settle 60]
       [--outage 30] [--only sqlite-kill,pg-kill,pg2-kill,pg2-term,pg-outage]

Each row seeds a backlog of due explicit messages in one workspace (what `/nudges test` stores),
runs `nudgebot serve` with SEND_RATE_PER_WORKSPACE=50 against the fake Slack, breaks it as the
row says, lets the survivor (or a restarted process) run for --settle seconds after the last
visible progress, and counts what the fake Slack received per recipient and what the store holds.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from _common import DEFAULT_PG, scratch_database, table
from sqlalchemy.engine import make_url

from tests.fakes.slack_api import FakeSlackApi
from tests.fault.harness import (
    TEAM,
    Service,
    Tally,
    TcpProxy,
    delivery_statuses,
    seed_backlog,
    start_service,
    wait_for,
)

EXTRA: dict[str, str | None] = {"SEND_RATE_PER_WORKSPACE": "50"}


async def _settle(api: FakeSlackApi, url: str, users: list[str], quiet: float) -> Tally:
    """Wait until nothing moved for ``quiet`` seconds (or all arrived), then count."""
    last_change = time.monotonic()
    seen = -1
    while time.monotonic() - last_change < quiet:
        statuses = await delivery_statuses(url)
        progress = api.counters.posts + statuses.get("sent", 0)
        if progress != seen:
            seen, last_change = progress, time.monotonic()
        tally = Tally(users, dict(api.counters.by_recipient), statuses)
        if tally.nothing == 0 and tally.unsettled == 0:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(1.0)
    return Tally(users, dict(api.counters.by_recipient), await delivery_statuses(url))


async def _reach(api: FakeSlackApi, count: int) -> None:
    if not await wait_for(lambda: api.counters.posts >= count, 120, every=0.01):
        raise SystemExit(f"only {api.counters.posts} posts arrived in 120 s")


async def kill_and_restart(
    api: FakeSlackApi, url: str, work: Path, args: argparse.Namespace, sig: int
) -> None:
    """Kill the one process at --kill-at posts and start it again."""
    service = await start_service(url, api.base_url, work, name="one", extra_env=EXTRA)
    await _reach(api, args.kill_at)
    service.signal(sig)
    await service.wait(30)
    await start_service(url, api.base_url, work, name="restarted", extra_env=EXTRA)


async def standby_takes_over(
    api: FakeSlackApi, url: str, work: Path, args: argparse.Namespace, sig: int
) -> None:
    """Run two processes; stop the active one at --kill-at posts."""
    one = await start_service(url, api.base_url, work, name="one", extra_env=EXTRA)
    two = await start_service(url, api.base_url, work, name="two", extra_env=EXTRA)
    await _reach(api, args.kill_at)
    active = next((s for s in (one, two) if "now the active scheduler" in s.log()), one)
    active.signal(sig)
    await active.wait(30)


def scenarios(
    args: argparse.Namespace,
) -> dict[str, tuple[str, str, int, Callable[..., Awaitable[None]], int]]:
    """Name → (row text, store, backlog, how, signal)."""
    n, k = args.messages, args.kill_at
    return {
        "sqlite-kill": (
            f"SQLite: SIGKILL after {k} posts, restart",
            "sqlite",
            n,
            kill_and_restart,
            signal.SIGKILL,
        ),
        "pg-kill": (
            f"PostgreSQL: SIGKILL after {k} posts, restart",
            "pg",
            n,
            kill_and_restart,
            signal.SIGKILL,
        ),
        "sqlite-term": (
            f"SQLite: SIGTERM after {k} posts, restart",
            "sqlite",
            n,
            kill_and_restart,
            signal.SIGTERM,
        ),
        "pg2-kill": (
            f"two processes on PostgreSQL, SIGKILL the active one at {k}",
            "pg",
            n,
            standby_takes_over,
            signal.SIGKILL,
        ),
        "pg2-term": (
            f"two processes, SIGTERM the active one at {k}",
            "pg",
            n,
            standby_takes_over,
            signal.SIGTERM,
        ),
        "pg-outage": (
            f"PostgreSQL unreachable for {args.outage:g} s"
            f" while {args.outage_backlog} were sending",
            "pg",
            args.outage_backlog,
            database_outage,
            0,
        ),
    }


async def database_outage(
    api: FakeSlackApi, url: str, work: Path, args: argparse.Namespace, _sig: int
) -> None:
    """Cut the database (a TCP proxy in between) for --outage seconds mid-dispatch."""
    target = make_url(url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    args.proxies.append(proxy)
    await start_service(proxy.url_for(url), api.base_url, work, name="one", extra_env=EXTRA)
    await _reach(api, max(1, args.outage_backlog // 5))
    await proxy.stop()
    await asyncio.sleep(args.outage)
    await proxy.start()


async def run_row(name: str, args: argparse.Namespace, work: Path) -> list[object]:
    """Run one scenario and return its table row."""
    text, store, backlog, how, sig = scenarios(args)[name]
    url = await scratch_database(store, args.pg_url, work)
    users = (await seed_backlog(url, backlog))[TEAM]
    args.proxies = []
    async with FakeSlackApi(latency=args.latency_ms / 1000, keep_calls=False) as api:
        try:
            await how(api, url, work, args, sig)
            tally = await _settle(api, url, users, args.settle)
        finally:
            await _stop_all()
            for proxy in args.proxies:
                await proxy.stop()
    sending = tally.statuses.get("sending", 0)
    return [text, tally.once, tally.nothing, tally.duplicates, sending]


async def _stop_all() -> None:
    for service in Service.started_so_far:
        await service.stop()


async def main(args: argparse.Namespace) -> None:
    """Run every chosen row and print the table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        for name in args.only.split(","):
            started = time.monotonic()
            rows.append(await run_row(name, args, Path(tmp)))
            print(f"{name}: {rows[-1]} ({time.monotonic() - started:.0f} s)", flush=True)
    print()
    print(
        f"{args.messages} due messages (outage row: {args.outage_backlog}), fake Slack, "
        f"SEND_RATE_PER_WORKSPACE=50; counted {args.settle:g} s after progress stopped"
    )
    header = ["what was done", "received once", "received nothing", "duplicates", "in sending"]
    print(table(header, rows))


def parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--kill-at", type=int, default=300)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--outage-backlog", type=int, default=300)
    parser.add_argument("--settle", type=float, default=60.0, help="quiet seconds before counting")
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--only", default="sqlite-kill,pg-kill,pg2-kill,pg2-term,pg-outage", help="rows to run"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
