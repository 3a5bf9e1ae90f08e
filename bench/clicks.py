"""Fire a burst of signed pulse clicks at the real service and at a bare Bolt app, same run.

Usage: .venv/bin/python bench/clicks.py [--clicks 2000] [--clients 100] [--store sqlite|pg]
       .venv/bin/python bench/clicks.py --quick      (500 clicks)

Stores one workspace (50 teams of 10, pulse on, working round the clock), starts the fake Slack
(its own process, --latency-ms per call) and `nudgebot serve`; an admin runs `/nudges pulse now`
(signed, as Slack sends it) and the service sends every member their poll. The benchmark then
reads the answer buttons from the posted messages and sends --clicks signed block_actions
(several per member, shuffled) from --clients concurrent clients: first to a bare Bolt app that
only acknowledges (bench/_bare_bolt.py, its own process), then to the service. It prints the
acknowledgement latencies, the throughput of each and their ratio, and what the store kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    ROOT,
    build_org,
    default_pg,
    fake_slack,
    fake_stats,
    py_spy,
    scratch_database,
    table,
)
from sqlalchemy import func, select

from nudges.pulse import sealing
from nudges.store.database import Database
from nudges.store.org import Person
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePending
from tests.bot.slack.app_harness import form_body, payload_body, signed_headers
from tests.fault.harness import SECRET, TEAM, start_service, wait_for

TARGET_P99_MS = 300.0
TARGET_RATIO = 0.7
ADMIN = "UM000000000"


async def _post_json(url: str, body: Any) -> Any:
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as r:
        return await r.json()


async def _get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return await r.json()


async def _slash(base: str, api_root: str, text: str) -> int:
    fields = {
        "token": "x",
        "team_id": TEAM,
        "team_domain": "bench",
        "user_id": ADMIN,
        "user_name": "admin",
        "channel_id": "D0ADMIN01",
        "channel_name": "directmessage",
        "command": "/nudges",
        "text": text,
        "api_app_id": "A0BENCH",
        "response_url": f"{api_root}/hooks/commands/{TEAM}/bench",
        "trigger_id": "1.2.3",
    }
    body = form_body(fields)
    headers = {
        **signed_headers(body, secret=SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/slack/events", data=body, headers=headers) as r,
    ):
        return r.status


def click_payloads(messages: Sequence[dict[str, Any]], api_root: str) -> list[dict[str, Any]]:
    """Return one click payload per answer button of every poll message, grouped by round."""
    per_message: list[list[dict[str, Any]]] = []
    for message in messages:
        blocks = message.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        buttons = [
            (block.get("block_id", ""), element)
            for block in blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            # The renderer numbers repeated action ids: pulse.answer, pulse.answer#2, ...
            if str(element.get("action_id", "")).split("#")[0] == "pulse.answer"
        ]
        if not buttons or not message.get("recipient"):
            continue
        clicks = []
        # A millisecond apart, so each member's clicks have distinct times and one is the last.
        stamp = time.time()
        for n, (block_id, element) in enumerate(buttons):
            clicks.append(
                {
                    "type": "block_actions",
                    "team": {"id": TEAM, "domain": "bench"},
                    "user": {"id": message["recipient"], "team_id": TEAM},
                    "api_app_id": "A0BENCH",
                    "trigger_id": "4.5.6",
                    "container": {
                        "type": "message",
                        "message_ts": message["ts"],
                        "channel_id": message["channel"],
                        "is_ephemeral": False,
                    },
                    "channel": {"id": message["channel"]},
                    "message": {"ts": message["ts"], "text": message.get("text", "")},
                    "response_url": f"{api_root}/hooks/actions/{TEAM}/bench",
                    "actions": [
                        {
                            "type": "button",
                            "action_id": element["action_id"],
                            "block_id": block_id,
                            "value": element["value"],
                            "action_ts": f"{stamp + n / 1000:.6f}",
                        }
                    ],
                }
            )
        per_message.append(clicks)
    return [c for group in per_message for c in group]


async def burst(base: str, bodies: Sequence[bytes], clients: int) -> tuple[list[float], int, float]:
    """Send every body from ``clients`` concurrent clients; return latencies, failures, wall."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    failures = 0
    connector = aiohttp.TCPConnector(limit=clients)

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while queue:
            body = queue.pop()
            headers = {
                **signed_headers(body, secret=SECRET),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            started = time.perf_counter()
            try:
                async with session.post(f"{base}/slack/events", data=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok

    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - started
    return latencies, failures, wall


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def summary(label: str, latencies: list[float], failures: int, wall: float) -> list[object]:
    """Return a table row: p50, p95, p99 in ms, throughput, failures."""
    qs = statistics.quantiles(latencies, n=100, method="inclusive")
    return [
        label,
        len(latencies),
        f"{qs[49] * 1000:.0f}",
        f"{qs[94] * 1000:.0f}",
        f"{qs[98] * 1000:.0f}",
        f"{len(latencies) / wall:.0f}",
        failures,
    ]


async def _bare_app() -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "_bare_bolt.py"),
        SECRET,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    url = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode().strip()
    return proc, url


async def stored_answers(url: str) -> int:
    """Count the pulse answers the store holds: sealed while the poll is open, clear after."""
    db = Database(url)
    try:
        async with db.session() as session:
            clear = await session.scalar(select(func.count()).select_from(PulseAnswer))
            sealed = await session.scalar(select(func.count()).select_from(PulsePending))
            return int(clear or 0) + int(sealed or 0)
    finally:
        await db.dispose()


async def last_clicks_stored(url: str, chosen: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Count the members whose stored answer is their last click (by its time), of those asked.

    Open polls keep answers sealed under a key derived from the signing secret, which the
    benchmark shares with the service; the answers are opened here only to compare them.
    """
    last: dict[str, tuple[float, int]] = {}
    for click in chosen:
        action = click["actions"][0]
        at, value = float(action["action_ts"]), int(str(action["value"]).split(":")[-1])
        user = click["user"]["id"]
        if user not in last or at > last[user][0]:
            last[user] = (at, value)
    sealer = sealing.Sealer.from_secret(SECRET)
    db = Database(url)
    try:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(
                        Person.external_id,
                        PulsePending.poll_id,
                        PulsePending.participation_id,
                        PulsePending.sealed,
                    )
                    .join(
                        PulseParticipation,
                        PulseParticipation.id == PulsePending.participation_id,
                    )
                    .join(Person, Person.id == PulseParticipation.person_id)
                )
            ).all()
    finally:
        await db.dispose()
    stored = {user: sealer.open(poll, part, sealed) for user, poll, part, sealed in rows}
    return sum(1 for user, (_, value) in last.items() if stored.get(user) == value), len(last)


async def settled_calls(api: str, quiet: float = 2.0, limit: float = 60.0) -> dict[str, int]:
    """Return the fake's call counts once they stop moving for ``quiet`` seconds."""
    calls: dict[str, int] = {}
    still, waited = 0.0, 0.0
    while still < quiet and waited < limit:
        now_calls = dict((await fake_stats(api))["requests"])
        still = still + 0.5 if now_calls == calls else 0.0
        calls = now_calls
        await asyncio.sleep(0.5)
        waited += 0.5
    return calls


async def main(args: argparse.Namespace) -> None:
    """Set up, send the polls, fire both bursts, print."""
    with tempfile.TemporaryDirectory(prefix="bench-clicks-") as tmp:
        work = Path(tmp)
        url = await scratch_database(args.store, args.pg_url, work)
        far = (datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0)
        await build_org(
            url, workspaces=1, managers=args.teams, members_per_manager=10, slot=far, pulse=True
        )
        members = args.teams * 10
        async with fake_slack("--latency-ms", str(args.latency_ms)) as api:
            api_root = api.removesuffix("/api/")
            users = {ADMIN: {"is_admin": True, "tz": "UTC"}}
            for m in range(args.teams):
                users.update({f"UP000{m:06d}{k:03d}": {"tz": "UTC"} for k in range(10)})
            await _post_json(f"{api_root}/_fake/users", users)
            service = await start_service(
                url, api, work, name="clicks", extra_env={"TICK_SECONDS": "5"}
            )
            bare_proc, bare_url = await _bare_app()
            try:
                status = await _slash(service.base, api_root, "pulse now")
                print(f"/nudges pulse now answered {status}; waiting for {members} polls ...")

                async def polls_sent() -> bool:
                    return bool((await fake_stats(api))["posts"] >= members)

                if not await wait_for(polls_sent, args.timeout, every=1.0):
                    print(f"only {(await fake_stats(api))['posts']} polls arrived")
                messages = await _get_json(f"{api_root}/_fake/messages")
                clicks = click_payloads(messages, api_root)
                rng = random.Random(8)
                rng.shuffle(clicks)
                chosen = clicks[: args.clicks]
                bodies = [payload_body(c) for c in chosen]
                # A member clicked at least once is a member whose answer must be stored.
                clicked = len({c["user"]["id"] for c in chosen})
                print(f"{len(bodies)} clicks from {len(messages)} poll messages")
                await burst(bare_url, bodies[:50], 10)
                bare_cpu = cpu_seconds(bare_proc.pid)
                bare = await burst(bare_url, bodies, args.clients)
                bare_cpu = cpu_seconds(bare_proc.pid) - bare_cpu
                bare_row = summary("bare Bolt app (ack only)", *bare)
                await asyncio.sleep(1)
                spy = await py_spy(service.proc.pid, args.profile) if args.profile else None
                service_cpu = cpu_seconds(service.proc.pid)
                real = await burst(service.base, bodies, args.clients)
                after_cpu = cpu_seconds(service.proc.pid)
                service_cpu = after_cpu - service_cpu
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
                    spy = await py_spy(service.proc.pid, args.profile + ".after", settle=0)
                service_row = summary("nudgebot serve", *real)
                # Work done after the ack (storing, message update, Home) may still be running:
                # count until every clicker's answer is there or nothing moved for 10 s.
                answers, still, waited = -1, 0.0, 0.0
                while waited < 90 and still < 10:
                    await asyncio.sleep(1)
                    waited += 1
                    now_stored = await stored_answers(url)
                    still = still + 1 if now_stored == answers else 0.0
                    answers = now_stored
                    if answers >= clicked:
                        break
                print(f"  answers counted {waited:.0f} s after the burst")
                after_cpu = cpu_seconds(service.proc.pid) - after_cpu
                per_click = 1000 / len(bodies)
                print(
                    f"  CPU per click: bare app {bare_cpu * per_click:.2f} ms; service "
                    f"{service_cpu * per_click:.2f} ms during its burst, "
                    f"{after_cpu * per_click:.2f} ms after it"
                )
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
                calls = await settled_calls(api)
                print(f"  Slack calls seen: {calls}")
                notices = await _get_json(f"{api_root}/_fake/ephemerals")
                clicked_in = {c["channel"]["id"] for c in chosen}
                noted = len({n.get("channel") for n in notices} & clicked_in)
                last_ok, asked = await last_clicks_stored(url, chosen)
                print(
                    f"  members who clicked: {asked}; their last click stored: {last_ok}; "
                    f"shown a note (their choice or 'try again'): {noted}"
                )
                texts = sorted({str(n.get("text", ""))[:120] for n in notices})
                print(f"  ephemeral notices and replies: {len(notices)}, e.g. {texts[:3]}")
                log = service.log().splitlines()
                errors = sum(1 for line in log if " ERROR " in line or "Traceback" in line)
                # What went wrong, briefly: the first ERROR lines and the commonest exceptions.
                for line in [line for line in log if " ERROR " in line][:3]:
                    print("  service log:", line[:200])
                raised = Counter(
                    line.split(":")[0]
                    for line in log
                    if line
                    and not line[0].isspace()
                    and ("Error" in line or "Exception" in line)
                    and not line[:2].isdigit()
                )
                for name, count in raised.most_common(3):
                    print(f"  raised {count} x: {name[:150]}")
            finally:
                await service.stop()
                bare_proc.terminate()
                await bare_proc.wait()
    ratio = float(service_row[5]) / float(bare_row[5])
    print()
    print(
        f"clicks ({args.store}): {len(bodies)} signed pulse clicks, {args.clients} concurrent "
        f"clients, fake Slack {args.latency_ms:g} ms per call"
    )
    header = ["target", "clicks", "p50 ms", "p95 ms", "p99 ms", "clicks/s", "failed"]
    print(table(header, [bare_row, service_row]))
    print(
        f"service p99 {service_row[4]} ms (target < {TARGET_P99_MS:.0f}); throughput ratio "
        f"{ratio:.2f} (target ≥ {TARGET_RATIO}); answers stored {answers} for {clicked} members "
        f"who clicked (of {members}; target: all), the last click for {last_ok}, a note for "
        f"{noted}; ERROR/Traceback lines in the service log: {errors}"
    )


def parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--teams", type=int, default=50, help="teams of 10 members")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--store", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--pg-url", default=default_pg("clicks"))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the polls")
    parser.add_argument("--quick", action="store_true", help="500 clicks")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the service during its burst into FILE, and after it into FILE.after "
        "(folded stacks; pip install py-spy)",
    )
    args = parser.parse_args()
    if args.quick:
        args.clicks = 500
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
