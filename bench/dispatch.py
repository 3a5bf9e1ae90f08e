"""Time how fast the real service empties a backlog into a rate-limited fake Slack.

Usage: .venv/bin/python bench/dispatch.py [--nudges 10000] [--workspaces 20] [--only sqlite,pg,pg2]
       .venv/bin/python bench/dispatch.py --quick        (1,000 across 20 workspaces)

For each store (SQLite, PostgreSQL, PostgreSQL with two service processes) it builds a scratch
database with WORKSPACES OAuth-installed workspaces and one explicit message per person (what
`/nudges test` stores); starts the fake Slack as its own process (--latency-ms, --rate
messages/s per workspace with a small burst, 429 + Retry-After beyond it) and `nudgebot serve`;
makes the whole backlog fall due at one slot 3 s after the services are up; and waits until
every person has a message and the store holds nothing pending or sending. The ideal is what
the rate limit allows: nudges / (workspaces x rate). The backlog is stored before the slot, so
planning is not part of the time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import default_pg, fake_slack, fake_stats, scratch_database, table
from sqlalchemy import update

from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.fault.harness import (
    delivery_statuses,
    install_workspaces,
    seed_backlog,
    start_service,
)

TARGET_RATIO = {"sqlite": 1.5, "pg": 1.15, "pg2": 1.15}
TARGET_FIRST = 5.0
LEAD = 3.0  # seconds from the services being up to the slot


async def move_due(url: str, slot: datetime) -> None:
    """Make the whole backlog fall due at ``slot``."""
    db = Database(url)
    try:
        async with db.session() as session:
            await session.execute(update(Delivery).values(scheduled_at=slot, next_attempt_at=slot))
            await session.commit()
    finally:
        await db.dispose()


async def run_one(kind: str, args: argparse.Namespace, workdir: Path) -> list[object]:
    """Measure one store; return its table row."""
    url = await scratch_database("sqlite" if kind == "sqlite" else "pg", args.pg_url, workdir)
    await install_workspaces(url, args.workspaces)
    # Stored due tomorrow, then moved to the slot once the services are up (see below).
    later = datetime.now(UTC) + timedelta(days=1)
    seeded = await seed_backlog(url, args.nudges, workspaces=args.workspaces, due_at=later)
    due = [u for users in seeded.values() for u in users]
    ideal = args.nudges / (args.workspaces * args.rate)
    extra: dict[str, str | None] = {
        "SEND_RATE_PER_WORKSPACE": args.send_rate or None,
        "TICK_SECONDS": args.tick_seconds or None,
    }
    fake_args = ["--latency-ms", str(args.latency_ms), "--rate", str(args.rate)]
    fake_args += ["--burst", str(args.burst)]
    async with fake_slack(*fake_args) as api:
        services = []
        for i in range(2 if kind == "pg2" else 1):
            services.append(
                await start_service(
                    url, api, workdir, name=f"{kind}-{i}", oauth=True, extra_env=extra
                )
            )
        try:
            slot = datetime.now(UTC) + timedelta(seconds=LEAD)
            await move_due(url, slot)
            deadline = slot.timestamp() + args.timeout
            while time.time() < deadline:
                # The summary while sending: the full maps are counted once, at the end.
                summary = await fake_stats(api, summary=True)
                if summary["recipients"] >= len(due):
                    statuses = await delivery_statuses(url)
                    if not statuses.keys() - {"sent", "failed", "cancelled"}:
                        break
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)
            stats = await fake_stats(api)
            statuses = await delivery_statuses(url)
        finally:
            for service in services:
                await service.stop()
    got = stats["by_recipient"]
    lost = sum(1 for u in due if not got.get(u))
    dups = sum(max(0, got.get(u, 0) - 1) for u in due)
    first = (stats["first_post_at"] or float("nan")) - slot.timestamp()
    last = (stats["last_post_at"] or float("nan")) - slot.timestamp()
    finished = lost == 0
    total = last if finished else float("nan")
    ratio = total / ideal
    label = {"sqlite": "SQLite", "pg": "PostgreSQL", "pg2": "PostgreSQL, 2 processes"}[kind]
    return [
        label,
        f"{total:.1f} s" if finished else f"unfinished after {args.timeout:.0f} s",
        f"{ideal:.1f} s",
        f"{ratio:.2f} (≤ {TARGET_RATIO[kind]})",
        f"{first:.1f} s (≤ {TARGET_FIRST:.0f})",
        f"{dups} (0)",
        f"{lost} (0)",
        stats["ratelimited"],
        dict(sorted(statuses.items())),
    ]


async def main(args: argparse.Namespace) -> None:
    """Run the chosen stores one after another and print the table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        if args.keep:
            tmp = tempfile.mkdtemp(prefix="bench-dispatch-")
            print(f"service logs kept in {tmp}")
        for kind in args.only.split(","):
            print(f"{kind}: {args.nudges} nudges across {args.workspaces} workspaces ...")
            started = time.monotonic()
            rows.append(await run_one(kind, args, Path(tmp)))
            print(f"  done in {time.monotonic() - started:.0f} s wall: {rows[-1]}")
    print()
    print(
        f"dispatch: {args.nudges} due nudges, {args.workspaces} workspaces, fake Slack "
        f"{args.latency_ms:g} ms latency, {args.rate:g} msg/s per workspace (burst {args.burst}), "
        f"SEND_RATE_PER_WORKSPACE={args.send_rate or 'default'}, "
        f"TICK_SECONDS={args.tick_seconds or 'default'}"
    )
    header = ["store", "total (slot → last post)", "rate-limit ideal", "ratio (target)"]
    header += ["first message (target)", "duplicates", "lost", "429s seen", "store after"]
    print(table(header, rows))


def parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--workspaces", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=20.0, help="fake Slack msg/s per workspace")
    parser.add_argument("--burst", type=int, default=3)
    parser.add_argument(
        "--send-rate", default="50", help="SEND_RATE_PER_WORKSPACE ('' keeps the default)"
    )
    parser.add_argument("--tick-seconds", default="", help="TICK_SECONDS ('' keeps the default)")
    parser.add_argument("--only", default="sqlite,pg,pg2", help="comma list of sqlite,pg,pg2")
    parser.add_argument("--pg-url", default=default_pg("dispatch"))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds after the slot")
    parser.add_argument("--keep", action="store_true", help="keep the services' logs")
    parser.add_argument("--quick", action="store_true", help="1,000 nudges instead of 10,000")
    args = parser.parse_args()
    if args.quick:
        args.nudges = 1000
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
