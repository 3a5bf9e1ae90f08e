"""Watch the service's peak RSS through a slot tick with a large org in the store.

Usage: .venv/bin/python bench/memory.py [--workspaces 10] [--managers 1000] [--members 9]
       .venv/bin/python bench/memory.py --quick      (10,000 people, 1,000 managers)

Stores --workspaces workspaces of --managers managers each leading --members people (default:
100,000 people, 10,000 managers), all nudged every weekday at a slot a minute or two ahead;
starts `nudgebot serve` against the fake Slack (its own process, no latency, no limit) and reads
the service process's RSS and its high-water mark (VmHWM) from /proc until every manager has a
message or --timeout passes. No tracemalloc: this run measures memory only.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import build_org, default_pg, fake_slack, fake_stats, rss_kib, scratch_database
from _slot import weekday_zone

from tests.fault.harness import install_workspaces, start_service

TARGET_MB = 300


async def main(args: argparse.Namespace) -> None:
    """Build, start, watch, print."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        work = Path(tmp)
        url = await scratch_database(args.store, args.pg_url, work)
        # The slot: the first whole minute at least 90 s ahead (building the org takes a while).
        now = datetime.now(UTC)
        slot = (now + timedelta(seconds=90 + args.lead)).replace(second=0, microsecond=0)
        started = time.monotonic()
        people = await build_org(
            url,
            workspaces=args.workspaces,
            managers=args.managers,
            members_per_manager=args.members,
            slot=slot,
            # Nudges go out on weekdays only: on a UTC weekend the org lives where it is not.
            zone=weekday_zone(slot),
        )
        await install_workspaces(url, args.workspaces)
        print(f"stored {people} people in {time.monotonic() - started:.0f} s; slot {slot:%H:%M}")
        managers = args.workspaces * args.managers
        async with fake_slack() as api:
            service = await start_service(
                url,
                api,
                work,
                name="memory",
                oauth=True,
                extra_env={"SEND_RATE_PER_WORKSPACE": "50", "TICK_SECONDS": args.tick_seconds},
            )
            try:
                pid = service.proc.pid
                idle, _ = rss_kib(pid)
                if datetime.now(UTC) > slot:
                    print("warning: the slot passed before the service was up")
                print(f"service up, RSS {idle / 1024:.0f} MB; waiting for the slot ...")
                deadline = slot.timestamp() + args.timeout
                peak = idle
                posts = 0
                while time.time() < deadline and service.running:
                    _current, peak = rss_kib(pid)
                    stats = await fake_stats(api)
                    posts = stats["posts"]
                    if posts >= managers:
                        break
                    await asyncio.sleep(0.5)
                _current, peak = rss_kib(pid)
                finished = time.time() - slot.timestamp()
            finally:
                await service.stop()
    print()
    print(
        f"memory ({args.store}): {people} people, {managers} managers, "
        f"{args.workspaces} workspaces; {posts} of {managers} nudges sent "
        f"{finished:.0f} s after the slot"
    )
    print(f"  RSS idle after start: {idle / 1024:.0f} MB")
    print(f"  peak RSS (VmHWM):     {peak / 1024:.0f} MB   (target < {TARGET_MB} MB)")


def parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--managers", type=int, default=1000, help="per workspace")
    parser.add_argument("--members", type=int, default=9, help="per manager")
    parser.add_argument("--store", choices=["sqlite", "pg"], default="pg")
    parser.add_argument("--pg-url", default=default_pg("memory"))
    parser.add_argument("--tick-seconds", default="5")
    parser.add_argument("--lead", type=float, default=0.0, help="extra seconds before the slot")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds after the slot")
    parser.add_argument("--quick", action="store_true", help="a tenth of the org")
    args = parser.parse_args()
    if args.quick:
        args.managers //= 10
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
