"""Time seeding the sandbox with its played past (History), on a scratch SQLite database.

Usage: .venv/bin/python bench/sandbox_seed.py [--weeks 4] [--runs 3]

Builds the sandbox edge the way `nudgebot serve` does, seeds the demo organisation with
--weeks of history played by the real dispatcher and click paths, and prints the wall time of
each run, the ticks it took and the answers the demo people gave, next to the target.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.sandbox.clock import SandboxClock
from bot.sandbox.edge import SandboxEdge
from nudges.coaching.interactions import Interactions
from nudges.content.catalogue import default_catalogue
from nudges.services import Services
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.migrate import upgrade

TARGET = 5.0


async def run(weeks: int) -> tuple[float, int]:
    """Seed once into a fresh database; return (seconds, ticks)."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'sandbox.sqlite3'}")
        await upgrade(db.engine)
        clock = SandboxClock(movable=True)
        catalogue = default_catalogue()
        dispatcher = Dispatcher(db, clock, catalogue, {}, EngineConfig(send_rate_per_workspace=50))
        services = Services(
            db=db,
            clock=clock,
            catalogue=catalogue,
            dispatcher=dispatcher,
            interactions=Interactions(dispatcher, catalogue),
        )
        edge = SandboxEdge(services, clock, history_weeks=weeks)
        ticks = 0
        tick = dispatcher.tick

        async def counted() -> object:
            nonlocal ticks
            ticks += 1
            return await tick()

        dispatcher.tick = counted  # type: ignore[method-assign]
        started = time.monotonic()
        await edge.workspace()
        elapsed = time.monotonic() - started
        await db.dispose()
        return elapsed, ticks


def main() -> None:
    """Run the benchmark and print a line per run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for number in range(1, args.runs + 1):
        seconds, ticks = asyncio.run(run(args.weeks))
        verdict = "ok" if seconds <= TARGET else "over"
        print(
            f"run {number}: seeding with {args.weeks} week(s) of history took {seconds:.2f} s "
            f"({ticks} ticks); target <= {TARGET:.0f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
