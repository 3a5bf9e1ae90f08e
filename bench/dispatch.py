"""Time how fast the real service gets a slot's nudges into a rate-limited fake Slack.

Usage: .venv/bin/python bench/dispatch.py [--workspaces 20] [--managers 500] [--reports 3]
           [--database sqlite,pg,URL] [--processes 1] [--mode backlog,realistic]
       .venv/bin/python bench/dispatch.py --quick        (50 managers per workspace)

Two modes, run one after the other on a fresh database each and printed side by side:

- backlog: WORKSPACES OAuth-installed workspaces and one explicit message per manager (what
  `/nudges test` stores), moved to a slot 3 s after the services are up. Nothing is planned at
  the slot: this is the pace of sending alone.
- realistic: the same workspaces, each with MANAGERS managers leading REPORTS people each (so
  coffee check-ins have someone to be about), no cadence yet; once the services are up, each
  workspace's admin sends a signed `/nudges cadence workspace weekdays HH:MM` --lead seconds
  before the slot HH:MM. The service plans every manager's nudge with the real planner and
  sends it: planning, composing and sending are all in the time.

Both start the fake Slack as its own process (--latency-ms, --rate messages/s per workspace
with a small burst, 429 + Retry-After beyond it) and `nudgebot serve` (--processes of them),
and wait until every manager has a message and the store holds nothing pending or sending
that fell due by the slot. The ideal is what the rate limit allows: managers / (workspaces x
rate). Planning is read from the store: when the slot's rows were stored, against the slot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from _common import (
    build_org,
    default_pg,
    fake_slack,
    fake_stats,
    py_spy,
    rss_kib,
    scratch_database,
    table,
)
from _slot import (
    WEEKDAYS,
    Planning,
    cadences_stored,
    due_statuses,
    managers_of,
    next_slot,
    planning,
    set_cadences,
    spread,
    weekday_zone,
)
from sqlalchemy import update

from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.fault.harness import (
    Service,
    install_workspaces,
    seed_backlog,
    start_service,
    team_id,
    workspace_token,
)

TARGET_RATIO = {"sqlite": 1.5, "postgresql": 1.15}
TARGET_FIRST = 5.0
TARGET_RSS_MB = 300
LEAD = 3.0  # backlog: seconds from the services being up to the slot
POLL = 0.2  # seconds between looks at the fake's counters while sending


async def move_due(url: str, slot: datetime) -> None:
    """Make the whole backlog fall due at ``slot``."""
    db = Database(url)
    try:
        async with db.session() as session:
            await session.execute(update(Delivery).values(scheduled_at=slot, next_attempt_at=slot))
            await session.commit()
    finally:
        await db.dispose()


@dataclass
class Watch:
    """What the fake and the services showed while the slot's nudges went out."""

    slot: datetime
    due: list[str]
    first_by_workspace: dict[str, float] = field(default_factory=dict)
    peak_kib: int = 0
    stats: dict[str, object] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)


async def watch(
    url: str,
    api: str,
    services: list[Service],
    slot: datetime,
    due: list[str],
    workspaces: int,
    limit: float,
) -> Watch:
    """Poll until every due manager has a message and the slot's rows are settled."""
    seen = Watch(slot, due)
    tokens = {workspace_token(w): team_id(w) for w in range(workspaces)}
    deadline = slot.timestamp() + limit
    while time.time() < deadline:
        # The summary while sending: the full maps are counted once, at the end.
        summary = await fake_stats(api, summary=True)
        now = time.time() - slot.timestamp()
        for token, posts in summary["by_workspace"].items():
            if posts and token not in seen.first_by_workspace:
                seen.first_by_workspace[tokens.get(token, token)] = now
        for service in services:
            if service.running:
                seen.peak_kib = max(seen.peak_kib, rss_kib(service.proc.pid)[1])
        if summary["recipients"] >= len(due):
            statuses = await due_statuses(url, slot)
            if not statuses.keys() - {"sent", "failed", "cancelled"}:
                break
        await asyncio.sleep(POLL)
    # A late duplicate would show up just after everything looked settled.
    await asyncio.sleep(1.0)
    for service in services:
        if service.running:
            seen.peak_kib = max(seen.peak_kib, rss_kib(service.proc.pid)[1])
    seen.stats = await fake_stats(api)
    seen.statuses = await due_statuses(url, slot)
    return seen


async def start_services(
    url: str, api: str, workdir: Path, label: str, args: argparse.Namespace
) -> list[Service]:
    """Start --processes `nudgebot serve` processes with the benchmark's settings."""
    extra: dict[str, str | None] = {
        "SEND_RATE_PER_WORKSPACE": args.send_rate or None,
        "TICK_SECONDS": args.tick_seconds or None,
    }
    return [
        await start_service(url, api, workdir, name=f"{label}-{i}", oauth=True, extra_env=extra)
        for i in range(args.processes)
    ]


async def run_backlog(url: str, api: str, workdir: Path, args: argparse.Namespace) -> Watch:
    """The pre-stored backlog: one explicit message per manager, moved to the slot."""
    later = datetime.now(UTC) + timedelta(days=1)
    seeded = await seed_backlog(url, args.nudges, workspaces=args.workspaces, due_at=later)
    due = [u for users in seeded.values() for u in users]
    services = await start_services(url, api, workdir, "backlog", args)
    try:
        spy = await profiler(services[0], args, "backlog")
        slot = datetime.now(UTC) + timedelta(seconds=LEAD)
        await move_due(url, slot)
        seen = await watch(url, api, services, slot, due, args.workspaces, args.timeout)
        await stop_profiler(spy)
    finally:
        for service in services:
            await service.stop()
    return seen


async def run_realistic(url: str, api: str, workdir: Path, args: argparse.Namespace) -> Watch:
    """The org's admins set a weekday cadence --lead seconds before the slot; wait it out."""
    # Where the slot is a weekday, judged for a slot a few minutes ahead (checked again below).
    zone = weekday_zone(next_slot(args.lead + 300))
    await build_org(
        url,
        workspaces=args.workspaces,
        managers=args.managers,
        members_per_manager=args.reports,
        slot=datetime.now(UTC),
        zone=zone,
        cadence=False,
        # Imported just now: the product's default cadence has no past occurrence to catch up.
        created_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    due = [u for w in range(args.workspaces) for u in managers_of(w, args.managers)]
    api_root = api.removesuffix("/api/")
    admins = {
        managers_of(w, 1)[0]: {"is_admin": True, "tz": zone, "team_id": team_id(w)}
        for w in range(args.workspaces)
    }
    async with aiohttp.ClientSession() as session:
        await session.post(f"{api_root}/_fake/users", json=admins)
    services = await start_services(url, api, workdir, "realistic", args)
    try:
        slot = next_slot(args.lead)
        if slot.astimezone(ZoneInfo(zone)).weekday() not in WEEKDAYS:
            raise SystemExit(f"the slot {slot:%a %H:%M} UTC fell on a weekend in {zone}; run again")
        at = f"{slot.astimezone(ZoneInfo(zone)):%H:%M}"
        await asyncio.sleep(max(0.0, slot.timestamp() - args.lead - time.time()))
        answers = await set_cadences(services[0].base, api_root, args.workspaces, zone, slot)
        bad = [(status, body[:200]) for status, body in answers if status != 200]
        stored = await cadences_stored(url, at)
        print(
            f"  cadence `weekdays {at}` ({zone}) set by {args.workspaces} admins "
            f"{slot.timestamp() - time.time():.1f} s before the slot; stored for {stored}"
            + (f"; refused: {bad[:3]}" if bad else "")
        )
        spy = await profiler(services[0], args, "realistic")
        seen = await watch(url, api, services, slot, due, args.workspaces, args.timeout)
        await stop_profiler(spy)
    finally:
        for service in services:
            await service.stop()
    return seen


async def profiler(
    service: Service, args: argparse.Namespace, mode: str
) -> asyncio.subprocess.Process | None:
    """Start py-spy on the service into FILE.<mode> when --profile FILE asks; else None."""
    if not args.profile:
        return None
    out = f"{args.profile}.{mode}"
    print(f"  py-spy into {out}")
    return await py_spy(service.proc.pid, out, settle=0.5)


async def stop_profiler(spy: asyncio.subprocess.Process | None) -> None:
    """Stop py-spy so it writes its file."""
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


async def run_one(
    store: str, url: str, mode: str, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """Measure one mode on one store; return its figures."""
    kind = "sqlite" if store == "sqlite" else "pg"
    url = await scratch_database(kind, url, workdir)
    await install_workspaces(url, args.workspaces)
    async with fake_slack(*fake_args(args)) as api:
        run = run_backlog if mode == "backlog" else run_realistic
        seen = await run(url, api, workdir, args)
    plan = await planning(url, seen.slot)
    return figures(store, mode, seen, plan, args)


def fake_args(args: argparse.Namespace) -> list[str]:
    """Return the fake Slack's command line: latency, rate and burst."""
    return [
        "--latency-ms",
        str(args.latency_ms),
        "--rate",
        str(args.rate),
        "--burst",
        str(args.burst),
    ]


def figures(
    store: str, mode: str, seen: Watch, plan: Planning, args: argparse.Namespace
) -> dict[str, Any]:
    """Count one run: times in seconds from the slot, messages per manager, planning."""
    got = seen.stats["by_recipient"]
    assert isinstance(got, dict)
    due = set(seen.due)
    slot = seen.slot.timestamp()
    label = "SQLite" if store == "sqlite" else "PostgreSQL"
    if args.processes > 1:
        label += f", {args.processes} processes"
    return {
        "store": label,
        "dialect": "sqlite" if store == "sqlite" else "postgresql",
        "mode": mode,
        "due": len(due),
        "lost": sum(1 for u in due if not got.get(u)),
        "duplicates": sum(max(0, got.get(u, 0) - 1) for u in due),
        "strays": sum(n for u, n in got.items() if u not in due),
        "first_post": float(seen.stats["first_post_at"] or math.nan) - slot,  # type: ignore[arg-type]
        "last_post": float(seen.stats["last_post_at"] or math.nan) - slot,  # type: ignore[arg-type]
        "ideal": len(due) / (args.workspaces * args.rate),
        # Polled, so each is an upper bound by up to POLL plus a read of the fake's counters.
        "first_post_by_workspace": {
            team_id(w): seen.first_by_workspace.get(team_id(w)) for w in range(args.workspaces)
        },
        "rows": plan.rows,
        "rows_ahead": plan.before_slot,
        "planning_done": plan.done_after,
        "last_row_by_workspace": {team: last for team, (_f, last) in plan.spans.items()},
        "ratelimited": seen.stats["ratelimited"],
        "peak_rss_mb": seen.peak_kib / 1024,
        "statuses": dict(sorted(seen.statuses.items())),
    }


def row(fig: dict[str, Any], args: argparse.Namespace) -> list[object]:
    """Render one run's figures as a table row, each next to its target."""
    finished = fig["lost"] == 0
    last, ideal = fig["last_post"], fig["ideal"]
    firsts = [math.inf if t is None else t for t in fig["first_post_by_workspace"].values()]
    if fig["rows_ahead"] == fig["rows"]:
        planned = f"all {fig['rows']} stored ahead"
    else:
        planned = f"+{fig['planning_done']:.1f} s ({fig['rows_ahead']} of {fig['rows']} ahead)"
    strays = f", {fig['strays']} to others" if fig["strays"] else ""
    return [
        fig["store"],
        fig["mode"],
        f"{last:.1f} s" if finished else f"unfinished after {args.timeout:.0f} s",
        f"{ideal:.1f} s",
        f"{last / ideal:.2f} (≤ {TARGET_RATIO[fig['dialect']]})" if finished else "–",
        f"{fig['first_post']:.1f} s",
        f"{max(firsts):.1f} s (≤ {TARGET_FIRST:.0f})",
        planned,
        f"{fig['duplicates']} (0){strays}",
        f"{fig['lost']} (0)",
        fig["ratelimited"],
        f"{fig['peak_rss_mb']:.0f} MB (< {TARGET_RSS_MB})",
        fig["statuses"],
    ]


def detail_row(fig: dict[str, Any]) -> list[object]:
    """Render one run's per-workspace spread as a table row."""
    firsts = [t for t in fig["first_post_by_workspace"].values() if t is not None]
    return [
        fig["store"],
        fig["mode"],
        spread(firsts),
        len(fig["first_post_by_workspace"]) - len(firsts),
        spread(list(fig["last_row_by_workspace"].values())),
    ]


HEADER = [
    "store",
    "mode",
    "total (slot → last post)",
    "rate-limit ideal",
    "ratio (target)",
    "first post",
    "last workspace's first post (target)",
    "planning done (slot → last row stored)",
    "duplicates",
    "lost",
    "429s seen",
    "peak RSS (target)",
    "due rows after",
]
DETAIL = [
    "store",
    "mode",
    "first post per workspace (min / median / max, polled)",
    "workspaces without a post",
    "last row stored per workspace (min / median / max; < 0: before the slot)",
]


def stores(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Return (label, URL) for each --database entry: sqlite, pg (--pg-url) or a URL."""
    out = []
    for entry in args.database.split(","):
        if entry == "sqlite" or entry.startswith("sqlite"):
            out.append(("sqlite", ""))
        elif entry == "pg":
            out.append(("pg", args.pg_url))
        else:
            out.append(("pg", entry))
    return out


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run every chosen store and mode one after another, print the tables, return the rows."""
    found = []
    keep = tempfile.mkdtemp(prefix="bench-dispatch-") if args.keep else None
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        work = Path(keep or tmp)
        if keep:
            print(f"service logs kept in {keep}")
        for store, url in stores(args):
            for mode in args.mode.split(","):
                print(
                    f"{store} {mode}: {args.managers} managers in each of {args.workspaces} "
                    "workspaces ..."
                )
                started = time.monotonic()
                found.append(await run_one(store, url, mode, args, work))
                print(f"  done in {time.monotonic() - started:.0f} s wall: {row(found[-1], args)}")
    print()
    print(
        f"dispatch: {args.nudges} nudges due at one slot, {args.workspaces} workspaces of "
        f"{args.managers} managers ({args.reports} reports each in the realistic mode), "
        f"{args.processes} service process(es), fake Slack {args.latency_ms:g} ms latency, "
        f"{args.rate:g} msg/s per workspace (burst {args.burst}), "
        f"SEND_RATE_PER_WORKSPACE={args.send_rate or 'default'}, "
        f"TICK_SECONDS={args.tick_seconds or 'default'}; realistic cadence set {args.lead:g} s "
        "before the slot"
    )
    print(table(HEADER, [row(fig, args) for fig in found]))
    print()
    print(table(DETAIL, [detail_row(fig) for fig in found]))
    return found


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=20)
    parser.add_argument("--managers", type=int, default=500, help="per workspace")
    parser.add_argument("--reports", type=int, default=3, help="per manager (realistic mode)")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="comma list of: sqlite (a scratch file), pg (--pg-url), or a PostgreSQL URL; "
        "each PostgreSQL database is dropped and recreated",
    )
    parser.add_argument("--pg-url", default=default_pg("dispatch"))
    parser.add_argument("--processes", type=int, default=1, help="service processes")
    parser.add_argument("--mode", default="backlog,realistic", help="backlog, realistic or both")
    parser.add_argument("--lead", type=float, default=30.0, help="cadence set this long before")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=20.0, help="fake Slack msg/s per workspace")
    parser.add_argument("--burst", type=int, default=3)
    parser.add_argument(
        "--send-rate", default="50", help="SEND_RATE_PER_WORKSPACE ('' keeps the default)"
    )
    parser.add_argument("--tick-seconds", default="", help="TICK_SECONDS ('' keeps the default)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds after the slot")
    parser.add_argument("--keep", action="store_true", help="keep the services' logs")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--quick", action="store_true", help="50 managers per workspace")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the first service from the slot on into FILE.<mode> (folded stacks; "
        "pip install py-spy)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.managers = 50
    args.nudges = args.managers * args.workspaces
    for mode in args.mode.split(","):
        if mode not in ("backlog", "realistic"):
            parser.error(f"--mode takes backlog, realistic or both, not {mode!r}")
    return args


if __name__ == "__main__":
    options = parse()
    results = asyncio.run(main(options))
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
