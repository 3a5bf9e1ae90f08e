"""Measure the scheduler tick at organisation scale and print the figures.

Usage: .venv/bin/python bench/bench_tick.py [--managers 1000] [--reports 6] [--database URL]

Builds an organisation in a fresh database, then times: an idle tick (nothing due), the tick at
the weekly slot that plans and sends one nudge per manager through an in-memory messenger, and a
tick right after (everything already planned). Peak Python memory is read with tracemalloc.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nudges.content.catalogue import default_catalogue
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.migrate import downgrade, upgrade
from nudges.store.org import Person, ReportingLine, Workspace
from tests.fakes.memory_messenger import InMemoryMessenger

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SLOT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 Amsterdam


async def build(db: Database, managers: int, reports: int) -> None:
    async with db.session() as s:
        ws = Workspace(platform="slack", external_id="TBENCH", created_at=MONDAY)
        s.add(ws)
        await s.flush()
        people = [
            Person(workspace_id=ws.id, external_id=f"U{i:07d}", created_at=MONDAY)
            for i in range(managers * (reports + 1))
        ]
        s.add_all(people)
        await s.flush()
        lines = []
        for m in range(managers):
            boss = people[m * (reports + 1)]
            for r in range(1, reports + 1):
                member = people[m * (reports + 1) + r]
                lines.append(
                    ReportingLine(workspace_id=ws.id, manager_id=boss.id, member_id=member.id)
                )
        s.add_all(lines)
        await s.commit()


async def timed(label: str, dispatcher: Dispatcher) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    result = await dispatcher.tick()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label:<28} {elapsed * 1000:9.0f} ms   planned {result.planned:5d}   "
        f"sent {result.sent:5d}   peak {peak / 1e6:6.1f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=6)
    parser.add_argument("--database", help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db = Database(url)
        if args.database:
            await downgrade(db.engine, "base")
        await upgrade(db.engine)
        await build(db, args.managers, args.reports)
        clock = FakeClock(MONDAY)
        messenger = InMemoryMessenger()
        config = EngineConfig(send_rate_per_workspace=1_000_000, batch_size=500)
        dispatcher = Dispatcher(db, clock, default_catalogue(), {"slack": messenger}, config)
        print(
            f"{db.engine.dialect.name}: {args.managers} managers x {args.reports} reports "
            f"({args.managers * (args.reports + 1)} people)"
        )
        await timed("idle tick (nothing due)", dispatcher)
        clock.set(SLOT)
        await timed("tick at the weekly slot", dispatcher)
        clock.advance(timedelta(minutes=1))
        await timed("next tick (all planned)", dispatcher)
        assert len(messenger.sent) == args.managers, "every manager gets exactly one nudge"
        if args.database:
            await downgrade(db.engine, "base")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
